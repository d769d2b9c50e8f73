"""Reads of the base registries.

Lists are scoped by the actor at the queryset level (``persons_visible_to``,
``entities_visible_to``, ``vital_events_visible_to``, ``parcels_visible_to``): officers acting for a registry's owner department see
that registry's records, a citizen sees their own person and the entities they
represent, the platform sees everything and everyone else sees nothing.

The ``find_*`` and ``match_real_name`` lookups are unscoped: they answer
identity's questions about one known number (real-name verification, acting
for an entity) and return at most one record the caller already identified.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.kernel.masking import mask_id_number
from tongban.kernel.models import Region
from tongban.kernel.problems import NotFound
from tongban.registries.access import (
    VIEW_FULL_ID_NUMBER,
    acting_department_ids,
    has_perm,
    sees_everything,
)
from tongban.registries.models import (
    DynamicRecord,
    DynamicRecordVersion,
    DynamicRegistry,
    LegalEntity,
    OwnershipShare,
    Parcel,
    Person,
    RecordChange,
    Registry,
    RegistryImport,
    VitalEvent,
)
from tongban.registries.numbers import id_number_index, normalize_id_number, normalize_uscc

__all__ = [
    "current_spouse_id",
    "dynamic_record_as_of",
    "dynamic_records_visible_to",
    "dynamic_registries",
    "dynamic_registry",
    "entities_represented_by",
    "entities_visible_to",
    "entity_as_of",
    "entity_history",
    "find_entity_by_uscc",
    "find_person_by_id_number",
    "imports_visible_to",
    "last_marriage_event",
    "match_real_name",
    "parcel_history",
    "parcel_shares",
    "parcels_visible_to",
    "person_as_of",
    "person_history",
    "persons_visible_to",
    "present_id_number",
    "registries_changeable_by",
    "visible_dynamic_record",
    "visible_entity",
    "visible_entity_as_of",
    "visible_import",
    "visible_parcel",
    "visible_person",
    "visible_person_as_of",
    "visible_vital_event",
    "vital_events_visible_to",
]


def _owned_registries(actor: Any) -> QuerySet[Registry] | None:
    department_ids = acting_department_ids(actor)
    if not department_ids:
        return None
    return Registry.objects.filter(owner_id__in=department_ids).values("pk")  # type: ignore[return-value]


def persons_visible_to(actor: Any, *, id_number: str | None = None) -> QuerySet[Person]:
    """Return the persons ``actor`` may see, optionally only the one with ``id_number``."""
    queryset = Person.objects.select_related("address_region").order_by("pk")
    if not sees_everything(actor):
        scope = Q()
        registries = _owned_registries(actor)
        if registries is not None:
            scope |= Q(registry_id__in=registries)
        person_id = getattr(actor, "person_id", None)
        if person_id is not None:
            scope |= Q(pk=person_id)
        if not scope:
            return Person.objects.none()
        queryset = queryset.filter(scope)
    if id_number is not None:
        queryset = queryset.filter(id_number_index=id_number_index(normalize_id_number(id_number)))
    return queryset


def entities_visible_to(actor: Any) -> QuerySet[LegalEntity]:
    """Return the legal entities ``actor`` may see."""
    queryset = LegalEntity.objects.select_related("registered_region", "legal_representative").order_by("pk")
    if sees_everything(actor):
        return queryset
    scope = Q()
    registries = _owned_registries(actor)
    if registries is not None:
        scope |= Q(registry_id__in=registries)
    person_id = getattr(actor, "person_id", None)
    if person_id is not None:
        scope |= Q(legal_representative_id=person_id)
    if not scope:
        return LegalEntity.objects.none()
    return queryset.filter(scope)


def visible_person(actor: Any, person_id: int) -> Person:
    """Return the person with ``person_id`` if ``actor`` may see it; raise NotFound otherwise."""
    person = persons_visible_to(actor).filter(pk=person_id).first()
    if person is None:
        raise NotFound(_("There is no such person, or you may not see them."))
    return person


def visible_entity(actor: Any, entity_id: int) -> LegalEntity:
    """Return the legal entity with ``entity_id`` if ``actor`` may see it; raise NotFound otherwise."""
    entity = entities_visible_to(actor).filter(pk=entity_id).first()
    if entity is None:
        raise NotFound(_("There is no such legal entity, or you may not see it."))
    return entity


def person_history(actor: Any, person_id: int) -> QuerySet[RecordChange]:
    """Return the changes to a person, oldest first; raise NotFound if ``actor`` may not see them."""
    person = visible_person(actor, person_id)
    return RecordChange.objects.filter(person=person).order_by("changed_at", "pk")


def entity_history(actor: Any, entity_id: int) -> QuerySet[RecordChange]:
    """Return the changes to a legal entity, oldest first; raise NotFound if ``actor`` may not see them."""
    entity = visible_entity(actor, entity_id)
    return RecordChange.objects.filter(entity=entity).order_by("changed_at", "pk")


def present_id_number(person: Person, actor: Any) -> str:
    """Return the whole ID number if ``actor`` may see whole numbers, else the masked number."""
    number = str(person.id_number)
    return number if has_perm(actor, VIEW_FULL_ID_NUMBER) else mask_id_number(number)


def find_person_by_id_number(id_number: str) -> Person | None:
    """Return the person registered with ``id_number`` (any spacing, x or X), or None."""
    number = normalize_id_number(id_number)
    if not number:
        return None
    return Person.objects.select_related("address_region").filter(id_number_index=id_number_index(number)).first()


def match_real_name(*, name: str, id_number: str) -> Person | None:
    """Return the living person whose name AND ID number both match, or None.

    Used for real-name verification: a match on the number alone is no match.
    """
    person = find_person_by_id_number(id_number)
    if person is None or person.status != Person.Status.LIVING:
        return None
    if " ".join(str(name or "").split()) != person.name:
        return None
    return person


def entities_represented_by(person: Person) -> QuerySet[LegalEntity]:
    """Return the legal entities of every status whose legal representative is ``person``."""
    return LegalEntity.objects.filter(legal_representative=person).order_by("pk")


def find_entity_by_uscc(uscc: str) -> LegalEntity | None:
    """Return the legal entity with the unified social credit code ``uscc``, or None."""
    code = normalize_uscc(uscc)
    if not code:
        return None
    return LegalEntity.objects.select_related("legal_representative").filter(uscc=code).first()


# -- reading a record "as of" a past moment -------------------------------------------------------


def _as_aware(at: datetime) -> datetime:
    return at if timezone.is_aware(at) else timezone.make_aware(at)


def _region_or(code: Any, current: Region) -> Region:
    return Region.objects.filter(code=code).first() or current if isinstance(code, str) else current


def _past_values(changes: QuerySet[RecordChange], current: dict[str, Any]) -> dict[str, Any] | None:
    """Undo ``changes`` (newest first) on ``current``; return None if one of them created the record."""
    values = dict(current)
    for change in changes.order_by("-changed_at", "-pk"):
        if change.kind == RecordChange.Kind.CREATED:
            return None
        # History masks ID numbers, so they cannot be restored: the current number stays.
        values.update({field: value for field, value in change.before.items() if field in values})
    return values


def person_as_of(person: Person, at: datetime) -> Person | None:
    """Return ``person`` as the registry recorded them at ``at``, or None if not registered yet.

    The answer is an unsaved copy rebuilt from the history (never save it). The
    history keeps ID numbers masked, so the copy carries the current ID number
    even if it was corrected since; every other field is as it was then.
    """
    current = {field: getattr(person, field) for field in _PERSON_AS_OF_FIELDS}
    current["address_region"] = person.address_region
    values = _past_values(RecordChange.objects.filter(person=person, changed_at__gt=_as_aware(at)), current)
    if values is None:
        return None
    if isinstance(values["birth_date"], str):
        values["birth_date"] = date.fromisoformat(values["birth_date"])
    values["address_region"] = _region_or(values["address_region"], person.address_region)
    return Person(
        pk=person.pk, registry_id=person.registry_id, id_number=person.id_number,
        id_number_index=person.id_number_index, created_at=person.created_at, updated_at=person.updated_at,
        **values,
    )


def entity_as_of(entity: LegalEntity, at: datetime) -> LegalEntity | None:
    """Return ``entity`` as the registry recorded it at ``at``, or None if not registered yet.

    The answer is an unsaved copy rebuilt from the history (never save it).
    """
    current = {field: getattr(entity, field) for field in _ENTITY_AS_OF_FIELDS}
    values = _past_values(RecordChange.objects.filter(entity=entity, changed_at__gt=_as_aware(at)), current)
    if values is None:
        return None
    if isinstance(values["established_on"], str):
        values["established_on"] = date.fromisoformat(values["established_on"])
    values["registered_region"] = _region_or(values["registered_region"], entity.registered_region)
    representative = values["legal_representative"]
    if not isinstance(representative, Person):
        values["legal_representative"] = (
            Person.objects.filter(pk=representative).first() or entity.legal_representative
        )
    return LegalEntity(
        pk=entity.pk, registry_id=entity.registry_id, uscc=entity.uscc, created_at=entity.created_at,
        updated_at=entity.updated_at, **values,
    )


_PERSON_AS_OF_FIELDS = ("name", "sex", "birth_date", "nationality", "address_region", "status")
_ENTITY_AS_OF_FIELDS = (
    "name", "entity_type", "legal_representative", "registered_region", "status", "established_on",
)


def visible_person_as_of(actor: Any, person_id: int, at: datetime) -> Person:
    """Return the person as recorded at ``at`` (see ``person_as_of``) if ``actor`` may see them.

    Raise NotFound if the actor may not see the person or they were not registered yet.
    """
    person = person_as_of(visible_person(actor, person_id), at)
    if person is None:
        raise NotFound(_("This person was not registered at that time."))
    return person


def visible_entity_as_of(actor: Any, entity_id: int, at: datetime) -> LegalEntity:
    """Return the legal entity as recorded at ``at`` if ``actor`` may see it.

    Raise NotFound if the actor may not see the entity or it was not registered yet.
    """
    entity = entity_as_of(visible_entity(actor, entity_id), at)
    if entity is None:
        raise NotFound(_("This legal entity was not registered at that time."))
    return entity


# -- vital events and real property ---------------------------------------------------------------


def vital_events_visible_to(actor: Any) -> QuerySet[VitalEvent]:
    """Return the vital events ``actor`` may see, oldest first.

    Officers of the owning department see their registry's events; a citizen
    sees the events that name them (as subject, spouse or parent).
    """
    queryset = VitalEvent.objects.select_related("place", "department").order_by("occurred_on", "pk")
    if sees_everything(actor):
        return queryset
    scope = Q()
    registries = _owned_registries(actor)
    if registries is not None:
        scope |= Q(registry_id__in=registries)
    person_id = getattr(actor, "person_id", None)
    if person_id is not None:
        scope |= Q(subject_id=person_id) | Q(spouse_id=person_id) | Q(mother_id=person_id) | Q(father_id=person_id)
    if not scope:
        return VitalEvent.objects.none()
    return queryset.filter(scope)


def parcels_visible_to(actor: Any) -> QuerySet[Parcel]:
    """Return the parcels ``actor`` may see: the owning department's, or those a citizen holds or held."""
    queryset = Parcel.objects.select_related("region").order_by("pk")
    if sees_everything(actor):
        return queryset
    scope = Q()
    registries = _owned_registries(actor)
    if registries is not None:
        scope |= Q(registry_id__in=registries)
    person_id = getattr(actor, "person_id", None)
    if person_id is not None:
        scope |= Q(pk__in=OwnershipShare.objects.filter(holder_person_id=person_id).values("parcel_id"))
    if not scope:
        return Parcel.objects.none()
    return queryset.filter(scope)


def visible_vital_event(actor: Any, event_id: int) -> VitalEvent:
    """Return the vital event with ``event_id`` if ``actor`` may see it; raise NotFound otherwise."""
    event = vital_events_visible_to(actor).filter(pk=event_id).first()
    if event is None:
        raise NotFound(_("There is no such vital event, or you may not see it."))
    return event


def visible_parcel(actor: Any, parcel_id: int) -> Parcel:
    """Return the parcel with ``parcel_id`` if ``actor`` may see it; raise NotFound otherwise."""
    parcel = parcels_visible_to(actor).filter(pk=parcel_id).first()
    if parcel is None:
        raise NotFound(_("There is no such parcel, or you may not see it."))
    return parcel


def parcel_history(actor: Any, parcel_id: int) -> QuerySet[RecordChange]:
    """Return the changes to a parcel (registration, transfers), oldest first; raise NotFound if hidden."""
    parcel = visible_parcel(actor, parcel_id)
    return RecordChange.objects.filter(parcel=parcel).order_by("changed_at", "pk")


def parcel_shares(parcel: Parcel, *, on: date | None = None) -> QuerySet[OwnershipShare]:
    """Return the shares of ``parcel`` held now, or on the day ``on``.

    A share acquired on a day is held from that day; a share ended on a day is
    no longer held on it (the buyer holds it).
    """
    shares = OwnershipShare.objects.filter(parcel=parcel).select_related("holder_person", "holder_entity")
    if on is None:
        return shares.filter(ended_on__isnull=True)
    return shares.filter(Q(ended_on__isnull=True) | Q(ended_on__gt=on), acquired_on__lte=on)


def _last_couple_event(person: Person) -> VitalEvent | None:
    return (
        VitalEvent.objects.filter(
            Q(subject=person) | Q(spouse=person),
            kind__in=[VitalEvent.Kind.MARRIAGE, VitalEvent.Kind.DIVORCE],
        )
        .order_by("-occurred_on", "-pk")
        .first()
    )


def last_marriage_event(person: Person) -> VitalEvent | None:
    """Return ``person``'s last registered marriage if no divorce followed it, else None."""
    event = _last_couple_event(person)
    return event if event is not None and event.kind == VitalEvent.Kind.MARRIAGE else None


def current_spouse_id(person: Person) -> int | None:
    """Return the id of ``person``'s living spouse by the marriage registry, or None if unmarried.

    A marriage ends by a registered divorce or by the spouse's death.
    """
    event = last_marriage_event(person)
    if event is None:
        return None
    spouse_id = event.spouse_id if event.subject_id == person.pk else event.subject_id
    if spouse_id is None or not Person.objects.filter(pk=spouse_id, status=Person.Status.LIVING).exists():
        return None
    return spouse_id


# -- what a registry holds about one subject (for the exchange gateway) ---------------------------


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def vital_facts(person: Person) -> dict[str, Any]:
    """Return what the births-and-deaths registry holds about ``person``: the birth and the death."""
    events = {
        event.kind: event
        for event in VitalEvent.objects.filter(
            subject=person, kind__in=[VitalEvent.Kind.BIRTH, VitalEvent.Kind.DEATH]
        ).select_related("place", "mother", "father")
    }
    birth, death = events.get(VitalEvent.Kind.BIRTH), events.get(VitalEvent.Kind.DEATH)
    return {
        "birth_registered": birth is not None,
        "birth_certificate_number": birth.certificate_number if birth else None,
        "birth_date": _iso(birth.occurred_on) if birth else None,
        "birth_place_region": birth.place.code if birth else None,
        "mother_id_number": birth.mother.id_number if birth and birth.mother else None,
        "father_id_number": birth.father.id_number if birth and birth.father else None,
        "deceased": death is not None,
        "death_date": _iso(death.occurred_on) if death else None,
        "death_certificate_number": death.certificate_number if death else None,
    }


class MaritalStatus:
    """The marital status the marriage registry gives a person (its registered events only)."""

    NEVER_MARRIED = "never_married"
    MARRIED = "married"
    DIVORCED = "divorced"
    WIDOWED = "widowed"


def marital_facts(person: Person) -> dict[str, Any]:
    """Return what the marriage registry holds about ``person``: status, spouse and last certificate.

    The status reads the last registered marriage or divorce: none is
    ``never_married``; a divorce ``divorced``; a marriage ``married``, or
    ``widowed`` if the spouse has since died.
    """
    event = _last_couple_event(person)
    if event is None:
        status, spouse = MaritalStatus.NEVER_MARRIED, None
    else:
        spouse_id = event.spouse_id if event.subject_id == person.pk else event.subject_id
        spouse = Person.objects.filter(pk=spouse_id).first() if spouse_id is not None else None
        if event.kind == VitalEvent.Kind.DIVORCE:
            status = MaritalStatus.DIVORCED
        elif spouse is not None and spouse.status == Person.Status.DECEASED:
            status = MaritalStatus.WIDOWED
        else:
            status = MaritalStatus.MARRIED
    married = status == MaritalStatus.MARRIED
    return {
        "marital_status": status,
        "spouse_id_number": spouse.id_number if married and spouse else None,
        "spouse_name": spouse.name if married and spouse else None,
        "last_event": event.kind if event else None,
        "last_event_on": _iso(event.occurred_on) if event else None,
        "last_certificate_number": event.certificate_number if event else None,
    }


def property_holdings(*, person: Person | None = None, entity: LegalEntity | None = None) -> dict[str, Any]:
    """Return the parcels ``person`` (or ``entity``) holds shares of today, from the real-property registry."""
    holder = Q(holder_person=person) if person is not None else Q(holder_entity=entity)
    shares = (
        OwnershipShare.objects.filter(holder, ended_on__isnull=True)
        .select_related("parcel__region")
        .order_by("parcel__location_code")
    )
    parcels = [
        {
            "location_code": share.parcel.location_code,
            "region": share.parcel.region.code,
            "use": share.parcel.use,
            "area": str(share.parcel.area),
            "share": f"{share.numerator}/{share.denominator}",
            "acquired_on": _iso(share.acquired_on),
        }
        for share in shares
    ]
    return {"parcel_count": len(parcels), "parcels": parcels}


# -- registries without code ----------------------------------------------------------------------


def dynamic_records_visible_to(
    actor: Any, definition: DynamicRegistry, *, key: str | None = None, key_prefix: str | None = None
) -> QuerySet[DynamicRecord]:
    """Return the records of a registry without code that ``actor`` may see (its owner's officers).

    ``key`` finds one record; ``key_prefix`` the records whose key starts with it.
    """
    queryset = DynamicRecord.objects.filter(registry=definition).order_by("pk")
    if not sees_everything(actor):
        registry = Registry.objects.only("owner_id").get(pk=definition.registry_id)
        if registry.owner_id not in acting_department_ids(actor):
            return DynamicRecord.objects.none()
    if key is not None:
        queryset = queryset.filter(key=key)
    if key_prefix:
        queryset = queryset.filter(key__startswith=key_prefix)
    return queryset


def dynamic_registries() -> QuerySet[DynamicRegistry]:
    """Return every registry defined without code, by code (definitions describe no one)."""
    return DynamicRegistry.objects.select_related("registry").order_by("registry__code")


def dynamic_registry(code: str) -> DynamicRegistry:
    """Return the definition of the registry without code ``code``; raise NotFound if there is none.

    Definitions (schema, key field, owner) describe no one and are readable by every caller.
    """
    definition = DynamicRegistry.objects.select_related("registry").filter(registry__code=code).first()
    if definition is None:
        raise NotFound(_("There is no such registry."))
    return definition


def definition_of(registry_id: int) -> DynamicRegistry | None:
    """Return the definition of the registry ``registry_id`` if it was defined without code, else None."""
    return DynamicRegistry.objects.select_related("registry").filter(registry_id=registry_id).first()


def find_dynamic_record(definition: DynamicRegistry, key: str) -> DynamicRecord | None:
    """Return the record with ``key`` of a registry without code, or None.

    Not scoped by actor: for the exchange gateway, which checks a grant first
    (like ``find_person_by_id_number``).
    """
    return DynamicRecord.objects.filter(registry=definition, key=key).first()


def visible_dynamic_record(actor: Any, definition: DynamicRegistry, key: str) -> DynamicRecord:
    """Return the record with ``key`` if ``actor`` may see it; raise NotFound otherwise."""
    record = dynamic_records_visible_to(actor, definition, key=key).first()
    if record is None:
        raise NotFound(_("There is no such record, or you may not see it."))
    return record


def dynamic_record_as_of(record: DynamicRecord, at: datetime) -> DynamicRecordVersion | None:
    """Return the version of ``record`` that was current at ``at``, or None if it did not exist yet."""
    return record.versions.filter(changed_at__lte=_as_aware(at)).order_by("-version").first()


# -- imports from the workbench -------------------------------------------------------------------


def registries_changeable_by(actor: Any) -> QuerySet[Registry]:
    """Return the registries ``actor`` may change (its departments own them; the platform: all), by code."""
    queryset = Registry.objects.select_related("owner").order_by("code")
    if sees_everything(actor):
        return queryset
    return queryset.filter(owner_id__in=acting_department_ids(actor))


def imports_visible_to(actor: Any) -> QuerySet[RegistryImport]:
    """Return the imports into registries of the actor's departments (the platform: all), newest first.

    Officers of the owning department see every import of its registries,
    whoever uploaded the file: they answer for the records it added.
    """
    queryset = RegistryImport.objects.select_related("registry", "uploaded_by").order_by("-uploaded_at", "-pk")
    if sees_everything(actor):
        return queryset
    return queryset.filter(registry__owner_id__in=acting_department_ids(actor))


def visible_import(actor: Any, import_id: int) -> RegistryImport:
    """Return the import ``import_id`` if ``actor`` may see it; raise NotFound otherwise."""
    registry_import = imports_visible_to(actor).filter(pk=import_id).first()
    if registry_import is None:
        raise NotFound(_("There is no such import, or you may not see it."))
    return registry_import
