from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo region: seeding and listing demo accounts (top of the stack)."""

    name = "tongban.demo"
    label = "demo"
