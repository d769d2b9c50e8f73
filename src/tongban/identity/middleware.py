"""Per-request identity context: which legal entity the signed-in person acts for."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

ACTING_FOR_SESSION_KEY = "acting_for_entity"


class ActingForMiddleware:
    """Attach ``request.acting_for`` (a LegalEntity or None), re-checked on every request.

    The choice is kept in the session but the right to act is checked each
    time, so an expired or revoked delegation stops working at once.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from tongban.identity.services import acting_entities

        request.acting_for = None  # type: ignore[attr-defined]
        entity_id = request.session.get(ACTING_FOR_SESSION_KEY) if hasattr(request, "session") else None
        user = getattr(request, "user", None)
        if entity_id is not None and user is not None and user.is_authenticated:
            entity = acting_entities(user).filter(pk=entity_id).first()
            if entity is None:
                del request.session[ACTING_FOR_SESSION_KEY]
            request.acting_for = entity  # type: ignore[attr-defined]
        return self.get_response(request)
