"""The admin site, reachable only by platform staff who signed in with their second factor."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from tongban.kernel import audit

_View = TypeVar("_View", bound=Callable[..., Any])


class TongbanAdminSite(admin.AdminSite):
    site_header = "Tongban administration"
    site_title = "Tongban admin"

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(super().has_permission(request) and request.session.get("second_factor"))

    def admin_view(self, view: _View, cacheable: bool = False) -> _View:
        """Wrap every admin page so that each use of the admin is audited."""
        protected = super().admin_view(view, cacheable)

        @wraps(protected)
        def audited(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            response = protected(request, *args, **kwargs)
            if request.user.is_authenticated and self.has_permission(request):
                audit.record(
                    "admin.request",
                    actor=request.user,
                    target=request.path[:200],
                    result="success" if response.status_code < 400 else "failure",
                    details={"method": request.method, "status": response.status_code},
                )
            return response

        return cast(_View, audited)

    def login(self, request: HttpRequest, extra_context: dict[str, object] | None = None) -> HttpResponse:
        # The admin's own password-only form would bypass TOTP: send staff to
        # the workbench sign-in instead.
        target = request.GET.get("next", reverse("admin:index"))
        return redirect(f"{reverse('identity:officer_sign_in')}?{urlencode({'next': target})}")
