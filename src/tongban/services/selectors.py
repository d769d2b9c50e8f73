"""Reads of the service catalog.

The published catalog is public (it holds no personal data): anyone may find
items and read their guides. Drafts, withdrawn items and exports are for the
people who manage them, scoped by the actor.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.kernel.models import Department, Region
from tongban.kernel.problems import InvalidInput, NotFound
from tongban.services import search
from tongban.services.access import managed_departments
from tongban.services.definitions import FORMAT, contains, item_document, region_prefix
from tongban.services.models import (
    Audience,
    ItemTopic,
    LifeEvent,
    LifeEventItem,
    Material,
    ServiceItem,
    Topic,
)

__all__ = [
    "PHRASE_BONUS",
    "catalog_departments",
    "catalog_regions",
    "export_catalog",
    "items_managed_by",
    "managed_item",
    "published_item",
    "published_items",
    "published_life_event",
    "published_life_events",
    "topics",
]

# Added to the score of an item whose name holds the whole query as it was typed.
PHRASE_BONUS = 10


def _published() -> QuerySet[ServiceItem]:
    return ServiceItem.objects.filter(status=ServiceItem.Status.PUBLISHED).select_related(
        "department", "region", "result_licence_type"
    )


def _region_prefix(code: str) -> str | None:
    region = Region.objects.filter(code=code).first()
    return region_prefix(region) if region is not None else None


def published_items(
    *,
    query: str = "",
    topic: str = "",
    life_event: str = "",
    department: str = "",
    region: str = "",
    audience: str = "",
) -> QuerySet[ServiceItem]:
    """Return the published items that match every filter given, best match first when searching.

    ``query`` is matched by character bigrams and English words against the
    name, keywords and conditions (``services.search``): an item is found when
    it shares at least half of the query's terms, and ranked by the weights of
    the terms it shares (name 4, keywords 3, conditions 1) plus ``PHRASE_BONUS``
    when its name holds the whole query. ``topic`` is a topic code,
    ``life_event`` a life event's code, ``department`` a department's USCC,
    ``region`` a division code (items of its districts included), ``audience``
    ``citizen`` or ``business`` (items for both included). Without a query,
    items come by code.
    """
    queryset = _published()
    if topic:
        queryset = queryset.filter(pk__in=ItemTopic.objects.filter(topic=topic).values("item_id"))
    if life_event:
        queryset = queryset.filter(
            pk__in=LifeEventItem.objects.filter(life_event__code=life_event).values("item_id"))
    if department:
        queryset = queryset.filter(department__uscc=department.strip().upper())
    if region:
        prefix = _region_prefix(region.strip())
        queryset = queryset.filter(region__code__startswith=prefix) if prefix else queryset.none()
    if audience in (Audience.CITIZEN, Audience.BUSINESS):
        queryset = queryset.filter(audience__in=[audience, Audience.BOTH])
    terms = search.query_terms(query)
    if not terms:
        return queryset.order_by("code")
    needed = (len(terms) + 1) // 2
    phrase = search.compact(query)
    # Filtering on the search terms joins one row per shared term: the sum and
    # count below are per item because every other filter above is a subquery.
    return (
        queryset.filter(search_terms__term__in=terms)
        .annotate(
            shared=Count("search_terms__term", distinct=True),
            score=Sum("search_terms__weight")
            + Case(When(Q(name__contains=phrase) | Q(name_en__icontains=" ".join(query.split())),
                        then=Value(PHRASE_BONUS)), default=Value(0), output_field=IntegerField()),
        )
        .filter(shared__gte=needed)
        .order_by("-score", "code")
    )


def _with_elements(queryset: QuerySet[ServiceItem]) -> QuerySet[ServiceItem]:
    return queryset.select_related("department__region", "region", "result_licence_type").prefetch_related(
        "joint_departments",
        "topics",
        Prefetch("materials", queryset=Material.objects.select_related("licence_type", "resource__owner")),
        Prefetch("life_events", queryset=LifeEvent.objects.order_by("code")),
    )


def published_item(code: str) -> ServiceItem:
    """Return the published item ``code`` with every element prefetched; raise NotFound otherwise."""
    item = _with_elements(_published()).filter(code=code).first()
    if item is None:
        raise NotFound(_("There is no such service item in the catalog."))
    return item


def published_life_events(*, region: str = "", audience: str = "") -> QuerySet[LifeEvent]:
    """Return the life events in ``region`` (and its districts) for ``audience``, by code."""
    queryset = LifeEvent.objects.select_related("region").order_by("code")
    if region:
        prefix = _region_prefix(region.strip())
        queryset = queryset.filter(region__code__startswith=prefix) if prefix else queryset.none()
    if audience in (Audience.CITIZEN, Audience.BUSINESS):
        queryset = queryset.filter(audience__in=[audience, Audience.BOTH])
    return queryset


def published_life_event(code: str) -> tuple[LifeEvent, list[ServiceItem]]:
    """Return the life event ``code`` and its published items in order; raise NotFound if absent."""
    event = LifeEvent.objects.select_related("region").filter(code=code).first()
    if event is None:
        raise NotFound(_("There is no such life event."))
    entries = (LifeEventItem.objects.filter(life_event=event, item__status=ServiceItem.Status.PUBLISHED)
               .select_related("item__department", "item__region").order_by("position", "id"))
    return event, [entry.item for entry in entries]


def topics() -> list[tuple[str, str]]:
    """Return the topics that have published items, as (code, label) in the catalog's order."""
    used = set(ItemTopic.objects.filter(item__status=ServiceItem.Status.PUBLISHED)
               .values_list("topic", flat=True).distinct())
    return [(code, str(label)) for code, label in Topic.choices if code in used]


def catalog_departments() -> QuerySet[Department]:
    """Return the departments that have published items."""
    return (Department.objects.filter(service_items__status=ServiceItem.Status.PUBLISHED)
            .select_related("region").distinct().order_by("region__code", "kind"))


def catalog_regions() -> QuerySet[Region]:
    """Return the regions that have published items, or contain regions that do."""
    codes = set(_published().values_list("region__code", flat=True).distinct())
    prefixes = {code[:2] for code in codes} | {code[:4] for code in codes}
    return Region.objects.filter(
        Q(code__in=codes) | Q(level=Region.Level.PROVINCE, code__in=[p + "0000" for p in prefixes if len(p) == 2])
        | Q(level=Region.Level.CITY, code__in=[p + "00" for p in prefixes if len(p) == 4])
    ).order_by("code")


# -- for the people who manage items ---------------------------------------------------------------


def items_managed_by(actor: Any) -> QuerySet[ServiceItem]:
    """Return every item (any status) ``actor`` manages: all for platform administrators, else their departments'."""
    departments = managed_departments(actor)
    queryset = ServiceItem.objects.select_related("department", "region").order_by("code")
    return queryset if departments is None else queryset.filter(department_id__in=departments)


def managed_item(actor: Any, code: str) -> ServiceItem:
    """Return the item ``code`` with its elements if ``actor`` manages it; raise NotFound otherwise."""
    item = _with_elements(items_managed_by(actor)).filter(code=code).first()
    if item is None:
        raise NotFound(_("There is no such service item, or you do not manage it."))
    return item


def export_catalog(actor: Any, region_code: str, *, codes: list[str] | None = None) -> dict[str, Any]:
    """Return the catalog of ``region_code`` (its districts included) in the catalog file format.

    Holds every item the actor manages there, whatever its status (or only
    ``codes``), and, for platform administrators exporting the whole region,
    its life events. Raise InvalidInput for an
    unknown region.
    """
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise InvalidInput(_("There is no region %(code)s.") % {"code": region_code}, field="region")
    items = [item for item in _with_elements(items_managed_by(actor)) if contains(region, item.region)
             and (codes is None or item.code in codes)]
    events = (LifeEvent.objects.filter(region=region).prefetch_related(
        Prefetch("entries", queryset=LifeEventItem.objects.select_related("item").order_by("position", "id")))
        .order_by("code"))
    return {
        "format": FORMAT,
        "region": region.code,
        "exported_at": timezone.now().isoformat(timespec="seconds"),
        "items": [item_document(item) for item in items],
        "life_events": [
            {"code": event.code, "name": event.name, "name_en": event.name_en, "description": event.description,
             "description_en": event.description_en, "audience": event.audience,
             "items": [entry.item.code for entry in event.entries.all()]}
            for event in events if codes is None and managed_departments(actor) is None
        ],
    }
