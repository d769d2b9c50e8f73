"""Reads of notices, scoped by the actor: a recipient sees only their own.

There is no selector over everybody's notices; the admin site (platform
operators) reads the outbox through its own read-only views.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from tongban.kernel.problems import NotFound
from tongban.notices.models import Contact, Notice

__all__ = ["UNREAD_CAP", "contact_of", "inbox", "unread_count", "visible_notice"]

# The header shows "99+" past this: counting stops there, so the query stays cheap.
UNREAD_CAP = 100


def _account_id(actor: Any) -> int | None:
    if isinstance(actor, get_user_model()) and actor.is_authenticated and actor.pk is not None:
        return int(actor.pk)
    return None


def inbox(actor: Any) -> QuerySet[Notice]:
    """Return the notices in ``actor``'s inbox, newest first (none for anyone but a signed-in account)."""
    account_id = _account_id(actor)
    if account_id is None:
        return Notice.objects.none()
    return Notice.objects.filter(recipient_id=account_id, in_inbox=True).order_by("-created_at", "-id")


def visible_notice(actor: Any, notice_id: int) -> Notice:
    """Return the notice ``notice_id`` from ``actor``'s inbox; raise NotFound if it is not there."""
    notice = inbox(actor).filter(pk=notice_id).first()
    if notice is None:
        raise NotFound(_("There is no such notice in your inbox."))
    return notice


def unread_count(actor: Any) -> int:
    """Return how many notices in ``actor``'s inbox are unread, counting no further than ``UNREAD_CAP``."""
    if _account_id(actor) is None:
        return 0
    return inbox(actor).filter(read_at__isnull=True).order_by()[:UNREAD_CAP].count()


def contact_of(actor: Any) -> Contact | None:
    """Return how ``actor`` is reached with notices (mobile number, language), or None if never set."""
    account_id = _account_id(actor)
    if account_id is None:
        return None
    return Contact.objects.filter(account_id=account_id).first()
