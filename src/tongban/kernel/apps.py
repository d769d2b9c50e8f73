from django.apps import AppConfig
from django.core import checks


class KernelConfig(AppConfig):
    name = "tongban.kernel"
    label = "kernel"
    verbose_name = "Kernel"

    def ready(self) -> None:
        from tongban.kernel.checks import check_calendar_loaded

        checks.register(check_calendar_loaded, checks.Tags.database)
