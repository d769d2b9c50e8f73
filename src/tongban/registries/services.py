"""Every write to the base registries. Other blocks import from here only.

Each write checks that the actor is the platform or acts for the department
that owns the registry, validates its input, changes the record, appends a
history entry (who, when, why; ID numbers masked) and one audit record, all in
one transaction. Refusals raise a ``kernel.problems`` error and write nothing.

Vital events (``register_vital_event``) belong to the births-and-deaths
registry (health) or the marriage registry (civil affairs); parcels and their
ownership shares (``register_parcel``, ``transfer_parcel``) to the
real-property registry (natural resources).

The read functions identity needs (``find_person_by_id_number``,
``match_real_name``, ``entities_represented_by``, ``find_entity_by_uscc``) and
the scoped selectors are re-exported here, and so are the number checks
(``normalize_id_number``, ``id_number_error``, ``normalize_uscc``, ``uscc_error``):
validate ID numbers with these, not with ``stdnum.cn.ric.validate`` (see ``numbers``).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import partial
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.files.storage import Storage
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q, QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from tongban.kernel import audit
from tongban.kernel.masking import mask_id_number
from tongban.kernel.models import Department, Region
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied, Problem
from tongban.kernel.processes import ProcessState, process_state, this_process
from tongban.registries.access import has_perm, may_change, sees_everything
from tongban.registries.files import READ_ERRORS, SUPPORTED_SUFFIXES, open_rows
from tongban.registries.generator import make_uscc, organization_code
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
    import_storage,
)
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
    MaritalStatus,
    current_spouse_id,
    definition_of,
    dynamic_record_as_of,
    dynamic_records_visible_to,
    dynamic_registries,
    dynamic_registry,
    entities_represented_by,
    entities_visible_to,
    entity_as_of,
    entity_history,
    find_dynamic_record,
    find_entity_by_uscc,
    find_person_by_id_number,
    imports_visible_to,
    last_marriage_event,
    marital_facts,
    match_real_name,
    parcel_history,
    parcel_shares,
    parcels_visible_to,
    person_as_of,
    person_history,
    persons_visible_to,
    present_id_number,
    property_holdings,
    registries_changeable_by,
    visible_dynamic_record,
    visible_entity,
    visible_entity_as_of,
    visible_import,
    visible_parcel,
    visible_person,
    visible_person_as_of,
    visible_vital_event,
    vital_events_visible_to,
    vital_facts,
)
from tongban.registries.tasks import run_registry_import

__all__ = [
    "BIRTH_DEATH_REGISTRY",
    "ENTITY_REGISTRY",
    "MARRIAGE_REGISTRY",
    "PERSON_REGISTRY",
    "PROPERTY_REGISTRY",
    "MaritalStatus",
    "amend_entity",
    "amend_person",
    "amend_record",
    "current_spouse_id",
    "define_registry",
    "definition_of",
    "dynamic_record_as_of",
    "dynamic_records_visible_to",
    "dynamic_registries",
    "dynamic_registry",
    "ensure_registry",
    "entities_represented_by",
    "entities_visible_to",
    "entity_as_of",
    "entity_history",
    "find_dynamic_record",
    "find_entity_by_uscc",
    "find_person_by_id_number",
    "id_number_error",
    "import_columns",
    "import_entities",
    "import_parcels",
    "import_persons",
    "import_records",
    "import_rows",
    "import_vital_events",
    "importable_registries",
    "imports_visible_to",
    "last_marriage_event",
    "marital_facts",
    "match_real_name",
    "new_uscc",
    "normalize_id_number",
    "normalize_uscc",
    "open_rows",
    "parcel_history",
    "parcel_shares",
    "parcels_visible_to",
    "person_as_of",
    "person_history",
    "persons_visible_to",
    "present_id_number",
    "property_holdings",
    "record_access",
    "register_entity",
    "register_parcel",
    "register_person",
    "register_record",
    "register_vital_event",
    "registries_changeable_by",
    "registry_definition_error",
    "run_import",
    "start_import",
    "transfer_parcel",
    "uscc_error",
    "visible_dynamic_record",
    "visible_entity",
    "visible_entity_as_of",
    "visible_import",
    "visible_parcel",
    "visible_person",
    "visible_person_as_of",
    "visible_vital_event",
    "vital_events_visible_to",
    "vital_facts",
]

# The registries every deployment has, by code.
PERSON_REGISTRY = "persons"
ENTITY_REGISTRY = "legal-entities"
# Births and deaths are registered by health, marriages and divorces by civil affairs.
BIRTH_DEATH_REGISTRY = "births-deaths"
MARRIAGE_REGISTRY = "marriages"
PROPERTY_REGISTRY = "real-property"
VITAL_REGISTRY_OF_KIND: dict[str, str] = {
    VitalEvent.Kind.BIRTH: BIRTH_DEATH_REGISTRY,
    VitalEvent.Kind.DEATH: BIRTH_DEATH_REGISTRY,
    VitalEvent.Kind.MARRIAGE: MARRIAGE_REGISTRY,
    VitalEvent.Kind.DIVORCE: MARRIAGE_REGISTRY,
}

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
    current, changed = _change_person(person, registry=registry, actor=actor, changes=changes, reason=reason)
    if changed:
        audit.record("registries.person.amended", actor=actor, target=f"person:{current.pk}",
                     details={"registry": registry.code, "fields": changed})
    return current


def _change_person(
    person: Person, *, registry: Registry, actor: Any, changes: Mapping[str, Any], reason: str
) -> tuple[Person, list[str]]:
    """Apply ``changes`` to ``person`` with a history entry; return the person and the changed fields.

    The amend path shared by ``amend_person`` and the services whose
    consequences change a person (a registered death). The caller authorizes,
    cleans the reason and writes the one audit record.
    """
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
        return current, []
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
    for field in [*update_fields]:
        setattr(person, field, getattr(current, field))
    return current, changed


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


def new_uscc(region_code: str) -> str:
    """Return a valid unified social credit code (prefix 91, an enterprise) of ``region_code`` not yet registered.

    Its organization code is drawn at random and checked against the registry;
    the unique constraint on the code settles a concurrent draw of the same one.
    """
    for _attempt in range(20):
        code = make_uscc("91", region_code, organization_code(f"{secrets.randbelow(10**8):08d}"))
        if not LegalEntity.objects.filter(uscc=code).exists():
            return code
    raise Conflict(_("No free unified social credit code was found; try again."))


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


# -- vital events ---------------------------------------------------------------------------------

# Minimum ages for marriage (Civil Code art. 1047): men 22, women 20.
MARRIAGE_AGE = {Person.Sex.MALE: 22, Person.Sex.FEMALE: 20}
_CERTIFICATE_NUMBER = re.compile(r"^[0-9A-Z][0-9A-Z-]{0,39}$")


def _clean_certificate_number(value: Any) -> str:
    number = str(value or "").strip().upper()
    if not _CERTIFICATE_NUMBER.match(number):
        raise _FieldError("certificate_number",
                          _("Give the certificate number in letters, digits and hyphens (at most 40)."))
    return number


def _clean_registered_person(field: str, value: Any, *, optional: bool = False) -> Person | None:
    if value in (None, "") and optional:
        return None
    if isinstance(value, str):
        value = find_person_by_id_number(value)
    if not isinstance(value, Person) or value.pk is None:
        raise _FieldError(field, _("This person is not in the population registry."))
    return value


def _age_on(birth_date: date, on: date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def _check_birth(child: Person, mother: Person | None, father: Person | None, occurred_on: date) -> None:
    if occurred_on != child.birth_date:
        raise _FieldError("occurred_on", _("The date of birth must be the child's registered birth date."))
    if VitalEvent.objects.filter(kind=VitalEvent.Kind.BIRTH, subject=child).exists():
        raise _FieldError("subject", _("This person's birth is already registered."))
    for field, parent, sex in (("mother", mother, Person.Sex.FEMALE), ("father", father, Person.Sex.MALE)):
        if parent is None:
            continue
        if parent.pk == child.pk:
            raise _FieldError(field, _("A person cannot be their own parent."))
        if parent.sex != sex:
            raise _FieldError(field, _("The registered sex of this parent does not fit."))
        if parent.birth_date >= occurred_on:
            raise _FieldError(field, _("A parent must be born before the child."))


def _check_couple(kind: str, subject: Person, spouse: Person | None, occurred_on: date) -> Person:
    if spouse is None:
        raise _FieldError("spouse", _("A marriage or divorce names both spouses."))
    if spouse.pk == subject.pk:
        raise _FieldError("spouse", _("The two spouses must be different persons."))
    for field, person in (("subject", subject), ("spouse", spouse)):
        if person.status != Person.Status.LIVING:
            raise _FieldError(field, _("This person is registered as deceased."))
    if kind == VitalEvent.Kind.MARRIAGE:
        for field, person in (("subject", subject), ("spouse", spouse)):
            if _age_on(person.birth_date, occurred_on) < MARRIAGE_AGE[Person.Sex(person.sex)]:
                raise _FieldError(field, _("This person is under the legal age for marriage."))
            if current_spouse_id(person) is not None:
                raise _FieldError(field, _("This person is already married."))
        return spouse
    marriage = last_marriage_event(subject)
    if current_spouse_id(subject) != spouse.pk or marriage is None:
        raise _FieldError("spouse", _("These two persons are not married to each other."))
    if occurred_on < marriage.occurred_on:
        raise _FieldError("occurred_on", _("A divorce cannot precede the marriage."))
    return spouse


def _record_vital_event(
    registry: Registry, *, actor: Any, kind: str, reason: str, occurred_on: Any, place: Any, subject: Any,
    spouse: Any, mother: Any, father: Any, certificate_number: Any,
) -> tuple[VitalEvent, list[int]]:
    """Validate and write one vital event (and a death's consequence); return it and the persons' ids.

    The caller has authorized the actor for ``registry``, cleaned the reason
    and writes the audit record.
    """
    couple = kind in (VitalEvent.Kind.MARRIAGE, VitalEvent.Kind.DIVORCE)
    with _as_invalid_input():
        occurred_at = _clean_date("occurred_on", occurred_on)
        assert occurred_at is not None
        region = _clean_region("place", place, _region_by_code)
        number = _clean_certificate_number(certificate_number)
        given = {
            "subject": _clean_registered_person("subject", subject),
            "spouse": _clean_registered_person("spouse", spouse, optional=True),
            "mother": _clean_registered_person("mother", mother, optional=True),
            "father": _clean_registered_person("father", father, optional=True),
        }
        if given["spouse"] is not None and not couple:
            raise _FieldError("spouse", _("Only a marriage or divorce names a spouse."))
        if kind != VitalEvent.Kind.BIRTH and (given["mother"] or given["father"]):
            raise _FieldError("mother" if given["mother"] else "father", _("Only a birth names parents."))
        # Decide on locked rows (in a fixed order), so that two registrations
        # cannot marry the same person twice or record two deaths.
        ids = sorted({person.pk for person in given.values() if person is not None})
        locked = {person.pk: person for person in Person.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
        persons = {field: locked[person.pk] if person else None for field, person in given.items()}
        person = persons["subject"]
        assert person is not None
        if occurred_at < person.birth_date:
            raise _FieldError("occurred_on", _("The event cannot precede the person's birth."))
        if kind == VitalEvent.Kind.BIRTH:
            _check_birth(person, persons["mother"], persons["father"], occurred_at)
        elif kind == VitalEvent.Kind.DEATH:
            if person.status != Person.Status.LIVING or VitalEvent.objects.filter(
                kind=VitalEvent.Kind.DEATH, subject=person
            ).exists():
                raise _FieldError("subject", _("This person's death is already registered."))
        else:
            _check_couple(kind, person, persons["spouse"], occurred_at)
        if VitalEvent.objects.filter(kind=kind, certificate_number=number).exists():
            raise _FieldError("certificate_number", _("This certificate number is already registered."))
    try:
        with transaction.atomic():
            event = VitalEvent.objects.create(
                registry=registry, kind=kind, occurred_on=occurred_at, place=region, subject=person,
                spouse=persons["spouse"], mother=persons["mother"], father=persons["father"],
                department=registry.owner, certificate_number=number, reason=reason,
                registered_by=audit.describe_actor(actor), registered_at=timezone.now(),
            )
    except IntegrityError:  # the same certificate or death registered concurrently
        raise InvalidInput(_("This event is already registered."), field="certificate_number") from None
    if kind == VitalEvent.Kind.DEATH:
        _change_person(person, registry=_registry(PERSON_REGISTRY), actor=actor,
                       changes={"status": Person.Status.DECEASED}, reason=reason)
    return event, ids


@transaction.atomic
def register_vital_event(
    *,
    actor: Any,
    kind: str,
    occurred_on: date | str,
    place: Region | str,
    subject: Person | str,
    certificate_number: str,
    reason: str,
    spouse: Person | str | None = None,
    mother: Person | str | None = None,
    father: Person | str | None = None,
) -> VitalEvent:
    """Register a birth, death, marriage or divorce and return the event.

    Births and deaths belong to the births-and-deaths registry (health),
    marriages and divorces to the marriage registry (civil affairs); only the
    owning department registers them. ``subject`` is the person born or
    deceased, or one spouse; ``spouse`` the other spouse (marriage, divorce
    only); ``mother`` and ``father`` are optional and for births only. Each
    person is a Person or their ID number. A death
    marks the subject deceased in the population registry, with a history
    entry, in the same transaction.

    Raise PermissionDenied unless the actor acts for the owning department;
    InvalidInput (with ``field``) for an unknown kind, a second birth or death,
    a marriage of someone already married or under age, a divorce of persons
    not married to each other, a certificate number already used or any other
    bad value; Conflict if the registry is not set up.
    """
    with _as_invalid_input():
        kind = _clean_choice("kind", kind, VitalEvent.Kind.values)
    registry = _registry(VITAL_REGISTRY_OF_KIND[kind])
    _require_may_change(actor, registry)
    reason = _clean_reason(reason)
    event, ids = _record_vital_event(
        registry, actor=actor, kind=kind, reason=reason, occurred_on=occurred_on, place=place, subject=subject,
        spouse=spouse, mother=mother, father=father, certificate_number=certificate_number,
    )
    audit.record("registries.vital_event.registered", actor=actor, target=f"vital_event:{event.pk}",
                 details={"registry": registry.code, "kind": kind,
                          "persons": [f"person:{pk}" for pk in ids]})
    return event


VITAL_EVENT_ROW_KEYS = frozenset(
    {"kind", "occurred_on", "place", "subject", "spouse", "mother", "father", "certificate_number"}
)


@transaction.atomic
def import_vital_events(
    rows: Iterable[Mapping[str, Any]],
    *,
    actor: Any,
    registry_code: str,
    reason: str,
    skip_registered: bool = False,
) -> int:
    """Register many vital events of one registry, in row order, all or nothing; return how many were new.

    Each row has the keyword arguments of ``register_vital_event`` (without
    actor and reason), persons given by ID number; a row may rely on an
    earlier one (a divorce after a marriage in the same file). Every row of
    another registry's kind is a bad row. A certificate already registered is
    a bad row unless ``skip_registered``. Raise PermissionDenied unless the
    actor acts for the registry's owner; InvalidInput with ``errors`` (``row``,
    ``field``, ``message``) if any row is bad, and then nothing is registered.
    One audit record covers the batch.
    """
    registry = _registry(registry_code)
    kinds = [kind for kind, code in VITAL_REGISTRY_OF_KIND.items() if code == registry.code]
    if not kinds:
        raise InvalidInput(_("This is not a vital-event registry."), field="registry")
    _require_may_change(actor, registry)
    reason = _clean_reason(reason)
    errors: list[dict[str, Any]] = []
    events: list[VitalEvent] = []
    total = 0
    for number, row in enumerate(rows, start=1):
        total = number
        unknown = _unknown_keys(row, VITAL_EVENT_ROW_KEYS)
        if unknown:
            errors.append(_row_error(number, unknown[0], _("Unknown column.")))
            continue
        if row.get("kind") not in kinds:
            errors.append(_row_error(number, "kind", _("Choose one of: %(choices)s.") % {"choices": ", ".join(kinds)}))
            continue
        if skip_registered and VitalEvent.objects.filter(
            kind=row["kind"], certificate_number=str(row.get("certificate_number") or "").strip().upper()
        ).exists():
            continue
        try:
            # A savepoint per row: a bad row leaves nothing behind, later rows are still checked.
            with transaction.atomic():
                event, _ids = _record_vital_event(
                    registry, actor=actor, reason=reason, kind=row["kind"], occurred_on=row.get("occurred_on"),
                    place=row.get("place"), subject=row.get("subject"), spouse=row.get("spouse"),
                    mother=row.get("mother"), father=row.get("father"),
                    certificate_number=row.get("certificate_number"),
                )
        except InvalidInput as problem:
            errors.append(_row_error(number, str(problem.extensions.get("field", "")), problem.detail))
            continue
        events.append(event)
    if errors:
        raise _import_report(errors, total)
    if not events:
        return 0
    audit.record("registries.vital_events.imported", actor=actor, target=f"registry:{registry.code}",
                 details={"count": len(events), "first": events[0].pk, "last": events[-1].pk,
                          "deaths": sum(event.kind == VitalEvent.Kind.DEATH for event in events)})
    return len(events)


# -- real property --------------------------------------------------------------------------------

# 宗地代码: county code (6), cadastral zone and subzone (6), ownership and type letters (2),
# parcel number (5); a real-property unit code adds a building part (1 letter, 8 digits).
_LOCATION_CODE = re.compile(r"^\d{12}[A-Z]{2}\d{5}(?:[A-Z]\d{8})?$")
MAX_AREA = Decimal("1000000000000")
MAX_SHARE_DENOMINATOR = 1_000_000

Holder = Person | LegalEntity


def _clean_location_code(value: Any, region: Region) -> str:
    code = str(value or "").strip().upper()
    if not _LOCATION_CODE.match(code):
        raise _FieldError("location_code", _("Give the parcel code as 19 (or 28) characters: "
                                             "county code, zone, two letters, number."))
    if not code.startswith(region.code):
        raise _FieldError("location_code", _("The parcel code must begin with the code of its region."))
    return code


def _clean_area(value: Any) -> Decimal:
    try:
        area = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise _FieldError("area", _("Give the area in square metres, as a number.")) from None
    if not area.is_finite() or area <= 0 or area >= MAX_AREA:
        raise _FieldError("area", _("Give the area in square metres, as a positive number."))
    if area != area.quantize(Decimal("0.01")):
        raise _FieldError("area", _("Give the area to at most two decimal places."))
    return area.quantize(Decimal("0.01"))


def _clean_share(value: Any) -> Fraction:
    try:
        if isinstance(value, float):
            raise ValueError
        share = value if isinstance(value, Fraction) else Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        raise _FieldError("owners", _("Give each share as a fraction such as 1/2, or a decimal such as 0.5.")) from None
    if not 0 < share <= 1 or share.denominator > MAX_SHARE_DENOMINATOR:
        raise _FieldError("owners", _("Each share must be more than 0 and at most 1."))
    return share


def _clean_holder(value: Any) -> Holder:
    if isinstance(value, Person) and value.pk is not None:
        if value.status != Person.Status.LIVING:
            raise _FieldError("owners", _("A deceased person cannot acquire a share."))
        return value
    if isinstance(value, LegalEntity) and value.pk is not None:
        if value.status != LegalEntity.Status.ACTIVE:
            raise _FieldError("owners", _("Only an active legal entity can acquire a share."))
        return value
    raise _FieldError("owners", _("Each owner must be a registered person or legal entity."))


def _holder_of(owner: Mapping[str, Any]) -> Any:
    """Return the holder an owner entry names: ``holder``, or a ``person`` ID number, or an ``entity`` USCC."""
    if isinstance(owner.get("person"), str):
        return find_person_by_id_number(owner["person"])
    if isinstance(owner.get("entity"), str):
        return find_entity_by_uscc(owner["entity"])
    return owner.get("holder")


def _holder_key(holder: Holder) -> str:
    return f"{'person' if isinstance(holder, Person) else 'entity'}:{holder.pk}"


def _clean_owners(owners: Any) -> list[tuple[Holder, Fraction]]:
    """Return ``owners`` as (holder, share) pairs; raise _FieldError unless the shares add up to one."""
    if isinstance(owners, (str, bytes, Mapping)) or not isinstance(owners, Iterable):
        raise _FieldError("owners", _("Give the owners as a list of holders and shares."))
    cleaned: list[tuple[Holder, Fraction]] = []
    seen: set[str] = set()
    for owner in owners:
        if not isinstance(owner, Mapping):
            raise _FieldError("owners", _("Give the owners as a list of holders and shares."))
        holder, share = _clean_holder(_holder_of(owner)), _clean_share(owner.get("share"))
        key = _holder_key(holder)
        if key in seen:
            raise _FieldError("owners", _("Each owner may appear only once."))
        seen.add(key)
        cleaned.append((holder, share))
    if not cleaned:
        raise _FieldError("owners", _("A parcel has at least one owner."))
    if sum(share for _holder, share in cleaned) != 1:
        raise _FieldError("owners", _("The owners' shares must add up to exactly 1."))
    return cleaned


def _share_rows(parcel: Parcel, owners: list[tuple[Holder, Fraction]], acquired_on: date) -> list[OwnershipShare]:
    return [
        OwnershipShare(
            parcel=parcel, acquired_on=acquired_on, numerator=share.numerator, denominator=share.denominator,
            holder_person=holder if isinstance(holder, Person) else None,
            holder_entity=holder if isinstance(holder, LegalEntity) else None,
        )
        for holder, share in owners
    ]


def _owners_snapshot(shares: Iterable[OwnershipShare]) -> list[dict[str, str]]:
    """Return shares for a history entry: holders by record key (never a name), shares as fractions."""
    return sorted(
        ({"holder": share.holder_key, "share": f"{share.numerator}/{share.denominator}"} for share in shares),
        key=lambda owner: owner["holder"],
    )


def _duplicate_parcel() -> InvalidInput:
    return InvalidInput(_("A parcel with this code is already registered."), field="location_code")


def _record_parcel(
    registry: Registry, *, actor: Any, reason: str, location_code: Any, region: Any, area: Any, use: Any,
    owners: Any, acquired_on: Any,
) -> tuple[Parcel, list[OwnershipShare]]:
    """Validate and write one parcel with its shares and history; the caller authorizes and audits."""
    with _as_invalid_input():
        parcel_region = _clean_region("region", region, _region_by_code)
        code = _clean_location_code(location_code, parcel_region)
        values = {
            "area": _clean_area(area),
            "use": _clean_choice("use", use, Parcel.Use.values),
        }
        cleaned_owners = _clean_owners(owners)
        since = _clean_date("acquired_on", acquired_on)
        assert since is not None
    if Parcel.objects.filter(location_code=code).exists():
        raise _duplicate_parcel()
    try:
        with transaction.atomic():
            parcel = Parcel.objects.create(registry=registry, location_code=code, region=parcel_region, **values)
    except IntegrityError:  # registered concurrently
        raise _duplicate_parcel() from None
    shares = OwnershipShare.objects.bulk_create(_share_rows(parcel, cleaned_owners, since))
    RecordChange.objects.create(
        registry=registry, record_key=f"parcel:{parcel.pk}", parcel=parcel, kind=RecordChange.Kind.CREATED,
        after={"location_code": code, "region": parcel_region.code, "area": str(values["area"]),
               "use": values["use"], "acquired_on": since.isoformat(), "owners": _owners_snapshot(shares)},
        reason=reason, changed_by=audit.describe_actor(actor), changed_at=timezone.now(),
    )
    return parcel, shares


def _owners_from_text(value: Any) -> Any:
    """Return owners written in a file cell as ``person:<ID number>=1/2; entity:<USCC>=1/2`` as entries."""
    if not isinstance(value, str):
        return value
    owners: list[dict[str, str]] = []
    for part in value.split(";"):
        holder, _equals, share = part.strip().partition("=")
        kind, _colon, number = holder.strip().partition(":")
        if kind not in ("person", "entity") or not number.strip() or not share.strip():
            raise _FieldError("owners", _("Write owners as person:<ID number>=1/2; entity:<USCC>=1/2."))
        owners.append({kind: number.strip(), "share": share.strip()})
    return owners


PARCEL_ROW_KEYS = frozenset({"location_code", "region", "area", "use", "owners", "acquired_on"})


@transaction.atomic
def import_parcels(
    rows: Iterable[Mapping[str, Any]], *, actor: Any, reason: str, skip_registered: bool = False
) -> int:
    """Register many parcels with their owners, all or nothing; return how many were registered.

    Each row has the keyword arguments of ``register_parcel``; ``owners`` may be
    text such as ``person:<ID number>=1/2; entity:<USCC>=1/2``. Bad rows,
    already registered codes and ``skip_registered`` work as in
    ``import_persons``; one audit record covers the batch.
    """
    registry = _registry(PROPERTY_REGISTRY)
    _require_may_change(actor, registry)
    reason = _clean_reason(reason)
    errors: list[dict[str, Any]] = []
    parcels: list[Parcel] = []
    total = 0
    for number, row in enumerate(rows, start=1):
        total = number
        unknown = _unknown_keys(row, PARCEL_ROW_KEYS)
        if unknown:
            errors.append(_row_error(number, unknown[0], _("Unknown column.")))
            continue
        code = str(row.get("location_code") or "").strip().upper()
        if skip_registered and Parcel.objects.filter(location_code=code).exists():
            continue
        try:
            with transaction.atomic():  # a savepoint per row: a bad row leaves nothing behind
                with _as_invalid_input():
                    owners = _owners_from_text(row.get("owners"))
                parcel, _shares = _record_parcel(
                    registry, actor=actor, reason=reason, location_code=row.get("location_code"),
                    region=row.get("region"), area=row.get("area"), use=row.get("use"), owners=owners,
                    acquired_on=row.get("acquired_on"),
                )
        except InvalidInput as problem:
            errors.append(_row_error(number, str(problem.extensions.get("field", "")), problem.detail))
            continue
        parcels.append(parcel)
    if errors:
        raise _import_report(errors, total)
    if not parcels:
        return 0
    audit.record("registries.parcels.imported", actor=actor, target=f"registry:{registry.code}",
                 details={"count": len(parcels), "first": parcels[0].pk, "last": parcels[-1].pk})
    return len(parcels)


@transaction.atomic
def register_parcel(
    *,
    actor: Any,
    location_code: str,
    region: Region | str,
    area: Decimal | str | int,
    use: str,
    owners: Sequence[Mapping[str, Any]],
    acquired_on: date | str,
    reason: str,
) -> Parcel:
    """Register a parcel with its owners and return it.

    ``owners`` is a list of ``{"holder": Person | LegalEntity, "share": ...}``
    (or ``{"person": <ID number>, ...}``, ``{"entity": <USCC>, ...}``) where the share is a Fraction, a fraction such as ``"1/3"`` or a decimal
    such as ``"0.5"``; the shares add up to exactly 1. ``area`` is in square
    metres (two decimals at most). Raise PermissionDenied unless the actor acts
    for the real-property registry's owner; InvalidInput (with ``field``) for a
    bad or already registered code, shares that do not add up to 1, a deceased
    or deregistered holder or any other bad value.
    """
    registry = _registry(PROPERTY_REGISTRY)
    _require_may_change(actor, registry)
    reason = _clean_reason(reason)
    parcel, shares = _record_parcel(
        registry, actor=actor, reason=reason, location_code=location_code, region=region, area=area, use=use,
        owners=owners, acquired_on=acquired_on,
    )
    audit.record("registries.parcel.registered", actor=actor, target=f"parcel:{parcel.pk}",
                 details={"registry": registry.code, "owners": len(shares)})
    return parcel


@transaction.atomic
def transfer_parcel(
    parcel: Parcel, *, actor: Any, owners: Sequence[Mapping[str, Any]], on: date | str, reason: str
) -> list[OwnershipShare]:
    """Record that ``parcel`` is held by ``owners`` from ``on``, and return the new current shares.

    The current shares end on ``on`` and the new ones begin then (an owner who
    keeps a share gets a new row), so past ownership stays readable; ``owners``
    is as in ``register_parcel`` and adds up to exactly 1. Writes nothing when
    the owners and shares stay the same. Raise PermissionDenied unless the
    actor acts for the registry's owner; InvalidInput for shares that do not
    add up to 1, a date before the current owners acquired theirs or another
    bad value.
    """
    registry = Registry.objects.get(pk=parcel.registry_id)
    _require_may_change(actor, registry)
    reason = _clean_reason(reason)
    with _as_invalid_input():
        cleaned_owners = _clean_owners(owners)
        since = _clean_date("on", on)
        assert since is not None
    # Lock the parcel: concurrent transfers are decided one after the other.
    Parcel.objects.select_for_update().filter(pk=parcel.pk).first()
    current = list(OwnershipShare.objects.filter(parcel=parcel, ended_on__isnull=True))
    wanted = {_holder_key(holder): share for holder, share in cleaned_owners}
    if {share.holder_key: Fraction(share.numerator, share.denominator) for share in current} == wanted:
        return current
    if any(share.acquired_on > since for share in current):
        raise InvalidInput(_("The transfer cannot precede the current owners' acquisition."), field="on")
    OwnershipShare.objects.filter(pk__in=[share.pk for share in current]).update(ended_on=since)
    shares = OwnershipShare.objects.bulk_create(_share_rows(parcel, cleaned_owners, since))
    Parcel.objects.filter(pk=parcel.pk).update(updated_at=timezone.now())
    RecordChange.objects.create(
        registry=registry, record_key=f"parcel:{parcel.pk}", parcel=parcel, kind=RecordChange.Kind.UPDATED,
        before={"owners": _owners_snapshot(current)},
        after={"owners": _owners_snapshot(shares), "acquired_on": since.isoformat()},
        reason=reason, changed_by=audit.describe_actor(actor), changed_at=timezone.now(),
    )
    audit.record("registries.parcel.transferred", actor=actor, target=f"parcel:{parcel.pk}",
                 details={"registry": registry.code, "owners": len(shares)})
    return shares


# -- imports from files ---------------------------------------------------------------------------

IMPORT_BATCH_SIZE = 5000


def _batches(rows: Iterable[tuple[int, Mapping[str, Any]]], size: int) -> Iterator[list[tuple[int, Mapping[str, Any]]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


@transaction.atomic
def import_rows(
    registry_code: str,
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    *,
    actor: Any,
    reason: str,
    skip_registered: bool = False,
    batch_size: int = IMPORT_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Import numbered rows (as read from a file) into a registry, all or nothing; return how many were new.

    ``rows`` yields ``(row_number, row)`` pairs, the numbers being those the
    user sees in the file; they are streamed in batches through
    ``import_persons``, ``import_entities``, ``import_vital_events``,
    ``import_parcels`` or (for a registry without code) ``import_records``,
    one audit record per batch.
    Every batch is validated even after a bad one, so that the report covers
    the whole file; ``progress`` is called with the number of rows of each
    batch done. Raise PermissionDenied unless the actor acts for the
    registry's owner; InvalidInput for an unknown registry or, if any row is
    bad, with ``errors`` (``row``, ``field``, ``message``) and ``error_count``,
    and then nothing is imported.
    """
    importers: dict[str, Callable[..., int]] = {PERSON_REGISTRY: import_persons, ENTITY_REGISTRY: import_entities}
    for code in (BIRTH_DEATH_REGISTRY, MARRIAGE_REGISTRY):
        importers[code] = partial(import_vital_events, registry_code=code)
    importers[PROPERTY_REGISTRY] = import_parcels
    definition = DynamicRegistry.objects.filter(registry__code=registry_code).first()
    if definition is not None:
        importers[registry_code] = partial(import_records, definition)
    importer = importers.get(registry_code)
    if importer is None:
        raise InvalidInput(_("Files can be imported into the person, legal-entity, vital-event and "
                             "real-property registries and registries without code."), field="registry")
    # Refuse early, before a large file is read.
    _require_may_change(actor, _registry(registry_code))
    reason = _clean_reason(reason)
    errors: list[dict[str, Any]] = []
    error_count = total = imported = 0
    for batch in _batches(rows, max(1, batch_size)):
        numbers = [number for number, _row in batch]
        try:
            with transaction.atomic():
                imported += importer([row for _number, row in batch], actor=actor, reason=reason,
                                     skip_registered=skip_registered)
        except InvalidInput as report:
            if "errors" not in report.extensions:
                raise
            error_count += int(report.extensions.get("error_count", len(report.extensions["errors"])))
            room = MAX_REPORTED_ERRORS - len(errors)
            errors.extend({**error, "row": numbers[error["row"] - 1]}
                          for error in report.extensions["errors"][:max(room, 0)])
        total += len(batch)
        if progress is not None:
            progress(len(batch))
    if error_count:
        # Raising here rolls back the batches that were written.
        raise InvalidInput(
            _("%(bad)d of %(total)d rows are not valid; nothing was imported.") % {"bad": error_count, "total": total},
            errors=errors, error_count=error_count,
        )
    return imported


# -- registries without code ----------------------------------------------------------------------

_REGISTRY_CODE = re.compile(r"^[a-z][a-z0-9-]{1,49}$")
MAX_RECORD_BYTES = 64_000


def registry_definition_error(schema: Any, key_field: str) -> str | None:
    """Return why ``schema`` cannot define a registry keyed by ``key_field``, or None (writes nothing)."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return _("The schema must describe an object (\"type\": \"object\").")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        return _("The schema is not a valid JSON Schema: %(error)s") % {"error": error.message}
    properties = schema.get("properties") or {}
    key_type = (properties.get(key_field) or {}).get("type") if isinstance(properties, dict) else None
    if key_type not in ("string", "integer"):
        return _("The key field must be a string or integer property of the schema.")
    if key_field not in (schema.get("required") or []):
        return _("The key field must be required by the schema.")
    return None


def _record_errors(registry: DynamicRegistry, data: Any) -> list[dict[str, Any]]:
    validator = Draft202012Validator(registry.schema)
    return [
        {"field": "/".join(str(part) for part in error.absolute_path) or "data", "message": error.message}
        for error in sorted(validator.iter_errors(data), key=lambda error: list(map(str, error.absolute_path)))
    ][:MAX_REPORTED_ERRORS]


def _clean_record_data(registry: DynamicRegistry, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput(_("Give the record as a JSON object."), field="data")
    if len(json.dumps(data, ensure_ascii=False)) > MAX_RECORD_BYTES:
        raise InvalidInput(_("The record is too large."), field="data")
    errors = _record_errors(registry, data)
    if errors:
        raise InvalidInput(_("The record does not match the registry's schema."), field=errors[0]["field"],
                           errors=errors)
    return data


@transaction.atomic
def define_registry(
    *, actor: Any, code: str, name: str, name_en: str = "", owner: Department, schema: dict[str, Any],
    key_field: str,
) -> DynamicRegistry:
    """Define a registry without code (or a new version of its schema) and return its definition.

    The registry is owned by ``owner``; its records must validate against
    ``schema`` (a JSON Schema for an object) and are keyed by ``key_field``, a
    required string or integer property. Redefining keeps the key field and
    requires every existing record to validate against the new schema; a
    definition that changes nothing writes nothing. Raise PermissionDenied
    unless the actor is the platform or may change registries; InvalidInput for
    a bad code, schema or key field, a code taken by a base registry, or
    records the new schema would refuse.
    """
    if not (sees_everything(actor) or has_perm(actor, "registries.change_registry")):
        raise PermissionDenied(_("Only the platform may set up registries."))
    if not isinstance(code, str) or not _REGISTRY_CODE.match(code):
        raise InvalidInput(_("Give the code in lower-case letters, digits and hyphens."), field="code")
    with _as_invalid_input():
        name = _clean_text("name", name, max_length=100)
        key_field = _clean_text("key_field", key_field, max_length=100)
    problem = registry_definition_error(schema, key_field)
    if problem:
        raise InvalidInput(problem, field="schema")
    registry = Registry.objects.select_for_update().filter(code=code).first()
    if registry is None:
        registry = Registry.objects.create(code=code, name=name, name_en=name_en, owner=owner)
        created = DynamicRegistry.objects.create(registry=registry, schema=schema, key_field=key_field)
        audit.record("registries.dynamic_registry.defined", actor=actor, target=f"registry:{code}",
                     details={"owner": owner.pk, "version": 1})
        return created
    existing = DynamicRegistry.objects.select_for_update().filter(registry=registry).first()
    if existing is None:
        raise InvalidInput(_("This code belongs to a base registry."), field="code")
    definition = existing
    if key_field != definition.key_field and definition.records.exists():
        raise InvalidInput(_("The key field cannot change once the registry has records."), field="key_field")
    unchanged = (registry.name, registry.name_en, registry.owner_id, definition.schema, definition.key_field) == (
        name, name_en, owner.pk, schema, key_field)
    if unchanged:
        return definition
    if schema != definition.schema:
        candidate = DynamicRegistry(schema=schema, key_field=key_field)
        refused = sum(1 for data in definition.records.values_list("data", flat=True).iterator()
                      if _record_errors(candidate, data))
        if refused:
            raise InvalidInput(_("%(count)d existing records do not match the new schema.") % {"count": refused},
                               field="schema")
        definition.version += 1
    registry.name, registry.name_en, registry.owner = name, name_en, owner
    registry.save(update_fields=["name", "name_en", "owner"])
    definition.schema, definition.key_field = schema, key_field
    definition.save(update_fields=["schema", "key_field", "version", "updated_at"])
    audit.record("registries.dynamic_registry.redefined", actor=actor, target=f"registry:{code}",
                 details={"owner": owner.pk, "version": definition.version})
    return definition


def _duplicate_record() -> InvalidInput:
    return InvalidInput(_("A record with this key is already registered."), field="key")


@transaction.atomic
def register_record(
    definition: DynamicRegistry, *, actor: Any, data: dict[str, Any], reason: str
) -> DynamicRecord:
    """Add a record to a registry without code and return it (version 1).

    Raise PermissionDenied unless the actor acts for the registry's owner;
    InvalidInput if the data does not match the schema (``errors`` lists each
    field and message) or the key is already registered.
    """
    registry = Registry.objects.get(pk=definition.registry_id)
    _require_may_change(actor, registry)
    reason = _clean_reason(reason)
    data = _clean_record_data(definition, data)
    key = str(data[definition.key_field])
    if DynamicRecord.objects.filter(registry=definition, key=key).exists():
        raise _duplicate_record()
    try:
        with transaction.atomic():
            record = DynamicRecord.objects.create(registry=definition, key=key, data=data)
    except IntegrityError:  # registered concurrently
        raise _duplicate_record() from None
    DynamicRecordVersion.objects.create(record=record, version=1, data=data, reason=reason,
                                        changed_by=audit.describe_actor(actor), changed_at=timezone.now())
    audit.record("registries.dynamic_record.registered", actor=actor, target=f"record:{record.pk}",
                 details={"registry": registry.code, "version": 1})
    return record


@transaction.atomic
def amend_record(record: DynamicRecord, *, actor: Any, data: dict[str, Any], reason: str) -> DynamicRecord:
    """Replace a dynamic record's data with ``data`` (a new version) and return the record.

    The key never changes. Data equal to the current data writes nothing.
    Raise PermissionDenied unless the actor acts for the registry's owner;
    InvalidInput if the data does not match the schema or changes the key.
    """
    definition = DynamicRegistry.objects.select_related("registry").get(pk=record.registry_id)
    _require_may_change(actor, definition.registry)
    reason = _clean_reason(reason)
    data = _clean_record_data(definition, data)
    current = DynamicRecord.objects.select_for_update().get(pk=record.pk)
    if str(data[definition.key_field]) != current.key:
        raise InvalidInput(_("The key of a registered record cannot change."), field=definition.key_field)
    if data == current.data:
        return current
    current.data, current.version = data, current.version + 1
    current.save(update_fields=["data", "version", "updated_at"])
    DynamicRecordVersion.objects.create(record=current, version=current.version, data=data, reason=reason,
                                        changed_by=audit.describe_actor(actor), changed_at=timezone.now())
    audit.record("registries.dynamic_record.amended", actor=actor, target=f"record:{current.pk}",
                 details={"registry": definition.registry.code, "version": current.version})
    record.data, record.version = current.data, current.version
    return current


def _coerce_cell(value: Any, kind: Any) -> Any:
    """Return a text cell read from a file as the JSON type the schema asks for (or unchanged)."""
    if not isinstance(value, str):
        return value.isoformat() if isinstance(value, date) else value
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            number = float(value)
            return int(number) if number.is_integer() else number
        if kind == "boolean" and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        if kind in ("array", "object"):
            return json.loads(value)
    except ValueError:
        pass  # left as text: the schema check reports it against the field
    return value


@transaction.atomic
def import_records(
    definition: DynamicRegistry,
    rows: Iterable[Mapping[str, Any]],
    *,
    actor: Any,
    reason: str,
    skip_registered: bool = False,
) -> int:
    """Add many records to a registry without code, all or nothing; return how many were added.

    Text cells are read as the type the schema gives their property (integer,
    number, boolean, array or object). Bad rows, keys already registered and
    ``skip_registered`` work as in ``import_persons``; one audit record covers
    the batch.
    """
    registry = Registry.objects.get(pk=definition.registry_id)
    _require_may_change(actor, registry)
    reason = _clean_reason(reason)
    properties = definition.schema.get("properties") or {}
    errors: list[dict[str, Any]] = []
    accepted: list[tuple[int, str, dict[str, Any]]] = []
    first_row_of: dict[str, int] = {}
    rows = list(rows)
    for number, row in enumerate(rows, start=1):
        data = {key: _coerce_cell(value, (properties.get(key) or {}).get("type")) for key, value in row.items()}
        problems = _record_errors(definition, data)
        if problems:
            errors.extend(_row_error(number, problem["field"], problem["message"]) for problem in problems)
            continue
        key = str(data[definition.key_field])
        if key in first_row_of:
            errors.append(_row_error(number, definition.key_field, _("The same key is in row %(row)d.")
                                     % {"row": first_row_of[key]}))
            continue
        first_row_of[key] = number
        accepted.append((number, key, data))
    existing = {
        key
        for chunk in _chunks([key for _number, key, _data in accepted])
        for key in DynamicRecord.objects.filter(registry=definition, key__in=chunk).values_list("key", flat=True)
    }
    if skip_registered:
        accepted = [entry for entry in accepted if entry[1] not in existing]
    else:
        errors.extend(_row_error(number, definition.key_field, str(_duplicate_record().detail))
                      for number, key, _data in accepted if key in existing)
    if errors:
        errors.sort(key=lambda error: error["row"])
        raise _import_report(errors, len(rows))
    if not accepted:
        return 0
    records = DynamicRecord.objects.bulk_create(
        [DynamicRecord(registry=definition, key=key, data=data) for _number, key, data in accepted],
        batch_size=BULK_BATCH_SIZE,
    )
    changed_by, changed_at = audit.describe_actor(actor), timezone.now()
    DynamicRecordVersion.objects.bulk_create(
        [DynamicRecordVersion(record=record, version=1, data=record.data, reason=reason, changed_by=changed_by,
                              changed_at=changed_at) for record in records],
        batch_size=BULK_BATCH_SIZE,
    )
    audit.record("registries.dynamic_records.imported", actor=actor, target=f"registry:{registry.code}",
                 details={"count": len(records), "first": records[0].pk, "last": records[-1].pk})
    return len(records)


def record_access(action: str, *, actor: Any, records: Iterable[Person | LegalEntity], query: str = "") -> None:
    """Append one audit record naming the registry records an actor was shown.

    Reads of personal data are audited like writes, by record key only (never a
    name or an ID number), so that a data subject's accesses can be traced.
    """
    keys = [f"{type(record).__name__.lower()}:{record.pk}" for record in records]
    audit.record(action, actor=actor, target=keys[0] if len(keys) == 1 else "", details={"records": keys, "query": query})



# -- imports from the workbench -------------------------------------------------------------------

# Base registries that files can be imported into (and every registry without code).
IMPORTABLE_BASE_REGISTRIES = (
    PERSON_REGISTRY, ENTITY_REGISTRY, BIRTH_DEATH_REGISTRY, MARRIAGE_REGISTRY, PROPERTY_REGISTRY,
)
_IMPORT_COLUMNS: dict[str, frozenset[str]] = {
    PERSON_REGISTRY: PERSON_ROW_KEYS,
    ENTITY_REGISTRY: ENTITY_ROW_KEYS,
    BIRTH_DEATH_REGISTRY: VITAL_EVENT_ROW_KEYS,
    MARRIAGE_REGISTRY: VITAL_EVENT_ROW_KEYS,
    PROPERTY_REGISTRY: PARCEL_ROW_KEYS,
}
# Smaller batches than the command line's, so that the progress bar on the page moves often.
WEB_IMPORT_BATCH_SIZE = 1000
_XLSX_MAGIC = b"PK\x03\x04"


def import_columns(registry_code: str) -> frozenset[str] | None:
    """Return the columns a file for ``registry_code`` may have, or None if any may (the schema decides)."""
    if registry_code in _IMPORT_COLUMNS:
        return _IMPORT_COLUMNS[registry_code]
    definition = DynamicRegistry.objects.filter(registry__code=registry_code).first()
    if definition is not None and definition.schema.get("additionalProperties") is False:
        return frozenset(definition.schema.get("properties") or {})
    return None


def importable_registries(actor: Any) -> QuerySet[Registry]:
    """Return the registries ``actor`` may import files into (writes nothing), by code."""
    return registries_changeable_by(actor).filter(
        Q(code__in=IMPORTABLE_BASE_REGISTRIES) | Q(definition__isnull=False)
    )


def _clean_upload(upload: File[Any] | None) -> str:
    """Return the upload's suffix (.csv or .xlsx); raise InvalidInput for a missing, empty, large or other file."""
    if upload is None or not upload.name:
        raise InvalidInput(_("Choose a .csv or .xlsx file to upload."), field="file")
    suffix = Path(upload.name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InvalidInput(_("Give a .csv or .xlsx file."), field="file")
    if not upload.size:
        raise InvalidInput(_("The file is empty."), field="file")
    limit = settings.REGISTRY_IMPORT_MAX_BYTES
    if upload.size > limit:
        raise InvalidInput(_("The file is larger than %(size)s: split it, or ask the operator to import it "
                             "with the registry-import command.") % {"size": filesizeformat(limit)}, field="file")
    if suffix == ".xlsx":
        upload.seek(0)
        magic = upload.read(len(_XLSX_MAGIC))
        upload.seek(0)
        if magic != _XLSX_MAGIC:
            raise InvalidInput(_("This is not an .xlsx workbook."), field="file")
    return suffix


def _display_name(name: str) -> str:
    """Return an uploaded file's own name, without folders or control characters, for lists."""
    base = Path(name.replace("\\", "/")).name
    cleaned = "".join(char for char in base if not unicodedata.category(char).startswith("C")).strip()
    return cleaned[-200:] or "upload"


@contextmanager
def _local_path(storage: Storage, name: str) -> Iterator[Path]:
    """Yield a path on this machine to the stored file ``name``: the file itself, or a temporary copy."""
    try:
        local = storage.path(name)
    except NotImplementedError:  # object storage: copy the file down for the readers
        local = None
    if local is not None:
        yield Path(local)
        return
    with tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as copy, storage.open(name, "rb") as stored:
        shutil.copyfileobj(stored, copy)
        copy.flush()
        yield Path(copy.name)


def _check_import_file(storage: Storage, name: str, registry_code: str) -> int | None:
    """Return about how many rows the stored file has (None if unknown); raise InvalidInput if it cannot be imported.

    Only the header and the first row are read: the rows are checked when the import runs.
    """
    with _local_path(storage, name) as path:
        source = open_rows(path)
        try:
            columns = import_columns(registry_code)
            unknown = sorted(set(source.columns) - columns - {""}) if columns is not None else []
            if unknown:
                raise InvalidInput(_("Unknown columns: %(unknown)s. Use: %(columns)s.")
                                   % {"unknown": ", ".join(unknown), "columns": ", ".join(sorted(columns or ()))},
                                   field="file")
            try:
                first = next(source.rows, None)
            except READ_ERRORS as error:
                raise InvalidInput(_("The file cannot be read: %(error)s") % {"error": error}, field="file") from None
            if first is None:
                raise InvalidInput(_("The file has no rows below its header."), field="file")
        finally:
            source.close()
    return source.total or None


@transaction.atomic
def start_import(
    *,
    actor: Any,
    registry_code: str,
    upload: File[Any] | None,
    reason: str,
    skip_registered: bool = False,
    language: str = "",
) -> RegistryImport:
    """Store an uploaded CSV or XLSX file and queue its import into a registry; return the import.

    The import runs in the background (``run_import``, through the task
    ``registries.tasks.run_registry_import``) as ``actor``, all rows or none;
    ``skip_registered`` leaves out rows already registered, so that uploading
    the same file again adds nothing. The report's messages are written in
    ``language`` (one of LANGUAGES; otherwise the site's default). The file is
    kept in private storage until the import ends.

    Raise PermissionDenied unless the actor is a signed-in account acting for
    the registry's owner; InvalidInput (with ``field``) for an unknown
    registry or one files cannot be imported into, a missing reason, a missing,
    empty, too large or unreadable file, a file that is not .csv or .xlsx, or
    one with unknown columns or no rows. Nothing is stored or queued then.
    """
    if not isinstance(actor, get_user_model()):
        raise PermissionDenied(_("Only a signed-in officer may upload a file for import."))
    registry = Registry.objects.select_related("owner").filter(code=str(registry_code or "")).first()
    if registry is None:
        raise InvalidInput(_("Choose a registry."), field="registry")
    _require_may_change(actor, registry)
    if not importable_registries(actor).filter(pk=registry.pk).exists():
        raise InvalidInput(_("Files cannot be imported into this registry."), field="registry")
    reason = _clean_reason(reason)
    suffix = _clean_upload(upload)
    assert upload is not None
    storage = import_storage()
    # The stored name is ours: an uploaded name never becomes a path.
    name = storage.save(f"{uuid.uuid4().hex}{suffix}", upload)
    try:
        total = _check_import_file(storage, name, registry.code)
        registry_import = RegistryImport.objects.create(
            registry=registry, file=name, filename=_display_name(upload.name or ""), reason=reason,
            skip_registered=skip_registered, total_rows=total,
            language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
            uploaded_by=actor,
        )
        # The database task backend writes the task in this transaction, so the
        # import and its task are committed together or not at all.
        run_registry_import.enqueue(registry_import.pk)
        audit.record("registries.import.queued", actor=actor, target=f"registry:{registry.code}",
                     details={"import": registry_import.pk, "rows": total, "skip_registered": skip_registered})
    except BaseException:
        storage.delete(name)
        raise
    return registry_import


class _ImportProgress:
    """Count the rows an import has checked and write the count where the import's page reads it.

    The import keeps one transaction open until every row is in. Where the
    database lets a second connection write meanwhile (PostgreSQL), the count
    goes through one (skipping the row rather than waiting if it is locked),
    so the page sees the bar move. SQLite has one writer at a time (ADR 0005):
    a second connection would wait for the import, so there the count is
    written in the import's transaction and shows when the import ends.
    """

    def __init__(self, import_id: int) -> None:
        self.import_id = import_id
        self.done = 0
        self._side: BaseDatabaseWrapper | None = None

    def __enter__(self) -> _ImportProgress:
        if connections[DEFAULT_DB_ALIAS].features.has_select_for_update_skip_locked:
            self._side = connections.create_connection(DEFAULT_DB_ALIAS)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None

    def __call__(self, rows: int) -> None:
        self.done += rows
        if self._side is None:
            RegistryImport.objects.filter(pk=self.import_id).update(rows_processed=self.done)
            return
        table = self._side.ops.quote_name(RegistryImport._meta.db_table)
        with self._side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET rows_processed = %s "  # noqa: S608 - the table name is our own
                f"WHERE id = (SELECT id FROM {table} WHERE id = %s FOR UPDATE SKIP LOCKED)",
                [self.done, self.import_id],
            )


@transaction.atomic
def _end_import(registry_import: RegistryImport, *, rows: int, imported: int | None = None,
                failure: Problem | None = None) -> None:
    """Record how a running import ended, with one audit record; delete its file once that is committed.

    On success this runs inside the import's transaction, so the records and
    the status are committed together. Raise Conflict if the import is not
    running any more (then the caller's transaction rolls back).
    """
    values: dict[str, Any] = {"finished_at": timezone.now(), "file": "", "rows_processed": rows}
    if failure is None:
        values.update(status=RegistryImport.Status.SUCCEEDED, imported=imported, total_rows=rows)
    else:
        errors = list(failure.extensions.get("errors") or [])
        values.update(status=RegistryImport.Status.FAILED, message=failure.detail[:500], errors=errors,
                      error_count=int(failure.extensions.get("error_count", len(errors))))
        if errors:  # the report covers the whole file, so every row was read
            values["total_rows"] = rows
    if not RegistryImport.objects.filter(pk=registry_import.pk, status=RegistryImport.Status.RUNNING).update(**values):
        raise Conflict(_("This import is not running."))
    name = registry_import.file.name
    if name:
        transaction.on_commit(partial(import_storage().delete, name))
    audit.record(
        "registries.import.succeeded" if failure is None else "registries.import.failed",
        actor=registry_import.uploaded_by, target=f"registry:{registry_import.registry.code}",
        result="success" if failure is None else "failure",
        details={"import": registry_import.pk, "rows": rows, "imported": imported,
                 "errors": values.get("error_count", 0)},
    )


@transaction.atomic
def _take_over_interrupted_import(import_id: int, *, runner: str) -> bool:
    """Restart an import whose process died while it ran (ADR 0018); return whether this process took it.

    The dead process's transaction never committed, so nothing of the import
    is in the registry and its file is still stored: the import starts again
    from the first row. Only a process on the same host can tell the runner is
    gone (``kernel.processes``); the conditional update makes sure that one
    process takes it over. One audit record.
    """
    interrupted = RegistryImport.objects.filter(pk=import_id, status=RegistryImport.Status.RUNNING).first()
    if interrupted is None or not interrupted.runner or process_state(interrupted.runner) is not ProcessState.GONE:
        return False
    taken = RegistryImport.objects.filter(
        pk=import_id, status=RegistryImport.Status.RUNNING, runner=interrupted.runner
    ).update(runner=runner, started_at=timezone.now(), rows_processed=0)
    if taken:
        audit.record("registries.import.restarted", actor=interrupted.uploaded_by,
                     target=f"registry:{interrupted.registry.code}",
                     details={"import": import_id, "rows_before_stop": interrupted.rows_processed})
    return bool(taken)


def run_import(import_id: int) -> RegistryImport | None:
    """Run the queued import ``import_id`` as the officer who uploaded the file; return it as it ended.

    Safe to run twice, as a task may be: only a queued import starts, so a
    second run finds it running or ended and changes nothing, unless the
    process that ran it has died (killed mid-import): then this run starts it
    again from the first row (``_take_over_interrupted_import``). The rows are
    checked in batches, the count of rows done written as each batch ends
    (see ``_ImportProgress``); every row is imported in one transaction with
    the import's new status, or none is. A bad row, a refusal (the officer
    no longer acts for the owner) or an unreadable file ends the import as
    failed, with its message and per-row report. The stored file is deleted
    when the import ends. Return None if there is no such import; re-raise
    anything that is not a Problem after marking the import failed.
    """
    runner = this_process()
    started = RegistryImport.objects.filter(pk=import_id, status=RegistryImport.Status.QUEUED).update(
        status=RegistryImport.Status.RUNNING, started_at=timezone.now(), runner=runner
    )
    if not started:
        started = _take_over_interrupted_import(import_id, runner=runner)
    registry_import = RegistryImport.objects.select_related("registry", "uploaded_by").filter(pk=import_id).first()
    if not started or registry_import is None:
        return registry_import
    with translation.override(registry_import.language or settings.LANGUAGE_CODE), \
            _ImportProgress(registry_import.pk) as progress:
        try:
            with _local_path(import_storage(), registry_import.file.name or "") as path:
                source = open_rows(path)
                try:
                    with transaction.atomic():
                        imported = import_rows(
                            registry_import.registry.code, source.rows, actor=registry_import.uploaded_by,
                            reason=registry_import.reason, skip_registered=registry_import.skip_registered,
                            batch_size=WEB_IMPORT_BATCH_SIZE, progress=progress,
                        )
                        _end_import(registry_import, rows=progress.done, imported=imported)
                finally:
                    source.close()
        except Problem as problem:
            _end_import(registry_import, rows=progress.done, failure=problem)
        except BaseException:
            # A crash, or the worker forced to stop: nothing was imported. Say
            # so on the page, and let the worker record the error.
            _end_import(registry_import, rows=progress.done, failure=Conflict(
                _("The import stopped before it finished; nothing was imported. Upload the file again.")
            ))
            raise
    registry_import.refresh_from_db()
    return registry_import
