from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "tongban.credentials"
    label = "credentials"
    verbose_name = "E-licences and e-seals"
