from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "tongban.workbench"
    label = "workbench"
