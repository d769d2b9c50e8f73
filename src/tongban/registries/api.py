"""Registries API: persons, legal entities, vital events and parcels, scoped to what the caller may see.

``request.auth`` is the acting account or department system. Reads go through
the scoped selectors (a record the caller may not see is a 404); writes go
through the services (a write the caller may not make is a 403). ID numbers
are masked unless the caller may see them whole.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from tongban.kernel.problems import NotFound
from tongban.registries import selectors, services
from tongban.registries.models import (
    DynamicRecord,
    DynamicRecordVersion,
    DynamicRegistry,
    LegalEntity,
    OwnershipShare,
    Parcel,
    Person,
    RecordChange,
    VitalEvent,
)

router = Router(tags=["registries"])

PAGE_SIZE = 50


def _actor(request: HttpRequest) -> Any:
    return getattr(request, "auth", None)


class PersonOut(Schema):
    id: int
    id_number: str
    name: str
    sex: str
    birth_date: date
    nationality: str
    address_region: str
    status: str

    @staticmethod
    def resolve_id_number(obj: Person, context: dict[str, Any]) -> str:
        return selectors.present_id_number(obj, _actor(context["request"]))

    @staticmethod
    def resolve_address_region(obj: Person) -> str:
        return obj.address_region.code


class PersonIn(Schema):
    id_number: str
    name: str
    sex: str
    birth_date: date
    address_region: str
    nationality: str = "CHN"
    reason: str


class PersonAmendIn(Schema):
    """The fields to change (only those sent are changed) and why."""

    id_number: str | None = None
    name: str | None = None
    sex: str | None = None
    birth_date: date | None = None
    nationality: str | None = None
    address_region: str | None = None
    status: str | None = None
    reason: str


class EntityOut(Schema):
    id: int
    uscc: str
    name: str
    entity_type: str
    legal_representative_id: int
    legal_representative_name: str
    registered_region: str
    status: str
    established_on: date | None

    @staticmethod
    def resolve_legal_representative_name(obj: LegalEntity) -> str:
        return obj.legal_representative.name

    @staticmethod
    def resolve_registered_region(obj: LegalEntity) -> str:
        return obj.registered_region.code


class ChangeOut(Schema):
    kind: str
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str
    changed_by: str
    changed_at: datetime


@router.get("/persons", response=list[PersonOut], summary="Persons the caller may see")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def list_persons(request: HttpRequest, id_number: str | None = None) -> Any:
    persons = selectors.persons_visible_to(_actor(request), id_number=id_number)
    if id_number:
        # A search by number names whom the caller looked for, found or not.
        services.record_access("registries.person.searched", actor=_actor(request), records=list(persons[:5]),
                               query="id_number")
    return persons


@router.post("/persons", response={201: PersonOut}, summary="Register a person")
def register_person(request: HttpRequest, payload: PersonIn) -> Status[Person]:
    return Status(201, services.register_person(actor=_actor(request), **payload.dict()))


@router.get("/persons/{person_id}", response=PersonOut, summary="One person (optionally as of a past moment)")
def get_person(request: HttpRequest, person_id: int, as_of: datetime | None = None) -> Person:
    """Return the person; with ``as_of``, as the registry recorded them then (ID number: the current one)."""
    if as_of is None:
        person = selectors.visible_person(_actor(request), person_id)
    else:
        person = selectors.visible_person_as_of(_actor(request), person_id, as_of)
    services.record_access("registries.person.viewed", actor=_actor(request), records=[person])
    return person


@router.patch("/persons/{person_id}", response=PersonOut, summary="Amend a person (with the reason)")
def amend_person(request: HttpRequest, person_id: int, payload: PersonAmendIn) -> Person:
    person = selectors.visible_person(_actor(request), person_id)
    changes = payload.dict(exclude_unset=True, exclude={"reason"})
    return services.amend_person(person, actor=_actor(request), changes=changes, reason=payload.reason)


@router.get("/persons/{person_id}/history", response=list[ChangeOut], summary="A person's history")
def person_history(request: HttpRequest, person_id: int) -> list[RecordChange]:
    changes = list(selectors.person_history(_actor(request), person_id))
    person = selectors.visible_person(_actor(request), person_id)
    services.record_access("registries.person.history_viewed", actor=_actor(request), records=[person])
    return changes


@router.get("/entities", response=list[EntityOut], summary="Legal entities the caller may see")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def list_entities(request: HttpRequest) -> Any:
    return selectors.entities_visible_to(_actor(request))


@router.get("/entities/{entity_id}", response=EntityOut, summary="One legal entity (optionally as of a past moment)")
def get_entity(request: HttpRequest, entity_id: int, as_of: datetime | None = None) -> LegalEntity:
    """Return the legal entity; with ``as_of``, as the registry recorded it then."""
    if as_of is None:
        return selectors.visible_entity(_actor(request), entity_id)
    return selectors.visible_entity_as_of(_actor(request), entity_id, as_of)


@router.get("/entities/{entity_id}/history", response=list[ChangeOut], summary="A legal entity's history")
def entity_history(request: HttpRequest, entity_id: int) -> list[RecordChange]:
    return list(selectors.entity_history(_actor(request), entity_id))


class VitalEventOut(Schema):
    """A vital event; the persons it names are given by their record ids only."""

    id: int
    kind: str
    occurred_on: date
    place: str
    subject_id: int
    spouse_id: int | None
    mother_id: int | None
    father_id: int | None
    department_id: int
    certificate_number: str
    registered_at: datetime

    @staticmethod
    def resolve_place(obj: VitalEvent) -> str:
        return obj.place.code


class VitalEventIn(Schema):
    """A vital event to register; persons are named by their ID numbers."""

    kind: str
    occurred_on: date
    place: str
    subject: str
    spouse: str | None = None
    mother: str | None = None
    father: str | None = None
    certificate_number: str
    reason: str


class ShareOut(Schema):
    holder: str
    holder_name: str
    share: str
    acquired_on: date
    ended_on: date | None

    @staticmethod
    def resolve_holder(obj: OwnershipShare) -> str:
        return obj.holder_key

    @staticmethod
    def resolve_holder_name(obj: OwnershipShare) -> str:
        holder = obj.holder_person or obj.holder_entity
        return holder.name if holder is not None else ""

    @staticmethod
    def resolve_share(obj: OwnershipShare) -> str:
        return f"{obj.numerator}/{obj.denominator}"


class ParcelOut(Schema):
    id: int
    location_code: str
    region: str
    area: str
    use: str

    @staticmethod
    def resolve_region(obj: Parcel) -> str:
        return obj.region.code

    @staticmethod
    def resolve_area(obj: Parcel) -> str:
        return str(obj.area)


class ParcelDetailOut(ParcelOut):
    """A parcel and the shares held on the day asked for (today unless ``on`` is given)."""

    shares: list[ShareOut]

    @staticmethod
    def resolve_shares(obj: Parcel) -> list[OwnershipShare]:
        return getattr(obj, "shares_on_day", [])


class OwnerIn(Schema):
    """One owner: a person by ID number or an entity by USCC, and the share (\"1/2\" or \"0.5\")."""

    person: str | None = None
    entity: str | None = None
    share: str


class ParcelIn(Schema):
    location_code: str
    region: str
    area: str
    use: str
    owners: list[OwnerIn]
    acquired_on: date
    reason: str


class TransferIn(Schema):
    owners: list[OwnerIn]
    on: date
    reason: str


def _parcel_detail(parcel: Parcel, on: date | None = None) -> Parcel:
    parcel.shares_on_day = list(selectors.parcel_shares(parcel, on=on))  # type: ignore[attr-defined]
    return parcel


@router.get("/vital-events", response=list[VitalEventOut], summary="Vital events the caller may see")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def list_vital_events(request: HttpRequest, kind: str | None = None) -> Any:
    events = selectors.vital_events_visible_to(_actor(request))
    return events.filter(kind=kind) if kind else events


@router.post("/vital-events", response={201: VitalEventOut}, summary="Register a birth, death, marriage or divorce")
def register_vital_event(request: HttpRequest, payload: VitalEventIn) -> Status[VitalEvent]:
    return Status(201, services.register_vital_event(actor=_actor(request), **payload.dict()))


@router.get("/vital-events/{event_id}", response=VitalEventOut, summary="One vital event")
def get_vital_event(request: HttpRequest, event_id: int) -> VitalEvent:
    return selectors.visible_vital_event(_actor(request), event_id)


@router.get("/parcels", response=list[ParcelOut], summary="Parcels the caller may see")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def list_parcels(request: HttpRequest) -> Any:
    return selectors.parcels_visible_to(_actor(request))


@router.post("/parcels", response={201: ParcelDetailOut}, summary="Register a parcel with its owners")
def register_parcel(request: HttpRequest, payload: ParcelIn) -> Status[Parcel]:
    values = payload.dict(exclude={"owners"})
    parcel = services.register_parcel(actor=_actor(request), owners=[o.dict() for o in payload.owners], **values)
    return Status(201, _parcel_detail(parcel))


@router.get("/parcels/{parcel_id}", response=ParcelDetailOut, summary="One parcel and its owners (optionally on a past day)")
def get_parcel(request: HttpRequest, parcel_id: int, on: date | None = None) -> Parcel:
    return _parcel_detail(selectors.visible_parcel(_actor(request), parcel_id), on)


@router.get("/parcels/{parcel_id}/history", response=list[ChangeOut], summary="A parcel's registration and transfers")
def parcel_history(request: HttpRequest, parcel_id: int) -> list[RecordChange]:
    return list(selectors.parcel_history(_actor(request), parcel_id))


@router.post("/parcels/{parcel_id}/transfers", response=ParcelDetailOut, summary="Record a transfer of a parcel")
def transfer_parcel(request: HttpRequest, parcel_id: int, payload: TransferIn) -> Parcel:
    parcel = selectors.visible_parcel(_actor(request), parcel_id)
    services.transfer_parcel(parcel, actor=_actor(request), owners=[o.dict() for o in payload.owners],
                             on=payload.on, reason=payload.reason)
    return _parcel_detail(parcel)


class DynamicRegistryOut(Schema):
    """A registry defined without code: its JSON Schema, key field and owner."""

    code: str
    name: str
    name_en: str
    owner_id: int
    key_field: str
    record_schema: dict[str, Any]
    version: int

    @staticmethod
    def resolve_code(obj: DynamicRegistry) -> str:
        return obj.registry.code

    @staticmethod
    def resolve_name(obj: DynamicRegistry) -> str:
        return obj.registry.name

    @staticmethod
    def resolve_name_en(obj: DynamicRegistry) -> str:
        return obj.registry.name_en

    @staticmethod
    def resolve_owner_id(obj: DynamicRegistry) -> int:
        return obj.registry.owner_id

    @staticmethod
    def resolve_record_schema(obj: DynamicRegistry) -> dict[str, Any]:
        return dict(obj.schema)


class DynamicRecordOut(Schema):
    key: str
    data: dict[str, Any]
    version: int
    updated_at: datetime


class DynamicRecordIn(Schema):
    data: dict[str, Any]
    reason: str


class DynamicVersionOut(Schema):
    version: int
    data: dict[str, Any]
    reason: str
    changed_by: str
    changed_at: datetime


def _version_as_record(record: DynamicRecord, version: DynamicRecordVersion) -> dict[str, Any]:
    return {"key": record.key, "data": version.data, "version": version.version, "updated_at": version.changed_at}


@router.get("/dynamic-registries", response=list[DynamicRegistryOut], summary="Registries defined without code")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def list_dynamic_registries(request: HttpRequest) -> Any:
    return selectors.dynamic_registries()


@router.get("/dynamic-registries/{code}", response=DynamicRegistryOut, summary="One registry defined without code")
def get_dynamic_registry(request: HttpRequest, code: str) -> DynamicRegistry:
    return selectors.dynamic_registry(code)


@router.get("/dynamic-registries/{code}/records", response=list[DynamicRecordOut],
            summary="Records of a registry defined without code, searchable by key")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def list_dynamic_records(request: HttpRequest, code: str, key: str | None = None, key_prefix: str | None = None) -> Any:
    return selectors.dynamic_records_visible_to(_actor(request), selectors.dynamic_registry(code), key=key,
                                                key_prefix=key_prefix)


@router.post("/dynamic-registries/{code}/records", response={201: DynamicRecordOut},
             summary="Add a record (validated against the registry's schema)")
def register_dynamic_record(request: HttpRequest, code: str, payload: DynamicRecordIn) -> Status[DynamicRecord]:
    definition = selectors.dynamic_registry(code)
    return Status(201, services.register_record(definition, actor=_actor(request), data=payload.data,
                                                reason=payload.reason))


@router.get("/dynamic-registries/{code}/records/{key}", response=DynamicRecordOut,
            summary="One record (optionally as of a past moment)")
def get_dynamic_record(request: HttpRequest, code: str, key: str, as_of: datetime | None = None) -> Any:
    record = selectors.visible_dynamic_record(_actor(request), selectors.dynamic_registry(code), key)
    if as_of is None:
        return record
    version = selectors.dynamic_record_as_of(record, as_of)
    if version is None:
        raise NotFound(_("This record was not registered at that time."))
    return _version_as_record(record, version)


@router.put("/dynamic-registries/{code}/records/{key}", response=DynamicRecordOut,
            summary="Replace a record's data (a new version, with the reason)")
def amend_dynamic_record(request: HttpRequest, code: str, key: str, payload: DynamicRecordIn) -> DynamicRecord:
    record = selectors.visible_dynamic_record(_actor(request), selectors.dynamic_registry(code), key)
    return services.amend_record(record, actor=_actor(request), data=payload.data, reason=payload.reason)


@router.get("/dynamic-registries/{code}/records/{key}/history", response=list[DynamicVersionOut],
            summary="Every version of a record")
def dynamic_record_history(request: HttpRequest, code: str, key: str) -> list[DynamicRecordVersion]:
    record = selectors.visible_dynamic_record(_actor(request), selectors.dynamic_registry(code), key)
    return list(record.versions.order_by("version"))
