"""The unread-notice count for the page header of every signed-in page."""

from __future__ import annotations

from functools import cache

from django.http import HttpRequest

from tongban.notices.selectors import UNREAD_CAP, unread_count


def inbox(request: HttpRequest) -> dict[str, object]:
    """Give templates ``unread_notices``: a callable counted once, on first use, with one query.

    Anonymous visitors and pages that do not show it cost no query.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    @cache
    def count() -> int:
        return unread_count(user)

    return {"unread_notices": count, "unread_notices_cap": UNREAD_CAP}
