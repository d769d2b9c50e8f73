"""The exchange gateway: answer a department system's call under a grant, and log every call.

``call_resource`` is the one way data leaves a registry for another
department. It checks the grant through ``catalog.services``, returns only the
granted fields with the grant's masking, and appends one record to the signed
call log for every call, answered or refused. The call log is the gateway's
own tamper-evident audit trail, so a call writes no ``kernel.audit`` record
(two chains locked per call would halve the gateway's throughput for nothing).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.catalog import services as catalog
from tongban.exchange.log import (
    CHECKPOINT_INTERVAL,
    RATE_LIMITED,
    SIGNING_PURPOSE,
    LogBreak,
    append,
    chain_pending,
    checkpoint_payload,
    finish_signing_round,
    key_id_of,
    pending_calls,
    public_key,
    sign_checkpoint,
    verify_log,
)
from tongban.exchange.models import CallLogRecord, Checkpoint
from tongban.identity import selectors as identity
from tongban.kernel import audit, ratelimit
from tongban.kernel.crypto import get_crypto_provider
from tongban.kernel.problems import InvalidInput, NotFound, PermissionDenied, Problem, RateLimited
from tongban.registries import services as registries
from tongban.registries.models import DynamicRegistry, LegalEntity, Person

__all__ = [
    "CHECKPOINT_INTERVAL",
    "LICENCE_RESOURCE_PREFIX",
    "RATE_LIMIT_SCOPE",
    "CallAnswer",
    "LogBreak",
    "call_resource",
    "checkpoint_now",
    "checkpoint_public_key",
    "finish_signing_round",
    "latest_checkpoint",
    "log_licence_use",
    "pending_calls",
    "verify_call_log",
]

RATE_LIMIT_SCOPE = "exchange_call"
RATE_LIMITED_REASON: str = RATE_LIMITED["reason"]
SUBJECT_INDEX_PURPOSE = "exchange.subject-key"
REQUEST_DIGEST_PURPOSE = "exchange.request-digest"
RESPONSE_DIGEST_PURPOSE = "exchange.response-digest"
MAX_TEXT = 200
# The JSON Schema keyword by which a registry defined without code names the
# property that identifies the person or entity a record is about.
SUBJECT_KEYWORD = "x-subject"


@dataclass(frozen=True)
class CallAnswer:
    """What the gateway returns for an answered call."""

    call: int
    resource: str
    grant: int
    data: dict[str, Any]
    masked: list[str]


class _Refusal(Exception):
    """A refused call: the problem for the caller and what the log keeps about it."""

    def __init__(self, problem: Problem, reason: str) -> None:
        super().__init__(reason)
        self.problem = problem
        self.reason = reason


def _refuse(problem_class: type[Problem], reason: str, detail: str) -> _Refusal:
    return _Refusal(problem_class(detail, reason=reason), reason)


def _digest(value: Any, purpose: str) -> str:
    # Keyed, so that a digest of a request naming an ID number cannot be
    # reversed by trying every plausible number.
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return get_crypto_provider().blind_index(text, purpose=purpose)


def _parse_fields(fields: str | Sequence[str] | None) -> list[str]:
    if isinstance(fields, str):
        fields = fields.split(",")
    return list(dict.fromkeys(name.strip() for name in fields or [] if name.strip()))


def _clean_param(value: str | None) -> str:
    return " ".join(str(value or "").split())


# -- reading the subject --------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _person_values(person: Person) -> dict[str, Any]:
    return {
        "id_number": person.id_number,
        "name": person.name,
        "sex": person.sex,
        "birth_date": _iso(person.birth_date),
        "nationality": person.nationality,
        "address_region": person.address_region.code,
        "status": person.status,
    }


def _entity_values(entity: LegalEntity) -> dict[str, Any]:
    return {
        "uscc": entity.uscc,
        "name": entity.name,
        "entity_type": entity.entity_type,
        "legal_representative_name": entity.legal_representative.name,
        "registered_region": entity.registered_region.code,
        "status": entity.status,
        "established_on": _iso(entity.established_on),
    }


@dataclass
class _Call:
    """What the log keeps about one call, filled in as the call proceeds."""

    client_id: str
    department_id: int | None
    resource_code: str
    purpose: str
    case_id: str
    request_digest: str
    grant_id: int | None = None
    subject_index: str = ""
    person_id: int | None = None
    entity_id: int | None = None

    def log(self, *, outcome: str, reason: str = "", fields: Sequence[str] = (), response_digest: str = "",
            hit: ratelimit.Hit | None = None) -> CallLogRecord:
        return append(
            hit=hit, client_id=self.client_id, department_id=self.department_id,
            resource_code=self.resource_code, grant_id=self.grant_id, subject_index=self.subject_index,
            person_id=self.person_id, entity_id=self.entity_id, purpose=self.purpose, case_id=self.case_id,
            fields_returned=list(fields), request_digest=self.request_digest,
            response_digest=response_digest, outcome=outcome, reason=reason,
        )


def _normalized_key(kind: str, key: str, definition: DynamicRegistry | None) -> str:
    if kind == "person":
        number = registries.normalize_id_number(key)
        if registries.id_number_error(number):
            raise _refuse(InvalidInput, "malformed_key", _("The key is not a valid citizen ID number."))
        return str(number)
    if kind == "legal_entity":
        code = registries.normalize_uscc(key)
        if registries.uscc_error(code):
            raise _refuse(InvalidInput, "malformed_key", _("The key is not a valid unified social credit code."))
        return str(code)
    assert definition is not None
    text = key.strip()
    key_type = ((definition.schema.get("properties") or {}).get(definition.key_field) or {}).get("type")
    if not text or len(text) > MAX_TEXT or (key_type == "integer" and not text.lstrip("-").isdigit()):
        raise _refuse(InvalidInput, "malformed_key", _("The key is not a valid key of this registry."))
    return str(int(text)) if key_type == "integer" else text


def _link_record_subject(definition: DynamicRegistry, data: Mapping[str, Any], call: _Call) -> None:
    """Name the person or entity a record is about, when its schema marks the property that says so.

    A property with ``"x-subject": "person"`` (an ID number) or
    ``"x-subject": "legal_entity"`` (a USCC) links the call to that subject,
    so that the call shows on their "who used my data" page.
    """
    for name, schema in (definition.schema.get("properties") or {}).items():
        kind = schema.get(SUBJECT_KEYWORD) if isinstance(schema, Mapping) else None
        value = data.get(name)
        if not isinstance(value, str):
            continue
        if kind == "person" and call.person_id is None:
            person = registries.find_person_by_id_number(registries.normalize_id_number(value))
            call.person_id = person.pk if person is not None else None
        elif kind == "legal_entity" and call.entity_id is None:
            entity = registries.find_entity_by_uscc(registries.normalize_uscc(value))
            call.entity_id = entity.pk if entity is not None else None


def _person_view(person: Person, registry_code: str | None) -> dict[str, Any]:
    """Return what the resource's registry holds about ``person`` (the persons registry by default)."""
    if registry_code == registries.BIRTH_DEATH_REGISTRY:
        return registries.vital_facts(person)
    if registry_code == registries.MARRIAGE_REGISTRY:
        return registries.marital_facts(person)
    if registry_code == registries.PROPERTY_REGISTRY:
        return registries.property_holdings(person=person)
    return _person_values(person)


def _entity_view(entity: LegalEntity, registry_code: str | None) -> dict[str, Any]:
    if registry_code == registries.PROPERTY_REGISTRY:
        return registries.property_holdings(entity=entity)
    return _entity_values(entity)


# Registries that hold facts about persons or entities registered elsewhere: their
# resources are keyed by the subject's ID number or USCC.
_SUBJECT_REGISTRIES = (registries.BIRTH_DEATH_REGISTRY, registries.MARRIAGE_REGISTRY,
                       registries.PROPERTY_REGISTRY)


def _subject_values(kind: str, key: str, registry_id: int | None, registry_code: str | None, call: _Call,
                    definition: DynamicRegistry | None) -> dict[str, Any]:
    # A resource of the persons (or entities) registry serves only that registry's records.
    only_registry = registry_id if registry_id is not None and registry_code not in _SUBJECT_REGISTRIES else None
    if kind == "person":
        person = registries.find_person_by_id_number(key)
        if person is not None and only_registry in (None, person.registry_id):
            call.person_id = person.pk
            return _person_view(person, registry_code)
    elif kind == "legal_entity":
        entity = registries.find_entity_by_uscc(key)
        if entity is not None and only_registry in (None, entity.registry_id):
            call.entity_id = entity.pk
            return _entity_view(entity, registry_code)
    elif definition is not None:
        record = registries.find_dynamic_record(definition, key)
        if record is not None:
            _link_record_subject(definition, record.data, call)
            return dict(record.data)
    raise _refuse(NotFound, "subject_not_found", _("The registry has no record with this key."))


def _definition(record_kind: str, registry_id: int | None) -> DynamicRegistry | None:
    """Return the definition of a registry defined without code that serves a ``record`` resource."""
    if record_kind == "record" and registry_id is not None:
        return registries.definition_of(registry_id)
    return None


def _refusal(*, call: _Call, key: str, fields: list[str], system_id: int, at: datetime) -> _Refusal:
    """Return why no grant in force answers the call, checking in the order a caller fixes things.

    The resource, then its fields, then the key, then the grant; the subject's
    blind index is kept for the log as soon as the key is known to be well formed.
    """
    resource = catalog.find_resource(call.resource_code)
    definition = _definition(resource.record_kind, resource.registry_id) if resource is not None else None
    if resource is None or (resource.record_kind not in ("person", "legal_entity") and definition is None):
        return _refuse(NotFound, "unknown_resource", _("The gateway serves no such resource."))
    known = {field.name for field in resource.fields.all()}
    unknown = [name for name in fields if name not in known]
    if unknown:
        return _refuse(InvalidInput, "unknown_field",
                       _("The resource has no field %(field)s.") % {"field": unknown[0]})
    try:
        normalized = _normalized_key(resource.record_kind, key, definition)
    except _Refusal as refusal:
        return refusal
    call.subject_index = _subject_index(resource.record_kind, normalized)
    reason = catalog.grant_refusal_reason(system_id=system_id, resource_code=resource.code, fields=fields,
                                          purpose=call.purpose, at=at)
    return _refuse(PermissionDenied, reason, _("No grant in force lets this system read these fields "
                                               "for this purpose (%(reason)s).") % {"reason": reason})


def _subject_index(record_kind: str, normalized_key: str) -> str:
    return get_crypto_provider().blind_index(f"{record_kind}:{normalized_key}", purpose=SUBJECT_INDEX_PURPOSE)


def _answer(*, call: _Call, key: str, fields: list[str], system_id: int | None) -> CallAnswer:
    """Return the answer to a call, or raise _Refusal saying why there is none.

    An answered call costs one query for the grant with its resource
    (``catalog.grant_in_force``) and the subject's lookup; only a call without
    a grant in force looks further, to say why.
    """
    if system_id is None:
        raise _refuse(PermissionDenied, "not_a_system",
                      _("Only a department system's client-credentials token may call the gateway."))
    if not fields or not call.purpose or not call.case_id:
        raise _refuse(InvalidInput, "missing_parameter",
                      _("Name the fields, the purpose and the case id of the call."))
    if len(call.purpose) > MAX_TEXT or len(call.case_id) > MAX_TEXT:
        raise _refuse(InvalidInput, "parameter_too_long",
                      _("Keep the purpose and the case id under 200 characters."))
    now = timezone.now()
    grant = catalog.grant_in_force(system_id=system_id, resource_code=call.resource_code, fields=fields,
                                   purpose=call.purpose, at=now)
    if grant is None:
        raise _refusal(call=call, key=key, fields=fields, system_id=system_id, at=now)
    definition = _definition(grant.record_kind, grant.registry_id)
    if grant.record_kind not in ("person", "legal_entity") and definition is None:
        raise _refuse(NotFound, "unknown_resource", _("The gateway serves no such resource."))
    normalized = _normalized_key(grant.record_kind, key, definition)
    call.subject_index = _subject_index(grant.record_kind, normalized)
    call.grant_id = grant.grant_id
    values = _subject_values(grant.record_kind, normalized, grant.registry_id, grant.registry_code, call,
                             definition)
    masking: Mapping[str, str] = grant.masking
    data = {
        name: catalog.apply_masking(masking[name], values.get(name)) if name in masking else values.get(name)
        for name in fields
    }
    return CallAnswer(call=0, resource=grant.resource_code, grant=grant.grant_id, data=data,
                      masked=[name for name in fields if name in masking])


def call_resource(
    *,
    actor: Any,
    resource_code: str,
    key: str,
    fields: str | Sequence[str] | None,
    purpose: str | None,
    case_id: str | None,
) -> CallAnswer:
    """Answer one gateway call and log it; return the granted fields of the subject ``key``.

    ``actor`` is the calling system's principal (``.system``, ``.department``,
    ``.client_id``); ``key`` is an ID number for person resources, a USCC for
    legal-entity resources and the record key for a registry defined without
    code; ``fields`` a list or a comma-separated text.
    Every call, answered or refused, appends one record to the call log.

    Raise RateLimited past the client's limit; InvalidInput for missing
    parameters, an unknown field or a malformed key; NotFound for an unknown
    resource or subject; PermissionDenied when no grant in force covers the call
    (``reason`` says why: ``no_grant``, ``expired``, ``revoked``, …).
    Every problem carries the call-log number as ``call``.
    """
    system = getattr(actor, "system", None)
    department = getattr(actor, "department", None)
    client_id = str(getattr(actor, "client_id", "") or audit.describe_actor(actor))
    wanted = _parse_fields(fields)
    call = _Call(
        client_id=client_id, department_id=getattr(department, "pk", None),
        resource_code=str(resource_code)[:80], purpose=_clean_param(purpose)[:MAX_TEXT],
        case_id=_clean_param(case_id)[:MAX_TEXT],
        request_digest=_digest({"client": client_id, "resource": resource_code, "key": key, "fields": wanted,
                                "purpose": purpose, "case": case_id}, REQUEST_DIGEST_PURPOSE),
    )
    # The call is counted against the client's rate limit in the transaction that
    # logs it (one round trip saved on every call); the answer is read before,
    # outside any transaction (on SQLite a transaction takes the write lock at once).
    hit = ratelimit.prepare_hit(RATE_LIMIT_SCOPE, client_id)
    try:
        answer = _answer(call=call, key=key, fields=wanted, system_id=getattr(system, "pk", None))
    except _Refusal as refusal:
        entry = call.log(outcome=CallLogRecord.Outcome.REFUSED, reason=refusal.reason, hit=hit)
        problem: Problem = refusal.problem
    else:
        entry = call.log(outcome=CallLogRecord.Outcome.OK, fields=list(answer.data),
                         response_digest=_digest(answer.data, RESPONSE_DIGEST_PURPOSE), hit=hit)
        if entry.outcome == CallLogRecord.Outcome.OK:
            return CallAnswer(call=entry.pk, resource=answer.resource, grant=answer.grant, data=answer.data,
                              masked=answer.masked)
    if entry.reason == RATE_LIMITED_REASON:
        problem = RateLimited(hit.retry_after)
        problem.extensions["reason"] = RATE_LIMITED_REASON
    problem.extensions["call"] = entry.pk
    raise problem


def read_for_case(*, department: Any, resource_code: str, key: str, fields: Sequence[str],
                  case_id: str) -> CallAnswer:
    """Read ``fields`` of the subject ``key`` for a case ``department`` handles, through the gateway.

    The call is made as the department's system that holds a live grant
    covering the fields (``catalog.department_grant``), under the grant's
    purpose, so it is checked, masked, rate-limited and logged like any
    gateway call and shows on the subject's "who used my data" page. Raise
    PermissionDenied (reason ``no_grant``) when no system of the department
    holds such a grant, and whatever ``call_resource`` raises.
    """
    grant = catalog.department_grant(department_id=department.pk, resource_code=resource_code,
                                     fields=list(fields), at=timezone.now())
    if grant is None:
        raise PermissionDenied(_("The department holds no grant to read this data."), reason="no_grant")
    return call_resource(actor=identity.principal_of_system(grant.system), resource_code=resource_code, key=key,
                         fields=list(fields), purpose=grant.purpose, case_id=case_id)


# Licence reuse is logged under a resource code of its own, so that "who used my data" can name it.
LICENCE_RESOURCE_PREFIX = "licence:"


def log_licence_use(
    *,
    actor: Any,
    department_id: int,
    licence_type_code: str,
    person_id: int | None,
    entity_id: int | None,
    fields: Sequence[str],
    purpose: str,
    case_id: str,
    answer: Any,
) -> int:
    """Write one call-log record for a department's reuse of a licence; return its call number.

    ``credentials.use_licence`` calls this: a case reading the applicant's
    licence instead of an upload is a use of their data like a gateway call,
    shown on their "who used my data" page. ``answer`` is what was read (None
    when the holder has no valid licence of the type: logged as refused,
    ``no_valid_licence``); only its keyed digest is kept.
    """
    client_id = str(getattr(actor, "client_id", "") or audit.describe_actor(actor))
    resource_code = f"{LICENCE_RESOURCE_PREFIX}{licence_type_code}"[:80]
    subject = f"person:{person_id}" if person_id is not None else f"legal_entity:{entity_id}"
    call = _Call(
        client_id=client_id, department_id=department_id, resource_code=resource_code,
        purpose=_clean_param(purpose)[:MAX_TEXT], case_id=_clean_param(case_id)[:MAX_TEXT],
        request_digest=_digest({"client": client_id, "resource": resource_code, "subject": subject,
                                "fields": list(fields), "purpose": purpose, "case": case_id}, REQUEST_DIGEST_PURPOSE),
        person_id=person_id, entity_id=entity_id,
        subject_index=get_crypto_provider().blind_index(subject, purpose=SUBJECT_INDEX_PURPOSE),
    )
    if answer is None:
        entry = call.log(outcome=CallLogRecord.Outcome.REFUSED, reason="no_valid_licence")
    else:
        entry = call.log(outcome=CallLogRecord.Outcome.OK, fields=list(fields),
                         response_digest=_digest(answer, RESPONSE_DIGEST_PURPOSE))
    return int(entry.pk)


# -- the log --------------------------------------------------------------------------------------


def checkpoint_now(*, actor: Any) -> Checkpoint | None:
    """Link the calls committed since the last run and sign a checkpoint over them; return it, or None.

    The chain is extended first, in transactions of its own (its links are
    part of the log whether or not a checkpoint follows); the checkpoint and
    its audit record are written together.
    """
    chain_pending()
    with transaction.atomic():
        checkpoint = sign_checkpoint()
        if checkpoint is not None:
            audit.record("exchange.checkpoint.written", actor=actor, target=f"checkpoint:{checkpoint.seq}",
                         details={"first": checkpoint.first_seq, "last": checkpoint.last_seq})
        return checkpoint



def checkpoint_public_key() -> tuple[str, bytes]:
    """Return the key id and the raw Ed25519 public key that verify checkpoint signatures."""
    key = public_key()
    return key_id_of(key), key


@dataclass(frozen=True)
class PublishedCheckpoint:
    """The newest signed checkpoint, with what an outside verifier needs to check it."""

    checkpoint: Checkpoint
    payload: bytes
    public_key: bytes
    key_id: str
    algorithm: str = "Ed25519"


def latest_checkpoint() -> PublishedCheckpoint | None:
    """Return the newest signed checkpoint with its signed payload and the key that verifies it.

    A checkpoint holds hashes and counts only, nothing about anyone, so it is
    public: auditors keep the checkpoints they fetch, and a later log that
    contradicts one (rewritten history) is evidence of tampering.
    """
    checkpoint = Checkpoint.objects.order_by("-seq").first()
    if checkpoint is None:
        return None
    key = get_crypto_provider().public_key(purpose=SIGNING_PURPOSE)
    return PublishedCheckpoint(checkpoint=checkpoint, payload=checkpoint_payload(checkpoint), public_key=key,
                               key_id=key_id_of(key))


def verify_call_log() -> LogBreak | None:
    """Verify the call log's chain and its signed checkpoints; return the first break or None."""
    return verify_log()
