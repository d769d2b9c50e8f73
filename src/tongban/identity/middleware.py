"""Per-request identity context."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ActingForMiddleware:
    """Attach the legal entity the signed-in person is acting for, if still allowed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.acting_for = None  # type: ignore[attr-defined]
        return self.get_response(request)
