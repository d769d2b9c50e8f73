"""Every write of the service catalog: items, their publication, life events, catalog imports.

Each write checks the actor, validates, writes and appends one audit record in
one transaction; refusals raise a ``kernel.problems`` error and write nothing.
Platform administrators manage every item; a department administrator manages
the items of their own departments. Items are described in the catalog file
format (``definitions``; docs/services-catalog-format.md), whichever way they
arrive: admin forms, imports, the demo.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.kernel import audit
from tongban.kernel.models import Region
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied, Problem
from tongban.services import search
from tongban.services.access import is_platform_admin, may_manage
from tongban.services.definitions import (
    FORMAT,
    CleanItem,
    catalog_schema,
    check_process_definition,
    check_rules_definition,
    clean_item,
    contains,
    item_document,
    schema_errors,
)
from tongban.services.models import (
    ItemTopic,
    LifeEvent,
    LifeEventItem,
    Material,
    SearchTerm,
    ServiceItem,
)

__all__ = [
    "FORMAT",
    "ImportResult",
    "catalog_schema",
    "check_process_definition",
    "check_rules_definition",
    "create_item",
    "define_life_event",
    "import_catalog",
    "item_document",
    "publish_item",
    "update_item",
    "withdraw_item",
]


def _require_manager(actor: Any, department_id: int) -> None:
    if not may_manage(actor, department_id):
        raise PermissionDenied(_("Only platform administrators and the department's administrators "
                                 "may manage its service items."))


def _comparable(value: Any) -> Any:
    return value.pk if isinstance(value, models.Model) else value


def _clean_state(clean: CleanItem) -> dict[str, Any]:
    return {
        "values": {key: _comparable(value) for key, value in clean.values.items()},
        "joint": [department.pk for department in clean.joint_departments],
        "topics": clean.topics,
        "materials": [{key: _comparable(value) for key, value in material.items()} for material in clean.materials],
    }


# Elements held as foreign keys: compared by primary key.
_FOREIGN_KEYS = frozenset({"department", "region", "result_licence_type", "licence_type", "resource"})
_MATERIAL_KEYS = ("position", "name", "name_en", "description", "description_en", "required", "source",
                  "accepted_types", "max_size_mb", "licence_type", "resource", "resource_fields")


def _stored(instance: models.Model, key: str) -> Any:
    return getattr(instance, f"{key}_id") if key in _FOREIGN_KEYS else getattr(instance, key)


def _stored_state(item: ServiceItem, clean: CleanItem) -> dict[str, Any]:
    return {
        "values": {key: _stored(item, key) for key in clean.values},
        "joint": sorted(item.joint_departments.values_list("pk", flat=True)),
        "topics": sorted(item.topics.values_list("topic", flat=True)),
        "materials": [{key: _stored(material, key) for key in _MATERIAL_KEYS}
                      for material in item.materials.order_by("position", "id")],
    }


def _changed(item: ServiceItem, clean: CleanItem) -> list[str]:
    """Return the elements of ``item`` that ``clean`` changes (empty: nothing)."""
    stored, wanted = _stored_state(item, clean), _clean_state(clean)
    changed = sorted(key for key, value in wanted["values"].items() if stored["values"][key] != value)
    return changed + [key for key in ("joint", "topics", "materials") if stored[key] != wanted[key]]


def _reindex(item: ServiceItem) -> None:
    SearchTerm.objects.filter(item=item).delete()
    weights = search.weighted_terms([
        (item.name, search.NAME_WEIGHT),
        (item.name_en, search.NAME_WEIGHT),
        (" ".join(item.keywords), search.KEYWORD_WEIGHT),
        (item.conditions, search.CONDITIONS_WEIGHT),
        (item.conditions_en, search.CONDITIONS_WEIGHT),
        (item.department.name, search.CONDITIONS_WEIGHT),
    ])
    SearchTerm.objects.bulk_create([SearchTerm(item=item, term=term, weight=weight)
                                    for term, weight in sorted(weights.items())])


def _write(item: ServiceItem | None, clean: CleanItem, *, version: int, status: str) -> ServiceItem:
    """Write ``clean`` into ``item`` (a new one if None) with its related rows; no checks, no audit."""
    now = timezone.now()
    if item is None:
        item = ServiceItem(code=clean.code, created_at=now)
    for key, value in clean.values.items():
        setattr(item, key, value)
    item.version, item.updated_at = version, now
    _set_status(item, status, now)
    item.save()
    item.joint_departments.set(clean.joint_departments)
    ItemTopic.objects.filter(item=item).exclude(topic__in=clean.topics).delete()
    ItemTopic.objects.bulk_create([ItemTopic(item=item, topic=topic) for topic in clean.topics],
                                  ignore_conflicts=True)
    names = [material["name"] for material in clean.materials]
    Material.objects.filter(item=item).exclude(name__in=names).delete()
    for material in clean.materials:
        Material.objects.update_or_create(item=item, name=material["name"], defaults=material)
    _reindex(item)
    return item


def _set_status(item: ServiceItem, status: str, now: Any) -> None:
    item.status = status
    if status == ServiceItem.Status.PUBLISHED:
        item.published_at, item.withdrawn_at = now, None
    elif status == ServiceItem.Status.WITHDRAWN:
        item.withdrawn_at = now


# -- items ----------------------------------------------------------------------------------------


@transaction.atomic
def create_item(*, actor: Any, definition: Mapping[str, Any]) -> ServiceItem:
    """Create a draft service item from its definition in the catalog format and return it (version 1).

    Raise PermissionDenied unless the actor is a platform administrator or an
    administrator of the item's department; InvalidInput for a definition that
    breaks the format or a rule (naming the element); Conflict if the code is taken.
    """
    clean = clean_item(definition)
    _require_manager(actor, clean.values["department"].pk)
    if ServiceItem.objects.filter(code=clean.code).exists():
        raise Conflict(_("A service item with this code exists."), field="code")
    item = _write(None, clean, version=1, status=ServiceItem.Status.DRAFT)
    audit.record("services.item.created", actor=actor, target=f"service-item:{item.code}",
                 details={"department": item.department_id, "version": item.version})
    return item


@transaction.atomic
def update_item(item: ServiceItem, *, actor: Any, definition: Mapping[str, Any]) -> ServiceItem:
    """Bring ``item`` to ``definition`` (the whole item, in the catalog format) and return it.

    A change raises the version by one and keeps the status (a published item
    stays published, now in its new version); a definition equal to the item
    writes and audits nothing. Raise PermissionDenied unless the actor manages
    the item's department (and the new one, if it moves); InvalidInput for a
    bad definition or another code.
    """
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    _require_manager(actor, item.department_id)
    clean = clean_item(definition)
    if clean.code != item.code:
        raise InvalidInput(_("An item's code does not change."), field="code")
    _require_manager(actor, clean.values["department"].pk)
    changed = _changed(item, clean)
    if not changed:
        return item
    item = _write(item, clean, version=item.version + 1, status=item.status)
    audit.record("services.item.updated", actor=actor, target=f"service-item:{item.code}",
                 details={"version": item.version, "changed": changed})
    return item


@transaction.atomic
def publish_item(item: ServiceItem, *, actor: Any) -> ServiceItem:
    """Publish a draft or withdrawn item in the public catalog and return it.

    Raise PermissionDenied unless the actor manages the item's department;
    Conflict if it is published already.
    """
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    _require_manager(actor, item.department_id)
    if item.status == ServiceItem.Status.PUBLISHED:
        raise Conflict(_("The item is published already."))
    _set_status(item, ServiceItem.Status.PUBLISHED, timezone.now())
    item.save(update_fields=["status", "published_at", "withdrawn_at"])
    audit.record("services.item.published", actor=actor, target=f"service-item:{item.code}",
                 details={"version": item.version})
    return item


@transaction.atomic
def withdraw_item(item: ServiceItem, *, actor: Any, reason: str) -> ServiceItem:
    """Withdraw a published item from the public catalog, with a reason, and return it.

    Raise PermissionDenied unless the actor manages the item's department;
    InvalidInput without a reason; Conflict unless the item is published.
    """
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    _require_manager(actor, item.department_id)
    reason = " ".join(str(reason or "").split())[:500]
    if not reason:
        raise InvalidInput(_("Give a reason."), field="reason")
    if item.status != ServiceItem.Status.PUBLISHED:
        raise Conflict(_("Only a published item can be withdrawn."))
    _set_status(item, ServiceItem.Status.WITHDRAWN, timezone.now())
    item.save(update_fields=["status", "withdrawn_at"])
    audit.record("services.item.withdrawn", actor=actor, target=f"service-item:{item.code}",
                 details={"version": item.version, "reason": reason})
    return item


# -- life events ----------------------------------------------------------------------------------


@dataclass
class _CleanLifeEvent:
    code: str
    values: dict[str, Any]
    items: list[str]


def _clean_life_event(definition: Mapping[str, Any], region: Region,
                      item_regions: Mapping[str, Region]) -> _CleanLifeEvent:
    errors = schema_errors(definition, "life_event")
    if errors:
        raise InvalidInput(_("The life event does not match the catalog format at %(path)s: %(message)s")
                           % {"path": errors[0]["path"] or "/", "message": errors[0]["message"]}, errors=errors)
    codes = list(dict.fromkeys(definition["items"]))
    for code in codes:
        item_region = item_regions.get(code)
        if item_region is None:
            raise InvalidInput(_("There is no service item %(code)s.") % {"code": code}, field="items")
        if not contains(region, item_region):
            raise InvalidInput(_("The item %(code)s is handled outside the life event's region.") % {"code": code},
                               field="items")
    values = {
        "name": str(definition["name"]).strip(), "name_en": str(definition.get("name_en") or "").strip(),
        "description": str(definition.get("description") or "").strip(),
        "description_en": str(definition.get("description_en") or "").strip(),
        "region": region, "audience": definition["audience"],
    }
    return _CleanLifeEvent(code=definition["code"], values=values, items=codes)


def _write_life_event(clean: _CleanLifeEvent, items: Mapping[str, ServiceItem]) -> tuple[LifeEvent, bool]:
    """Write the life event if it differs; return it and whether anything was written."""
    event = LifeEvent.objects.filter(code=clean.code).first()
    if event is not None:
        current = {key: _comparable(getattr(event, key)) for key in clean.values}
        wanted = {key: _comparable(value) for key, value in clean.values.items()}
        current_items = list(event.entries.order_by("position").values_list("item__code", flat=True))
        if current == wanted and current_items == clean.items:
            return event, False
    event, _created = LifeEvent.objects.update_or_create(
        code=clean.code, defaults={**clean.values, "updated_at": timezone.now()})
    LifeEventItem.objects.filter(life_event=event).delete()
    LifeEventItem.objects.bulk_create([LifeEventItem(life_event=event, item=items[code], position=position)
                                       for position, code in enumerate(clean.items)])
    return event, True


def _items_by_code(codes: Sequence[str]) -> dict[str, ServiceItem]:
    return {item.code: item for item in ServiceItem.objects.select_related("region").filter(code__in=codes)}


def _regions_of(items: Mapping[str, ServiceItem]) -> dict[str, Region]:
    return {code: item.region for code, item in items.items()}


@transaction.atomic
def define_life_event(*, actor: Any, region: Region, definition: Mapping[str, Any]) -> LifeEvent:
    """Define the life event (一件事) ``definition["code"]`` of ``region``, or bring it up to date; return it.

    ``definition`` is a life event of the catalog format: code, names,
    descriptions, audience and the codes of its items in order (each handled
    in the region). Writes and audits nothing when it is already as defined.
    Raise PermissionDenied unless the actor is a platform administrator;
    InvalidInput for a bad definition or an unknown item.
    """
    if not is_platform_admin(actor):
        raise PermissionDenied(_("Only platform administrators define life events."))
    known = _items_by_code(list(definition.get("items") or []))
    clean = _clean_life_event(definition, region, _regions_of(known))
    existing = LifeEvent.objects.filter(code=clean.code).select_related("region").first()
    if existing is not None and existing.region_id != region.pk:
        raise Conflict(_("The life event belongs to another region."), field="code")
    event, written = _write_life_event(clean, known)
    if written:
        audit.record("services.life_event.defined", actor=actor, target=f"life-event:{event.code}",
                     details={"region": region.code, "items": clean.items})
    return event


# -- import ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """What an import did, by item code."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    life_events: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.life_events)


def _parse(document: Any) -> Any:
    if isinstance(document, bytes):
        try:
            document = document.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(_("The file is not UTF-8 text.")) from None
    if isinstance(document, str):
        try:
            return json.loads(document)
        except json.JSONDecodeError as error:
            raise InvalidInput(_("The file is not JSON: %(error)s") % {"error": error}) from None
    return document


@dataclass
class _Planned:
    clean: CleanItem
    existing: ServiceItem | None
    version: int
    status: str
    action: str  # created, updated, unchanged


def _plan_item(index: int, definition: Mapping[str, Any], actor: Any, region: Region,
               existing: ServiceItem | None) -> _Planned:
    clean = clean_item(definition)
    if not contains(region, clean.values["region"]):
        raise InvalidInput(_("The item is handled outside the file's region."), field="region")
    if not may_manage(actor, clean.values["department"].pk) or (
            existing is not None and not may_manage(actor, existing.department_id)):
        raise PermissionDenied(_("You may not manage this department's service items."), field="department")
    version = int(definition.get("version", 1))
    if existing is None:
        return _Planned(clean, None, version, definition.get("status") or ServiceItem.Status.DRAFT, "created")
    status = definition.get("status") or existing.status
    if version < existing.version:
        raise Conflict(_("The catalog holds a newer version (%(version)d) of this item.")
                       % {"version": existing.version}, field="version")
    if version == existing.version:
        if _changed(existing, clean):
            raise Conflict(_("This version differs from the catalog's version %(version)d: raise the version.")
                           % {"version": existing.version}, field="version")
        return _Planned(clean, existing, version, status, "unchanged" if status == existing.status else "updated")
    return _Planned(clean, existing, version, status, "updated")


@transaction.atomic
def import_catalog(document: Any, *, actor: Any) -> ImportResult:
    """Import a region's catalog file (JSON text, bytes or the parsed document); all of it or nothing.

    Everything is checked before anything is written: the format (its JSON
    Schema), every item's references and rules, the actor's right to manage
    each item's department, the versions. An item whose code and version the
    catalog holds with the same content is left as it is, so importing a file
    twice changes nothing the second time (and audits nothing); a higher
    version updates the item; a lower version, or the same version with other
    content, is refused. Items take the file's status (new ones without a
    status are drafts). Life events are defined only by platform administrators.
    Raise InvalidInput (with ``errors``: item, code, field, message for each
    problem), PermissionDenied or Conflict, each with every problem found.
    """
    document = _parse(document)
    errors = schema_errors(document)
    if errors:
        raise InvalidInput(_("The file does not match the catalog format."),
                           errors=[{"item": None, "code": "", "field": e["path"], "message": e["message"]}
                                   for e in errors])
    region = Region.objects.filter(code=document["region"]).first()
    if region is None:
        raise InvalidInput(_("There is no region %(code)s.") % {"code": document["region"]}, field="region")
    definitions = document["items"]
    codes = [definition["code"] for definition in definitions]
    existing = {item.code: item for item in ServiceItem.objects.select_for_update().filter(code__in=codes)}
    planned: list[_Planned] = []
    problems: list[tuple[Problem, dict[str, Any]]] = []
    seen: set[str] = set()
    for index, definition in enumerate(definitions):
        where = {"item": index, "code": definition["code"]}
        if definition["code"] in seen:
            problems.append((InvalidInput(_("The code is listed twice.")), {**where, "field": "code"}))
            continue
        seen.add(definition["code"])
        try:
            planned.append(_plan_item(index, definition, actor, region, existing.get(definition["code"])))
        except Problem as problem:
            problems.append((problem, {**where, "field": problem.extensions.get("field") or ""}))
    life_events = document.get("life_events", [])
    if life_events and not is_platform_admin(actor):
        problems.append((PermissionDenied(_("Only platform administrators define life events.")),
                         {"item": None, "code": "", "field": "life_events"}))
    events = _plan_life_events(life_events, region, planned, problems) if life_events else []
    if problems:
        _refuse(problems)
    result = ImportResult()
    for plan in planned:
        if plan.action == "unchanged":
            result.unchanged.append(plan.clean.code)
            continue
        if plan.existing is not None and plan.version == plan.existing.version:
            _set_status(plan.existing, plan.status, timezone.now())
            plan.existing.save(update_fields=["status", "published_at", "withdrawn_at"])
        else:
            _write(plan.existing, plan.clean, version=plan.version, status=plan.status)
        (result.created if plan.action == "created" else result.updated).append(plan.clean.code)
    items = _items_by_code([code for event in events for code in event.items])
    for event in events:
        _event, written = _write_life_event(event, items)
        if written:
            result.life_events.append(event.code)
    if result.changed:
        audit.record("services.catalog.imported", actor=actor, target=f"region:{region.code}",
                     details={"created": result.created, "updated": result.updated,
                              "unchanged": len(result.unchanged), "life_events": result.life_events})
    return result


def _plan_life_events(life_events: Sequence[Mapping[str, Any]], region: Region, planned: Sequence[_Planned],
                      problems: list[tuple[Problem, dict[str, Any]]]) -> list[_CleanLifeEvent]:
    """Check the file's life events against the catalog and the file's items; collect the problems."""
    item_regions = _regions_of(_items_by_code([code for event in life_events for code in event["items"]]))
    item_regions.update({plan.clean.code: plan.clean.values["region"] for plan in planned})
    cleaned = []
    for index, definition in enumerate(life_events):
        try:
            clean = _clean_life_event(definition, region, item_regions)
            if LifeEvent.objects.filter(code=clean.code).exclude(region=region).exists():
                raise Conflict(_("The life event belongs to another region."), field="code")
            cleaned.append(clean)
        except Problem as problem:
            problems.append((problem, {"item": None, "life_event": index, "code": definition["code"],
                                       "field": problem.extensions.get("field") or ""}))
    return cleaned


def _refuse(problems: Sequence[tuple[Problem, dict[str, Any]]]) -> None:
    """Raise one problem listing every problem found, of the gravest kind among them."""
    errors = [{**where, "message": problem.detail} for problem, where in problems]
    kinds = [type(problem) for problem, _where in problems]
    count = len(errors)
    detail = _("The import found %(count)d problem(s); nothing was imported.") % {"count": count}
    for kind in (PermissionDenied, Conflict):
        if kind in kinds:
            raise kind(detail, errors=errors)
    raise InvalidInput(detail, errors=errors)
