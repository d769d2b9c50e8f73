"""Request middleware shared by every page and API route."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tongban.kernel.context import current_source_address


def client_address(request: HttpRequest) -> str:
    """Return the client's address, believing X-Forwarded-For only from trusted proxies."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    if forwarded and remote in settings.TRUSTED_PROXIES:
        return forwarded.split(",")[0].strip()
    return remote


class ClientAddressMiddleware:
    """Make the client address available to the audit chain for this request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_source_address.set(client_address(request))
        try:
            return self.get_response(request)
        finally:
            current_source_address.reset(token)


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy from settings (no inline scripts allowed)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
