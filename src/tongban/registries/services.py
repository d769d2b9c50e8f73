"""Every write to the base registries. Other blocks import from here only.

Each write checks that the actor is the platform or acts for the department
that owns the registry, validates its input, changes the record, appends a
history entry (who, when, why; ID numbers masked) and one audit record, all in
one transaction. Refusals raise a ``kernel.problems`` error and write nothing.

The read functions identity needs (``find_person_by_id_number``,
``match_real_name``, ``entities_represented_by``, ``find_entity_by_uscc``) and
the scoped selectors are re-exported here, and so are the number checks
(``normalize_id_number``, ``id_number_error``, ``normalize_uscc``, ``uscc_error``):
validate ID numbers with these, not with ``stdnum.cn.ric.validate`` (see ``numbers``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.kernel import audit
from tongban.kernel.masking import mask_id_number
from tongban.kernel.models import Department, Region
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied
from tongban.registries.access import has_perm, may_change, sees_everything
from tongban.registries.models import LegalEntity, Person, RecordChange, Registry
from tongban.registries.numbers import (
    birth_date_of,
    id_number_error,
    id_number_index,
    normalize_id_number,
    normalize_uscc,
    sex_of,
    uscc_error,
)
from tongban.registries.selectors import (
    entities_represented_by,
    entities_visible_to,
    entity_history,
    find_entity_by_uscc,
    find_person_by_id_number,
    match_real_name,
    person_history,
    persons_visible_to,
    present_id_number,
    visible_entity,
    visible_person,
)

__all__ = [
    "ENTITY_REGISTRY",
    "PERSON_REGISTRY",
    "amend_entity",
    "amend_person",
    "ensure_registry",
    "entities_represented_by",
    "entities_visible_to",
    "entity_history",
    "find_entity_by_uscc",
    "find_person_by_id_number",
    "id_number_error",
    "import_entities",
    "import_persons",
    "match_real_name",
    "normalize_id_number",
    "normalize_uscc",
    "person_history",
    "persons_visible_to",
    "present_id_number",
    "record_access",
    "register_entity",
    "register_person",
    "uscc_error",
    "visible_entity",
    "visible_person",
]

# The registries every deployment has, by code.
PERSON_REGISTRY = "persons"
ENTITY_REGISTRY = "legal-entities"

PERSON_FIELDS = ("id_number", "name", "sex", "birth_date", "nationality", "address_region", "status")
ENTITY_FIELDS = ("name", "entity_type", "legal_representative", "registered_region", "status", "established_on")
# Rows of an import; every other key is refused.
PERSON_ROW_KEYS = frozenset({"id_number", "name", "sex", "birth_date", "address_region", "nationality"})
ENTITY_ROW_KEYS = frozenset(
    {"uscc", "name", "entity_type", "legal_representative", "registered_region", "established_on"}
)
# An import reports at most this many bad rows (and how many there were in all).
MAX_REPORTED_ERRORS = 1000
BULK_BATCH_SIZE = 1000
LOOKUP_CHUNK_SIZE = 1000


# -- validation -----------------------------------------------------------------------------------


class _FieldError(Exception):
    """One field's value is not acceptable; becomes InvalidInput or a row in an import report."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@contextmanager
def _as_invalid_input() -> Iterator[None]:
    try:
        yield
    except _FieldError as error:
        raise InvalidInput(error.message, field=error.field) from None


RegionLookup = Callable[[str], Region | None]


def _region_by_code(code: str) -> Region | None:
    return Region.objects.filter(code=code).first()


def _regions_by_code(values: Iterable[Any]) -> dict[str, Region]:
    codes = {value for value in values if isinstance(value, str)}
    return {region.code: region for region in Region.objects.filter(code__in=codes)} if codes else {}


def _clean_reason(reason: str) -> str:
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise InvalidInput(_("Give the reason for the change."), field="reason")
    if len(reason) > 500:
        raise InvalidInput(_("Keep the reason under 500 characters."), field="reason")
    return reason


def _clean_text(field: str, value: Any, *, max_length: int) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise _FieldError(field, _("This field is required."))
    if len(text) > max_length:
        raise _FieldError(field, _("Keep this under %(count)d characters.") % {"count": max_length})
    if any(unicodedata.category(char).startswith("C") for char in text):
        raise _FieldError(field, _("This field contains control characters."))
    return text


def _clean_choice(field: str, value: Any, choices: Sequence[str]) -> str:
    if value not in choices:
        raise _FieldError(field, _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)})
    return str(value)


def _clean_date(field: str, value: Any, *, optional: bool = False) -> date | None:
    if value in (None, "") and optional:
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise _FieldError(field, _("Give the date as YYYY-MM-DD.")) from None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise _FieldError(field, _("Give the date as YYYY-MM-DD."))
    if value > timezone.localdate():
        raise _FieldError(field, _("The date cannot be in the future."))
    return value


def _clean_region(field: str, value: Any, lookup: RegionLookup) -> Region:
    if isinstance(value, Region) and value.pk is not None:
        return value
    region = lookup(value) if isinstance(value, str) else None
    if region is None:
        raise _FieldError(field, _("Unknown region code."))
    return region


def _clean_id_number(value: Any) -> str:
    number = normalize_id_number(value)
    error = id_number_error(number)
    if error:
        raise _FieldError("id_number", error)
    return number


def _clean_nationality(value: Any) -> str:
    code = str(value or "").strip().upper()
    if len(code) != 3 or not (code.isascii() and code.isalpha()):
        raise _FieldError("nationality", _("Give the nationality as a three-letter ISO 3166 code."))
    return code


def _check_person_consistency(values: Mapping[str, Any]) -> None:
    """Raise _FieldError unless birth date and sex agree with the ID number."""
    if values["birth_date"] != birth_date_of(values["id_number"]):
        raise _FieldError("birth_date", _("The birth date does not match the ID number."))
    if values["sex"] != sex_of(values["id_number"]):
        raise _FieldError("sex", _("The sex does not match the ID number."))


_PERSON_CLEANERS: dict[str, Callable[[Any, RegionLookup], Any]] = {
    "id_number": lambda value, _lookup: _clean_id_number(value),
    "name": lambda value, _lookup: _clean_text("name", value, max_length=100),
    "sex": lambda value, _lookup: _clean_choice("sex", value, Person.Sex.values),
    "birth_date": lambda value, _lookup: _clean_date("birth_date", value),
    "nationality": lambda value, _lookup: _clean_nationality(value),
    "address_region": lambda value, lookup: _clean_region("address_region", value, lookup),
    "status": lambda value, _lookup: _clean_choice("status", value, Person.Status.values),
}


def _clean_new_person(values: Mapping[str, Any], lookup: RegionLookup) -> dict[str, Any]:
    cleaned = {
        field: _PERSON_CLEANERS[field](values.get(field), lookup)
        for field in ("id_number", "name", "sex", "birth_date", "address_region")
    }
    cleaned["nationality"] = _PERSON_CLEANERS["nationality"](values.get("nationality", "CHN"), lookup)
    _check_person_consistency(cleaned)
    return cleaned


def _clean_representative(value: Any) -> Person:
    person = find_person_by_id_number(value) if isinstance(value, str) else value
    if not isinstance(person, Person) or person.pk is None:
        raise _FieldError("legal_representative", _("The legal representative is not in the population registry."))
    if person.status != Person.Status.LIVING:
        raise _FieldError("legal_representative", _("The legal representative must be a living person."))
    return person


_ENTITY_CLEANERS: dict[str, Callable[[Any, RegionLookup], Any]] = {
    "name": lambda value, _lookup: _clean_text("name", value, max_length=200),
    "entity_type": lambda value, _lookup: _clean_choice("entity_type", value, LegalEntity.EntityType.values),
    "legal_representative": lambda value, _lookup: _clean_representative(value),
    "registered_region": lambda value, lookup: _clean_region("registered_region", value, lookup),
    "status": lambda value, _lookup: _clean_choice("status", value, LegalEntity.Status.values),
    "established_on": lambda value, _lookup: _clean_date("established_on", value, optional=True),
}


def _clean_uscc(value: Any) -> str:
    code = normalize_uscc(value)
    error = uscc_error(code)
    if error:
        raise _FieldError("uscc", error)
    return code


# -- history and authorization --------------------------------------------------------------------


def _history_value(field: str, value: Any) -> Any:
    """Return ``value`` as stored in a history entry: JSON-ready, ID numbers masked."""
    if field == "id_number":
        return mask_id_number(value)
    if isinstance(value, Region):
        return value.code
    if isinstance(value, Person):
        return value.pk
    if isinstance(value, date):
        return value.isoformat()
    return value


def _snapshot(record: Person | LegalEntity, fields: Iterable[str]) -> dict[str, Any]:
    return {field: _history_value(field, getattr(record, field)) for field in fields}


def _registry(code: str) -> Registry:
    registry = Registry.objects.select_related("owner").filter(code=code).first()
    if registry is None:
        raise Conflict(_("The %(code)s registry has not been set up.") % {"code": code})
    return registry


def _require_may_change(actor: Any, registry: Registry) -> None:
    if not may_change(actor, registry):
        raise PermissionDenied(_("Only the department that owns this registry may change its records."))


def _duplicate_person() -> InvalidInput:
    return InvalidInput(_("A person with this ID number is already registered."), field="id_number")


def _duplicate_entity() -> InvalidInput:
    return InvalidInput(
        _("A legal entity with this unified social credit code is already registered."), field="uscc"
    )


def _chunks(values: Sequence[str], size: int = LOOKUP_CHUNK_SIZE) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# -- registries -----------------------------------------------------------------------------------


@transaction.atomic
def ensure_registry(*, actor: Any, code: str, name: str, name_en: str, owner: Department) -> Registry:
    """Create the registry ``code`` owned by ``owner``, or bring it up to date, and return it.

    Writes (and audits) nothing when the registry is already as described.
    Raise PermissionDenied unless the actor is the platform or may change registries.
    """
    if not (sees_everything(actor) or has_perm(actor, "registries.change_registry")):
        raise PermissionDenied(_("Only the platform may set up registries."))
    registry = Registry.objects.select_for_update().filter(code=code).first()
    if registry is None:
        registry = Registry.objects.create(code=code, name=name, name_en=name_en, owner=owner)
        audit.record("registries.registry.created", actor=actor, target=f"registry:{code}",
                     details={"owner": owner.pk})
        return registry
    wanted = {"name": name, "name_en": name_en, "owner_id": owner.pk}
    changed = sorted(field for field, value in wanted.items() if getattr(registry, field) != value)
    if changed:
        for field in changed:
            setattr(registry, field, wanted[field])
        registry.save(update_fields=changed)
        audit.record("registries.registry.updated", actor=actor, target=f"registry:{code}",
                     details={"fields": changed, "owner": owner.pk})
    return registry


# -- persons --------------------------------------------------------------------------------------


@transaction.atomic
def register_person(
    *,
    actor: Any,
    id_number: str,
    name: str,
    sex: str,
    birth_date: date | str,
    address_region: Region | str,
    nationality: str = "CHN",
    reason: str,
) -> Person:
    """Register a natural person in the population registry and return them.

    ``address_region`` is a Region or its code. Raise PermissionDenied unless the
    actor acts for the registry's owner; InvalidInput (with ``field``) for an
    invalid ID number, a birth date or sex that disagrees with it, an already
    registered number or any other bad value; Conflict if the registry is not set up.
    """
    registry = _registry(PERSON_REGISTRY)
    _require_may_change(actor, registry)
    reason = _clean_reason(reason)
    with _as_invalid_input():
        values = _clean_new_person(
            {"id_number": id_number, "name": name, "sex": sex, "birth_date": birth_date,
             "address_region": address_region, "nationality": nationality},
            _region_by_code,
        )
    index = id_number_index(values["id_number"])
    if Person.objects.filter(id_number_index=index).exists():
        raise _duplicate_person()
    try:
        with transaction.atomic():
            person = Person.objects.create(registry=registry, id_number_index=index, **values)
    except IntegrityError:  # registered concurrently
        raise _duplicate_person() from None
    RecordChange.objects.create(
        registry=registry, record_key=f"person:{person.pk}", person=person, kind=RecordChange.Kind.CREATED,
        after=_snapshot(person, PERSON_FIELDS), reason=reason, changed_by=audit.describe_actor(actor),
        changed_at=timezone.now(),
    )
    audit.record("registries.person.registered", actor=actor, target=f"person:{person.pk}",
                 details={"registry": registry.code})
    return person


@transaction.atomic
def amend_person(person: Person, *, actor: Any, changes: Mapping[str, Any], reason: str) -> Person:
    """Change some of a person's fields and return the person as amended.

    ``changes`` maps field names (id_number, name, sex, birth_date, nationality,
    address_region, status) to new values; marking a person deceased is
    ``{"status": "deceased"}``. The birth date and sex must still agree with the
    ID number afterwards. Changes that leave every field as it is write nothing.
    Raise PermissionDenied unless the actor acts for the registry's owner;
    InvalidInput for an unknown field, a bad value or a number registered to
    someone else.
    """
    registry = Registry.objects.get(pk=person.registry_id)
    _require_may_change(actor, registry)
    reason = _clean_reason(reason)
    unknown = sorted(set(changes) - set(PERSON_FIELDS))
    if unknown:
        raise InvalidInput(_("These fields cannot be amended: %(fields)s.") % {"fields": ", ".join(unknown)},
                           field=unknown[0])
    with _as_invalid_input():
        cleaned = {field: _PERSON_CLEANERS[field](value, _region_by_code) for field, value in changes.items()}
        # Decide on the locked row, so that concurrent amendments do not overwrite each other.
        current = Person.objects.select_for_update().select_related("address_region").get(pk=person.pk)
        _check_person_consistency({**{f: getattr(current, f) for f in PERSON_FIELDS}, **cleaned})
    changed = [field for field in PERSON_FIELDS if field in cleaned and getattr(current, field) != cleaned[field]]
    if not changed:
        return current
    update_fields = [*changed, "updated_at"]
    if "id_number" in changed:
        index = id_number_index(cleaned["id_number"])
        if Person.objects.filter(id_number_index=index).exclude(pk=current.pk).exists():
            raise _duplicate_person()
        current.id_number_index = index
        update_fields.append("id_number_index")
    before = _snapshot(current, changed)
    for field in changed:
        setattr(current, field, cleaned[field])
    try:
        with transaction.atomic():
            current.save(update_fields=update_fields)
    except IntegrityError:  # the new number was registered concurrently
        raise _duplicate_person() from None
    RecordChange.objects.create(
        registry=registry, record_key=f"person:{current.pk}", person=current, kind=RecordChange.Kind.UPDATED,
        before=before, after=_snapshot(current, changed), reason=reason,
        changed_by=audit.describe_actor(actor), changed_at=timezone.now(),
    )
    audit.record("registries.person.amended", actor=actor, target=f"person:{current.pk}",
                 details={"registry": registry.code, "fields": changed})
    for field in [*update_fields]:
        setattr(person, field, getattr(current, field))
    return current


def _import_report(errors: list[dict[str, Any]], total: int) -> InvalidInput:
    return InvalidInput(
        _("%(bad)d of %(total)d rows are not valid; nothing was imported.") % {"bad": len(errors), "total": total},
        errors=errors[:MAX_REPORTED_ERRORS],
        error_count=len(errors),
    )


def _row_error(row: int, field: str, message: str) -> dict[str, Any]:
    return {"row": row, "field": field, "message": message}


def _unknown_keys(row: Mapping[str, Any], allowed: frozenset[str]) -> list[str]:
    return sorted(str(key) for key in row if key not in allowed)


@transaction.atomic
def import_persons(
    rows: Iterable[Mapping[str, Any]], *, actor: Any, reason: str, skip_registered: bool = False
) -> int:
    """Register many persons at once, all or nothing, and return how many were registered.

    Each row has the keyword arguments of ``register_person`` (without actor and
    reason); ``address_region`` may be a region code. Every row is validated
    before anything is written; if any row is bad, raise InvalidInput whose
    ``errors`` list gives ``row`` (counted from 1), ``field`` and ``message``.
    A number that is already registered is a bad row, unless ``skip_registered``
    (for re-running an import), which leaves those rows out. One audit record
    covers the whole batch; a batch with nothing new writes nothing. Call it
    once per batch (thousands of rows), not once for a million.
    """
    registry = _registry(PERSON_REGISTRY)
    _require_may_change(actor, registry)
    reason = _clean_reason(reason)
    rows = list(rows)
    regions = _regions_by_code(row.get("address_region") for row in rows)
    errors: list[dict[str, Any]] = []
    accepted: list[tuple[int, dict[str, Any], str]] = []
    first_row_of: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        unknown = _unknown_keys(row, PERSON_ROW_KEYS)
        if unknown:
            errors.append(_row_error(number, unknown[0], _("Unknown column.")))
            continue
        try:
            values = _clean_new_person(row, regions.get)
        except _FieldError as error:
            errors.append(_row_error(number, error.field, error.message))
            continue
        index = id_number_index(values["id_number"])
        if index in first_row_of:
            errors.append(_row_error(number, "id_number", _("The same ID number is in row %(row)d.")
                                     % {"row": first_row_of[index]}))
            continue
        first_row_of[index] = number
        accepted.append((number, values, index))
    indexes = [index for _number, _values, index in accepted]
    existing = {
        index
        for chunk in _chunks(indexes)
        for index in Person.objects.filter(id_number_index__in=chunk).values_list("id_number_index", flat=True)
    }
    if skip_registered:
        accepted = [entry for entry in accepted if entry[2] not in existing]
    else:
        errors.extend(
            _row_error(number, "id_number", str(_duplicate_person().detail))
            for number, _values, index in accepted if index in existing
        )
    if errors:
        errors.sort(key=lambda error: error["row"])
        raise _import_report(errors, len(rows))
    if not accepted:
        return 0
    persons = Person.objects.bulk_create(
        [Person(registry=registry, id_number_index=index, **values) for _number, values, index in accepted],
        batch_size=BULK_BATCH_SIZE,
    )
    changed_by, changed_at = audit.describe_actor(actor), timezone.now()
    RecordChange.objects.bulk_create(
        [
            RecordChange(
                registry=registry, record_key=f"person:{person.pk}", person=person,
                kind=RecordChange.Kind.CREATED, after=_snapshot(person, PERSON_FIELDS), reason=reason,
                changed_by=changed_by, changed_at=changed_at,
            )
            for person in persons
        ],
        batch_size=BULK_BATCH_SIZE,
    )
    audit.record("registries.persons.imported", actor=actor, target=f"registry:{registry.code}",
                 details={"count": len(persons), "first": persons[0].pk, "last": persons[-1].pk})
    return len(persons)


# -- legal entities -------------------------------------------------------------------------------


@transaction.atomic
def register_entity(
    *,
    actor: Any,
    uscc: str,
    name: str,
    entity_type: str,
    legal_representative: Person,
    registered_region: Region | str,
    established_on: date | str | None = None,
    reason: str,
) -> LegalEntity:
    """Register a legal entity in the legal-entity registry and return it.

    Raise PermissionDenied unless the actor acts for the registry's owner;
    InvalidInput for an invalid or already registered USCC, a legal
    representative who is not a living registered person or another bad value.
    """
    registry = _registry(ENTITY_REGISTRY)
    _require_may_change(actor, registry)
    reason = _clean_reason(reason)
    with _as_invalid_input():
        code = _clean_uscc(uscc)
        values = {
            field: _ENTITY_CLEANERS[field](value, _region_by_code)
            for field, value in (("name", name), ("entity_type", entity_type),
                                 ("legal_representative", legal_representative),
                                 ("registered_region", registered_region), ("established_on", established_on))
        }
    if LegalEntity.objects.filter(uscc=code).exists():
        raise _duplicate_entity()
    try:
        with transaction.atomic():
            entity = LegalEntity.objects.create(registry=registry, uscc=code, **values)
    except IntegrityError:  # registered concurrently
        raise _duplicate_entity() from None
    RecordChange.objects.create(
        registry=registry, record_key=f"entity:{entity.pk}", entity=entity, kind=RecordChange.Kind.CREATED,
        after=_snapshot(entity, ("uscc", *ENTITY_FIELDS)), reason=reason,
        changed_by=audit.describe_actor(actor), changed_at=timezone.now(),
    )
    audit.record("registries.entity.registered", actor=actor, target=f"entity:{entity.pk}",
                 details={"registry": registry.code})
    return entity


@transaction.atomic
def amend_entity(entity: LegalEntity, *, actor: Any, changes: Mapping[str, Any], reason: str) -> LegalEntity:
    """Change some of a legal entity's fields and return the entity as amended.

    ``changes`` maps field names (name, entity_type, legal_representative — a
    Person or an ID number —, registered_region, status, established_on) to new
    values; the USCC never changes. Changes that leave every field as it is
    write nothing. Raise PermissionDenied unless the actor acts for the
    registry's owner; InvalidInput for an unknown field or a bad value.
    """
    registry = Registry.objects.get(pk=entity.registry_id)
    _require_may_change(actor, registry)
    reason = _clean_reason(reason)
    if "uscc" in changes:
        raise InvalidInput(_("The unified social credit code of a registered entity cannot change."),
                           field="uscc")
    unknown = sorted(set(changes) - set(ENTITY_FIELDS))
    if unknown:
        raise InvalidInput(_("These fields cannot be amended: %(fields)s.") % {"fields": ", ".join(unknown)},
                           field=unknown[0])
    with _as_invalid_input():
        cleaned = {field: _ENTITY_CLEANERS[field](value, _region_by_code) for field, value in changes.items()}
    current = (
        LegalEntity.objects.select_for_update()
        .select_related("registered_region", "legal_representative")
        .get(pk=entity.pk)
    )
    changed = [field for field in ENTITY_FIELDS if field in cleaned and getattr(current, field) != cleaned[field]]
    if not changed:
        return current
    before = _snapshot(current, changed)
    for field in changed:
        setattr(current, field, cleaned[field])
    current.save(update_fields=[*changed, "updated_at"])
    RecordChange.objects.create(
        registry=registry, record_key=f"entity:{current.pk}", entity=current, kind=RecordChange.Kind.UPDATED,
        before=before, after=_snapshot(current, changed), reason=reason,
        changed_by=audit.describe_actor(actor), changed_at=timezone.now(),
    )
    audit.record("registries.entity.amended", actor=actor, target=f"entity:{current.pk}",
                 details={"registry": registry.code, "fields": changed})
    for field in [*changed, "updated_at"]:
        setattr(entity, field, getattr(current, field))
    return current


def _representatives_by_number(values: Iterable[Any]) -> dict[str, Person]:
    """Return the registered persons for the ID numbers among ``values``, keyed by normalized number."""
    numbers = sorted({normalize_id_number(value) for value in values if isinstance(value, str)})
    by_index = {id_number_index(number): number for number in numbers}
    found: dict[str, Person] = {}
    for chunk in _chunks(list(by_index)):
        # Deferring the encrypted number saves decrypting every representative.
        for person in Person.objects.filter(id_number_index__in=chunk).only("pk", "id_number_index", "status"):
            found[by_index[person.id_number_index]] = person
    return found


@transaction.atomic
def import_entities(
    rows: Iterable[Mapping[str, Any]], *, actor: Any, reason: str, skip_registered: bool = False
) -> int:
    """Register many legal entities at once, all or nothing, and return how many were registered.

    Each row has the keyword arguments of ``register_entity`` (without actor and
    reason); ``legal_representative`` may be the representative's ID number and
    ``registered_region`` a region code. Bad rows, already registered codes and
    ``skip_registered`` work as in ``import_persons``.
    """
    registry = _registry(ENTITY_REGISTRY)
    _require_may_change(actor, registry)
    reason = _clean_reason(reason)
    rows = list(rows)
    regions = _regions_by_code(row.get("registered_region") for row in rows)
    representatives = _representatives_by_number(row.get("legal_representative") for row in rows)

    def representative(value: Any) -> Person:
        if isinstance(value, str):
            person = representatives.get(normalize_id_number(value))
            if person is None:
                raise _FieldError(
                    "legal_representative", _("The legal representative is not in the population registry.")
                )
            value = person
        return _clean_representative(value)

    errors: list[dict[str, Any]] = []
    accepted: list[tuple[int, dict[str, Any]]] = []
    first_row_of: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        unknown = _unknown_keys(row, ENTITY_ROW_KEYS)
        if unknown:
            errors.append(_row_error(number, unknown[0], _("Unknown column.")))
            continue
        try:
            values = {
                "uscc": _clean_uscc(row.get("uscc")),
                "name": _ENTITY_CLEANERS["name"](row.get("name"), regions.get),
                "entity_type": _ENTITY_CLEANERS["entity_type"](row.get("entity_type"), regions.get),
                "legal_representative": representative(row.get("legal_representative")),
                "registered_region": _clean_region("registered_region", row.get("registered_region"), regions.get),
                "established_on": _clean_date("established_on", row.get("established_on"), optional=True),
            }
        except _FieldError as error:
            errors.append(_row_error(number, error.field, error.message))
            continue
        if values["uscc"] in first_row_of:
            errors.append(_row_error(number, "uscc", _("The same code is in row %(row)d.")
                                     % {"row": first_row_of[values["uscc"]]}))
            continue
        first_row_of[values["uscc"]] = number
        accepted.append((number, values))
    codes = [values["uscc"] for _number, values in accepted]
    existing = {
        code for chunk in _chunks(codes) for code in LegalEntity.objects.filter(uscc__in=chunk).values_list("uscc", flat=True)
    }
    if skip_registered:
        accepted = [entry for entry in accepted if entry[1]["uscc"] not in existing]
    else:
        errors.extend(
            _row_error(number, "uscc", str(_duplicate_entity().detail))
            for number, values in accepted if values["uscc"] in existing
        )
    if errors:
        errors.sort(key=lambda error: error["row"])
        raise _import_report(errors, len(rows))
    if not accepted:
        return 0
    entities = LegalEntity.objects.bulk_create(
        [LegalEntity(registry=registry, **values) for _number, values in accepted], batch_size=BULK_BATCH_SIZE
    )
    changed_by, changed_at = audit.describe_actor(actor), timezone.now()
    RecordChange.objects.bulk_create(
        [
            RecordChange(
                registry=registry, record_key=f"entity:{entity.pk}", entity=entity,
                kind=RecordChange.Kind.CREATED, after=_snapshot(entity, ("uscc", *ENTITY_FIELDS)),
                reason=reason, changed_by=changed_by, changed_at=changed_at,
            )
            for entity in entities
        ],
        batch_size=BULK_BATCH_SIZE,
    )
    audit.record("registries.entities.imported", actor=actor, target=f"registry:{registry.code}",
                 details={"count": len(entities), "first": entities[0].pk, "last": entities[-1].pk})
    return len(entities)


def record_access(action: str, *, actor: Any, records: Iterable[Person | LegalEntity], query: str = "") -> None:
    """Append one audit record naming the registry records an actor was shown.

    Reads of personal data are audited like writes, by record key only (never a
    name or an ID number), so that a data subject's accesses can be traced.
    """
    keys = [f"{type(record).__name__.lower()}:{record.pk}" for record in records]
    audit.record(action, actor=actor, target=keys[0] if len(keys) == 1 else "", details={"records": keys, "query": query})

