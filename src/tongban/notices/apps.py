from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "tongban.notices"
    label = "notices"
    verbose_name = "Notices"
