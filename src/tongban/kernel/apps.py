from django.apps import AppConfig


class KernelConfig(AppConfig):
    name = "tongban.kernel"
    label = "kernel"
    verbose_name = "Kernel"
