"""The admin site, reachable only by platform staff who signed in with their second factor."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode


class TongbanAdminSite(admin.AdminSite):
    site_header = "Tongban administration"
    site_title = "Tongban admin"

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(super().has_permission(request) and request.session.get("second_factor"))

    def login(self, request: HttpRequest, extra_context: dict[str, object] | None = None) -> HttpResponse:
        # The admin's own password-only form would bypass TOTP: send staff to
        # the workbench sign-in instead.
        target = request.GET.get("next", reverse("admin:index"))
        return redirect(f"{reverse('identity:officer_sign_in')}?{urlencode({'next': target})}")


class TongbanAdminConfig(AdminConfig):
    default_site = "tongban.workbench.admin_site.TongbanAdminSite"
