from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "tongban.services"
    label = "services"
    verbose_name = "Service catalog"
