"""Request middleware shared by every page and API route."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from tongban.kernel.context import current_source_address


def client_address(request: HttpRequest) -> str:
    """Return the client's address, believing X-Forwarded-For only from trusted proxies.

    Each proxy appends the address it received the request from, so the list is
    read from the right: the first address that is not a trusted proxy is the
    client. Entries left of it were written by the client and may be forged.
    """
    remote = str(request.META.get("REMOTE_ADDR", ""))
    trusted = settings.TRUSTED_PROXIES
    if remote not in trusted:
        return remote
    hops = [hop.strip() for hop in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    hops = [hop for hop in hops if hop]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return hops[0] if hops else remote


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


class ChosenLanguageMiddleware(LocaleMiddleware):
    """Serve Simplified Chinese unless the visitor chose another language.

    Django's LocaleMiddleware also follows the browser's Accept-Language; a
    government portal speaks its official language first and offers the
    switch, so only the language cookie set by that switch counts.
    """

    def process_request(self, request: HttpRequest) -> None:
        if request.path.startswith("/api/"):
            # Programs say what they want in Accept-Language, as HTTP intends.
            super().process_request(request)
            return
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
