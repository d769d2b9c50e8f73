"""Reads of the call log: "who used my data", and call statistics for both sides of a grant.

``calls_about_person`` and ``calls_about_entity`` take the data subject the
page has already identified (the signed-in citizen's own person, or an entity
they act for) and return only calls about that subject.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from tongban.catalog import services as catalog
from tongban.exchange.models import CallLogRecord

__all__ = [
    "calls_about_entity",
    "calls_about_person",
    "calls_per_grant_per_day",
    "refused_calls",
]

_SUBJECT_VIEW = ("id", "occurred_at", "department__name", "department__name_en", "resource_code",
                 "fields_returned", "purpose", "case_id")


def _subject_calls(**subject: int) -> QuerySet[CallLogRecord]:
    return (
        CallLogRecord.objects.filter(outcome=CallLogRecord.Outcome.OK, **subject)
        .select_related("department")
        .only(*_SUBJECT_VIEW)
        .order_by("-occurred_at", "-id")
    )


def calls_about_person(person_id: int) -> QuerySet[CallLogRecord]:
    """Return the answered gateway calls that read the person's record, newest first.

    Each carries when, which department, which resource and fields, the purpose
    and the case id; nothing about any other person.
    """
    return _subject_calls(person_id=person_id)


def calls_about_entity(entity_id: int) -> QuerySet[CallLogRecord]:
    """Return the answered gateway calls that read the legal entity's record, newest first."""
    return _subject_calls(entity_id=entity_id)


def _period(queryset: QuerySet[CallLogRecord], since: datetime | None,
            until: datetime | None) -> QuerySet[CallLogRecord]:
    if since is not None:
        queryset = queryset.filter(occurred_at__gte=since)
    if until is not None:
        queryset = queryset.filter(occurred_at__lt=until)
    return queryset


def calls_per_grant_per_day(
    *, actor: Any, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Return, per grant the actor's departments hold or gave and per day, how many calls were answered and refused.

    Rows are ``{"grant_id", "day", "calls", "ok", "refused"}``, by grant then day.
    """
    grant_ids = catalog.grants_visible_to(actor).values("pk")
    queryset = _period(CallLogRecord.objects.filter(grant_id__in=grant_ids), since, until)
    rows = (
        queryset.annotate(day=TruncDate("occurred_at"))
        .values("grant_id", "day")
        .annotate(
            calls=Count("id"),
            ok=Count("id", filter=Q(outcome=CallLogRecord.Outcome.OK)),
            refused=Count("id", filter=Q(outcome=CallLogRecord.Outcome.REFUSED)),
        )
        .order_by("grant_id", "day")
    )
    return [dict(row) for row in rows]


def refused_calls(
    *, actor: Any, since: datetime | None = None, until: datetime | None = None
) -> QuerySet[CallLogRecord]:
    """Return refused calls made by the actor's departments or to resources they own, newest first.

    Platform administrators see every refused call; citizens see none.
    """
    queryset = CallLogRecord.objects.filter(outcome=CallLogRecord.Outcome.REFUSED)
    if not catalog.is_platform_admin(actor):
        departments = catalog.acting_departments(actor)
        if not departments:
            return CallLogRecord.objects.none()
        owned = catalog.resources_visible_to(actor).filter(owner_id__in=departments).values("code")
        queryset = queryset.filter(Q(department_id__in=departments) | Q(resource_code__in=owned))
    return _period(queryset, since, until).select_related("department").order_by("-occurred_at", "-id")
