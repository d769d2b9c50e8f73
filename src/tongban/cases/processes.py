"""Which process a case runs, and the data the process sees.

An item's own BPMN/DMN (``ServiceItem.process_xml`` / ``rules_xml``) runs when
it has them; otherwise a standard process of ``kernel.workflow``: ``instant``
(秒批) for an item marked for instant approval, ``countersign`` (会签) for an
item with joint departments, ``review`` for the rest. The definition a case
started with is kept as a ``ProcessSnapshot`` so that a later change to the
item never breaks a running case.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from django.utils import timezone

from tongban.cases.models import ProcessSnapshot
from tongban.kernel.workflow import (
    STANDARD_PROCESSES,
    ProcessDefinition,
    load_process,
    standard_document,
)
from tongban.registries.models import LegalEntity, Person
from tongban.services.models import ServiceItem


def _standard_name(item: ServiceItem) -> str:
    if item.instant_approval:
        return "instant"
    if item.joint_departments.exists():
        return "countersign"
    return "review"


def snapshot_for(item: ServiceItem) -> ProcessSnapshot:
    """Return the stored definition a new case of ``item`` runs (created once per distinct definition).

    Raise ProcessDefinitionError (422) if the item's own process does not load.
    """
    if item.process_xml.strip():
        process_xml = item.process_xml
        rules = [item.rules_xml] if item.rules_xml.strip() else []
        source = f"item:{item.code} v{item.version}"
    else:
        name = _standard_name(item)
        bpmn, dmn_files = STANDARD_PROCESSES[name]
        process_xml = standard_document(bpmn)
        rules = [item.rules_xml] if item.rules_xml.strip() else [standard_document(dmn) for dmn in dmn_files]
        source = f"standard:{name}"
    definition = _load(process_xml, tuple(rules))
    snapshot, _ = ProcessSnapshot.objects.get_or_create(
        fingerprint=definition.fingerprint,
        defaults={"process_xml": process_xml, "rules_xml": rules, "source": source, "created_at": timezone.now()},
    )
    return snapshot


def definition_of(snapshot: ProcessSnapshot) -> ProcessDefinition:
    """Return the loaded definition of a stored snapshot."""
    return _load(snapshot.process_xml, tuple(snapshot.rules_xml))


# Loading and checking a definition takes milliseconds (ADR 0017) and a loaded
# definition never changes (it is keyed by its own text), so each process keeps
# the ones it used last; a fresh process loads them again from the snapshots.
@lru_cache(maxsize=64)
def _load(process_xml: str, rules: tuple[str, ...]) -> ProcessDefinition:
    return load_process(process_xml, rules=list(rules))


def process_data(*, person: Person, entity: LegalEntity | None, form: dict[str, Any],
                 holds_result_licence: bool, materials: dict[str, bool]) -> dict[str, Any]:
    """Return the data a case's process starts with: what rules may decide on, no more.

    ``applicant`` holds the applicant's registry facts (birth date, sex,
    region), ``form`` the application form, ``holds_result_licence`` whether the
    applicant already holds the licence the item issues, ``materials`` which
    materials the platform obtained from government data (by material name).
    """
    born: date = person.birth_date
    data: dict[str, Any] = {
        "applicant": {"birth_date": born.isoformat(), "sex": person.sex,
                      "region": person.address_region.code if person.address_region_id else ""},
        "form": form,
        "holds_result_licence": holds_result_licence,
        "materials_obtained": materials,
    }
    if entity is not None:
        data["entity"] = {"entity_type": entity.entity_type, "status": entity.status,
                          "region": entity.registered_region.code}
    return data
