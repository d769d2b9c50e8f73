"""Registries API: persons and legal entities, scoped to what the caller may see.

``request.auth`` is the acting account or department system. Reads go through
the scoped selectors (a record the caller may not see is a 404); writes go
through the services (a write the caller may not make is a 403). ID numbers
are masked unless the caller may see them whole.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from tongban.registries import selectors, services
from tongban.registries.models import LegalEntity, Person, RecordChange

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


@router.get("/persons/{person_id}", response=PersonOut, summary="One person")
def get_person(request: HttpRequest, person_id: int) -> Person:
    person = selectors.visible_person(_actor(request), person_id)
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


@router.get("/entities/{entity_id}", response=EntityOut, summary="One legal entity")
def get_entity(request: HttpRequest, entity_id: int) -> LegalEntity:
    return selectors.visible_entity(_actor(request), entity_id)


@router.get("/entities/{entity_id}/history", response=list[ChangeOut], summary="A legal entity's history")
def entity_history(request: HttpRequest, entity_id: int) -> list[RecordChange]:
    return list(selectors.entity_history(_actor(request), entity_id))
