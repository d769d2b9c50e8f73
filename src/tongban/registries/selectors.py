"""Reads of the base registries.

Lists are scoped by the actor at the queryset level (``persons_visible_to``,
``entities_visible_to``): officers acting for a registry's owner department see
that registry's records, a citizen sees their own person and the entities they
represent, the platform sees everything and everyone else sees nothing.

The ``find_*`` and ``match_real_name`` lookups are unscoped: they answer
identity's questions about one known number (real-name verification, acting
for an entity) and return at most one record the caller already identified.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from tongban.kernel.masking import mask_id_number
from tongban.kernel.problems import NotFound
from tongban.registries.access import (
    VIEW_FULL_ID_NUMBER,
    acting_department_ids,
    has_perm,
    sees_everything,
)
from tongban.registries.models import LegalEntity, Person, RecordChange, Registry
from tongban.registries.numbers import id_number_index, normalize_id_number, normalize_uscc

__all__ = [
    "entities_represented_by",
    "entities_visible_to",
    "entity_history",
    "find_entity_by_uscc",
    "find_person_by_id_number",
    "match_real_name",
    "person_history",
    "persons_visible_to",
    "present_id_number",
    "visible_entity",
    "visible_person",
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
