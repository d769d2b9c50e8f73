from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class WorkbenchConfig(AppConfig):
    name = "tongban.workbench"
    label = "workbench"
    default = True


class TongbanAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on a site that requires the officer's second factor."""

    default = False
    default_site = "tongban.workbench.admin_site.TongbanAdminSite"
