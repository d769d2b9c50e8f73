from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "tongban.identity"
    label = "identity"
    verbose_name = "Unified identity"
