"""Every write of the cases block: applying, handling and deciding applications (办件).

Flow (DESIGN.md "Apply"): ``submit_application`` checks the form, resolves the
materials (the applicant's licences through ``credentials.use_licence``,
registry data through the exchange gateway under the department's grant,
uploads only for the rest), starts the item's process and runs it. A process
that ends at once (秒批) approves the case with no officer and issues the
result licence. Otherwise officers claim and answer the tasks the process
waits on (accept, review, countersign, decide), the applicant answers a
supplement request (补正) once, and the promised deadline counts working days
from acceptance, paused while the applicant supplements.

Each service runs in one transaction and writes one audit record of its own
(the services it calls — licence use, gateway calls, licence issuing,
notices — write theirs). Refusals raise ``kernel.problems`` errors and write
nothing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

from tongban.cases.models import Case, CaseEvent, CaseMaterial, CaseTask, material_storage
from tongban.cases.processes import definition_of, process_data, snapshot_for
from tongban.credentials import services as credentials
from tongban.exchange import services as exchange
from tongban.kernel import audit
from tongban.kernel.actors import SystemActor, acts_for
from tongban.kernel.calendar import Pause, TimeLimit
from tongban.kernel.models import Department, Region
from tongban.kernel.problems import Conflict, InvalidInput, NotFound, PermissionDenied, Problem
from tongban.kernel.uploads import DEFAULT_ALLOWED_TYPES, EXTENSIONS, check_upload
from tongban.kernel.workflow import ProcessInstance, TaskDataRefused, restore, start
from tongban.notices import services as notices
from tongban.registries import services as registries
from tongban.registries.models import LegalEntity, Person
from tongban.services.models import Material, ServiceItem

# The platform itself acts for a department when it obtains materials and issues results.
PLATFORM = SystemActor("cases")
# What the platform tells "who used my data" it read a licence or a registry for.
MATERIAL_PURPOSE = "政务服务办件材料核验 (checking an application's materials)"

# The standard processes' task names (kernel.workflow.standard) the services answer.
ACCEPT, REVIEW, DECIDE, SUPPLEMENT = "accept", "review", "decide", "supplement"


@dataclass(frozen=True)
class Upload:
    """A file the applicant gives for a material: its name and content (a Django UploadedFile fits)."""

    name: str
    file: IO[bytes]


# -- submitting -----------------------------------------------------------------------------------


def _applicant(actor: Any) -> Person:
    person = getattr(actor, "person", None)
    if not getattr(actor, "is_real_name_verified", False) or person is None:
        raise PermissionDenied(_("Only a citizen whose real name is verified may apply."))
    return person  # type: ignore[no-any-return]


def _request_digest(item: ServiceItem, form: Mapping[str, Any], uploads: Mapping[str, Upload],
                    entity: LegalEntity | None) -> str:
    described = {"item": item.code, "form": form, "entity": entity.pk if entity else None,
                 "uploads": sorted(uploads)}
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()


def _form_errors(item: ServiceItem, form: Mapping[str, Any]) -> InvalidInput | None:
    if not item.form_schema:
        return None
    validator = Draft202012Validator(item.form_schema)
    error = next(iter(sorted(validator.iter_errors(dict(form)), key=lambda error: list(error.path))), None)
    if error is None:
        return None
    path = ".".join(str(part) for part in error.path)
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else ""
        return InvalidInput(_("Fill in %(field)s.") % {"field": missing}, field=f"form.{missing}")
    return InvalidInput(_("%(field)s is not valid: %(reason)s") % {"field": path or _("The form"),
                                                                   "reason": error.message},
                        field=f"form.{path}")


def _allowed_types(material: Material) -> list[str]:
    wanted = {extension.lower().lstrip(".") for extension in material.accepted_types or []}
    allowed = [kind for kind, extensions in EXTENSIONS.items()
               if any(extension.lstrip(".") in wanted for extension in extensions)]
    return allowed or list(DEFAULT_ALLOWED_TYPES)


def _store_upload(case: Case, material: Material, upload: Upload, now: datetime,
                  stored: list[str]) -> CaseMaterial:
    """Check and store an upload for ``material``; its storage name is added to ``stored``."""
    limit = (material.max_size_mb or 10) * 1024 * 1024
    checked = check_upload(upload.file, name=upload.name, allowed=_allowed_types(material), max_bytes=limit)
    extension = EXTENSIONS[checked.content_type][0]
    name = material_storage().save(f"{case.number}/{uuid.uuid4().hex}{extension}", upload.file)
    stored.append(name)
    return CaseMaterial.objects.create(
        case=case, material=material, name=material.name, name_en=material.name_en,
        source=CaseMaterial.Source.UPLOAD, file=name, filename=upload.name[:200],
        content_type=checked.content_type, size=checked.size, sha256=checked.sha256, added_at=now,
    )


@contextmanager
def _files_kept_only_on_success() -> Iterator[list[str]]:
    """Yield a list for the names of files stored meanwhile; delete them if the block raises.

    A refused application keeps none of the applicant's files (nothing half-written).
    """
    stored: list[str] = []
    try:
        yield stored
    except BaseException:
        for name in stored:
            material_storage().delete(name)
        raise


def _obtain_licence(case: Case, material: Material, holder: Person | LegalEntity, now: datetime) -> CaseMaterial | None:
    assert material.licence_type is not None
    use = credentials.use_licence(holder, actor=PLATFORM, department=case.department,
                                  licence_type=material.licence_type, purpose=MATERIAL_PURPOSE, case_id=case.number)
    if use is None:
        return None
    return CaseMaterial.objects.create(
        case=case, material=material, name=material.name, name_en=material.name_en,
        source=CaseMaterial.Source.LICENCE, licence_id=str(use.licence_id), call=use.call,
        origin=f"{use.issuer_name} · {material.licence_type.name}", fields=list(use.fields), added_at=now,
    )


def _obtain_registry(case: Case, material: Material, key: str, now: datetime) -> CaseMaterial | None:
    assert material.resource is not None
    try:
        answer = exchange.read_for_case(department=case.department, resource_code=material.resource.code, key=key,
                                        fields=list(material.resource_fields), case_id=case.number)
    except Problem:
        return None  # no grant, or no record: the applicant provides the material
    return CaseMaterial.objects.create(
        case=case, material=material, name=material.name, name_en=material.name_en,
        source=CaseMaterial.Source.REGISTRY, call=answer.call, origin=material.resource.name,
        fields=list(answer.data), added_at=now,
    )


def _resolve_materials(case: Case, item: ServiceItem, *, person: Person, entity: LegalEntity | None,
                       uploads: Mapping[str, Upload], now: datetime, stored: list[str]) -> dict[str, bool]:
    """Obtain or store every material of ``item`` for ``case``; return which were obtained from government data.

    A material the government holds is obtained (免提交); only when that fails
    is the applicant's upload used; a required material with neither refuses
    the application (InvalidInput naming it).
    """
    obtained: dict[str, bool] = {}
    for material in item.materials.select_related("licence_type", "resource"):
        found: CaseMaterial | None = None
        if material.source == Material.Source.LICENCE and material.licence_type is not None:
            if material.licence_type.holder_type != "legal_entity":
                found = _obtain_licence(case, material, person, now)
            elif entity is not None:
                found = _obtain_licence(case, material, entity, now)
        elif material.source == Material.Source.REGISTRY and material.resource is not None:
            if material.resource.record_kind == "legal_entity":
                if entity is not None:
                    found = _obtain_registry(case, material, entity.uscc, now)
            else:  # the applicant's own records, keyed by their ID number
                found = _obtain_registry(case, material, str(person.id_number), now)
        obtained[material.name] = found is not None
        if found is not None:
            continue
        upload = uploads.get(str(material.pk)) or uploads.get(material.name)
        if upload is not None:
            _store_upload(case, material, upload, now, stored)
        elif material.required:
            raise InvalidInput(_("Provide %(material)s.") % {"material": material.name},
                               field=f"materials.{material.pk}")
    return obtained


def _holds_result(item: ServiceItem, person: Person, entity: LegalEntity | None) -> bool:
    licence_type = item.result_licence_type
    if licence_type is None:
        return False
    if licence_type.holder_type == "legal_entity":
        if entity is None:
            return False
        held = credentials.licences_held_by(entity_id=entity.pk)
    else:
        held = credentials.licences_held_by(person_id=person.pk)
    return held.filter(licence_type=licence_type, status="valid").exists()


def _case_number(case: Case) -> str:
    return f"{case.region.code}-{case.submitted_at:%Y%m%d}-{case.pk:06d}"


def submit_application(
    item: ServiceItem, *, actor: Any, form: Mapping[str, Any], idempotency_key: str,
    uploads: Mapping[str, Upload] | None = None, entity: LegalEntity | None = None,
) -> Case:
    """Submit an application for ``item`` and return its case (with its number, the receipt's key).

    The same ``idempotency_key`` with the same content returns the case
    already submitted and writes nothing; with other content it is refused
    (Conflict). Raise PermissionDenied unless the actor is a citizen whose
    real name is verified (and, for ``entity``, its legal representative);
    NotFound for an item not published; InvalidInput (with ``field``) for a
    form that does not validate, a missing material or a refused upload.
    """
    with _files_kept_only_on_success() as stored, transaction.atomic():
        return _submit(item, actor=actor, form=form, idempotency_key=idempotency_key, uploads=dict(uploads or {}),
                       entity=entity, stored=stored)


def _submit(item: ServiceItem, *, actor: Any, form: Mapping[str, Any], idempotency_key: str,
            uploads: dict[str, Upload], entity: LegalEntity | None, stored: list[str]) -> Case:
    person = _applicant(actor)
    if entity is not None and entity.legal_representative_id != person.pk:
        raise PermissionDenied(_("Only the legal representative may apply for the business."))
    key = str(idempotency_key or "").strip()
    if not key or len(key) > 64:
        raise InvalidInput(_("Send an idempotency key of 1 to 64 characters."), field="idempotency_key")
    if item.status != ServiceItem.Status.PUBLISHED:
        raise NotFound(_("There is no such service item in the catalog."))
    form = dict(form)
    digest = _request_digest(item, form, uploads, entity)
    earlier = Case.objects.filter(applicant=actor, idempotency_key=key).first()
    if earlier is not None:
        if earlier.request_digest != digest:
            raise Conflict(_("This idempotency key was used for another application."))
        return earlier
    problem = _form_errors(item, form)
    if problem is not None:
        raise problem
    now = timezone.now()
    case = Case.objects.create(
        number=f"pending-{secrets.token_hex(8)}", item=item, item_version=item.version, department=item.department,
        region=item.region, applicant=actor, person=person, entity=entity, form_data=json.dumps(form),
        idempotency_key=key, request_digest=digest, process=snapshot_for(item), promised_days=item.promised_days,
        submitted_at=now,
    )
    case.number = _case_number(case)
    case.save(update_fields=["number"])
    _event(case, CaseEvent.Kind.SUBMITTED, actor, {"item": item.code, "version": item.version})
    obtained = _resolve_materials(case, item, person=person, entity=entity, uploads=uploads, now=now,
                                  stored=stored)
    for name, found in obtained.items():
        if found:
            _event(case, CaseEvent.Kind.MATERIAL_OBTAINED, PLATFORM, {"material": name})
    instance = start(definition_of(case.process), process_data(
        person=person, entity=entity, form=form, holds_result_licence=_holds_result(item, person, entity),
        materials=obtained))
    instance.run()
    _after_step(case, instance, actor=actor, now=now)
    audit.record("cases.case.submitted", actor=actor, target=f"case:{case.pk}",
                 details={"item": item.code, "status": case.status})
    return case


# -- moving a case on ------------------------------------------------------------------------------


def _event(case: Case, kind: str, actor: Any, details: Mapping[str, Any] | None = None) -> None:
    CaseEvent.objects.create(case=case, at=timezone.now(), kind=kind, actor=audit.describe_actor(actor),
                             details=dict(details or {}))


def _instance(case: Case) -> ProcessInstance:
    return restore(definition_of(case.process), case.process_state)


def _sync_tasks(case: Case, instance: ProcessInstance, now: datetime) -> None:
    """Open a task row for every task the process waits on that has none; close rows it no longer waits on."""
    ready = {task.task_id: task for task in instance.ready_tasks()}
    open_rows = {row.task_id: row for row in case.tasks.filter(completed_at__isnull=True)}
    for task_id, row in open_rows.items():
        if task_id not in ready:
            row.completed_at = now
            row.action = row.action or "closed"
            row.save(update_fields=["completed_at", "action"])
    departments: dict[str, Any] = {}
    for task_id, task in ready.items():
        if task_id in open_rows or case.tasks.filter(task_id=task_id).exists():
            continue
        department = None
        if task.lane != CaseTask.APPLICANT:
            department = case.department
            if task.department_kind and task.department_kind != case.department.kind:
                if task.department_kind not in departments:
                    departments[task.department_kind] = _department_of_kind(case, task.department_kind)
                department = departments[task.department_kind]
        CaseTask.objects.create(case=case, task_id=task_id, element_id=task.element_id, name=task.name,
                                lane=task.lane, department=department, created_at=now)


def _department_of_kind(case: Case, kind: str) -> Department:
    """Return the department of ``kind`` in the case's region (or the nearest region above it that has one)."""
    region: Region | None = case.region
    while region is not None:
        found = Department.objects.filter(region=region, kind=kind).first()
        if found is not None:
            return found
        region = region.parent
    raise InvalidInput(_("No department of kind %(kind)s handles cases in this region.") % {"kind": kind})


def _deadline(case: Case) -> datetime | None:
    if case.accepted_at is None:
        return None
    pauses = tuple(Pause(paused_at=datetime.fromisoformat(pause["paused_at"]),
                         resumed_at=datetime.fromisoformat(pause["resumed_at"]) if pause.get("resumed_at") else None)
                   for pause in case.pauses)
    return TimeLimit(accepted_at=case.accepted_at, working_days=case.promised_days, pauses=pauses).deadline(
        region=case.region).due_at


def _after_step(case: Case, instance: ProcessInstance, *, actor: Any, now: datetime) -> None:
    """Save the process state, open and close task rows, and set the status (finishing an ended process)."""
    case.process_state = instance.serialize()
    _sync_tasks(case, instance, now)
    if instance.is_completed:
        _finish(case, instance, actor=actor, now=now)
    elif case.tasks.filter(completed_at__isnull=True, lane=CaseTask.APPLICANT).exists():
        case.status = Case.Status.SUPPLEMENT
    elif case.accepted_at is not None:
        case.status = Case.Status.IN_PROGRESS
    else:
        case.status = Case.Status.SUBMITTED
    case.deadline_at = _deadline(case)
    case.save()


_OUTCOMES = {
    "approved": Case.Status.APPROVED,
    "rejected": Case.Status.REJECTED,
    "not_accepted": Case.Status.NOT_ACCEPTED,
    "withdrawn": Case.Status.WITHDRAWN,
}


def _finish(case: Case, instance: ProcessInstance, *, actor: Any, now: datetime) -> None:
    outcome = instance.end_event or ""
    case.outcome = outcome
    case.status = _OUTCOMES.get(outcome, Case.Status.REJECTED)
    case.completed_at = now
    if instance.decisions and not case.tasks.filter(lane__in=("window_officer", "reviewer")).exists():
        # No officer took part: the rules decided (秒批). Record which rule.
        decision = instance.decisions[-1]
        case.decided_by = decision.explain()[:300]
        case.accepted_at = case.accepted_at or now
        _event(case, CaseEvent.Kind.RULE_DECIDED, PLATFORM, {"rule": decision.explain()[:300]})
    service_name = case.item.name
    if case.status == Case.Status.APPROVED:
        _event(case, CaseEvent.Kind.APPROVED, actor if case.decided_by == "" else PLATFORM)
        licence = _issue_result(case)
        notices.send_notice(case.applicant, "case.approved", {"case_number": case.number, "service_name": service_name},
                            actor=PLATFORM, link=f"/me/cases/{case.number}/")
        if licence is not None:
            notices.send_notice(case.applicant, "licence.issued",
                                {"licence_name": licence.licence_type.name, "issuer": licence.issuer.name},
                                actor=PLATFORM, link=f"/me/licences/{licence.id}/")
    elif case.status == Case.Status.REJECTED:
        notices.send_notice(case.applicant, "case.rejected", {"case_number": case.number, "service_name": service_name,
                                                              "reason": case.reason or "—"},
                            actor=PLATFORM, link=f"/me/cases/{case.number}/")
    elif case.status == Case.Status.NOT_ACCEPTED:
        notices.send_notice(case.applicant, "case.not_accepted",
                            {"case_number": case.number, "service_name": service_name, "reason": case.reason or "—"},
                            actor=PLATFORM, link=f"/me/cases/{case.number}/")


# -- the result ------------------------------------------------------------------------------------

_ENTITY_TYPES = {"limited_company": "company", "sole_proprietorship": "sole_proprietor", "partnership": "partnership"}


def _coerce(value: Any, schema: Mapping[str, Any]) -> Any:
    if schema.get("type") == "string" and value is not None and not isinstance(value, str):
        return str(value)
    return value


def _issue_result(case: Case) -> Any:
    """Issue the item's result licence to the applicant (or the business it establishes); return it, or None."""
    item = case.item
    licence_type = item.result_licence_type
    if item.result_kind != ServiceItem.ResultKind.LICENCE or licence_type is None:
        return None
    form = json.loads(case.form_data)
    holder: Person | LegalEntity = case.person
    values: dict[str, Any] = {"name": case.person.name, "holder": case.person.name}
    if licence_type.holder_type == "legal_entity":
        holder = case.entity or _establish_entity(case, form)
        values = {"uscc": holder.uscc, "name": holder.name, "entity_type": holder.get_entity_type_display(),
                  "legal_representative": case.person.name,
                  "established_on": (holder.established_on or timezone.localdate()).isoformat()}
        capital = form.get("registered_capital")
        if capital not in (None, ""):
            values["registered_capital"] = _("%(amount)s ten thousand yuan") % {"amount": capital}
    properties: Mapping[str, Any] = (licence_type.schema or {}).get("properties", {})
    fields = {name: _coerce(value, properties[name]) for name, value in {**form, **values}.items()
              if name in properties and value not in (None, "")}
    licence = credentials.issue_licence(actor=PLATFORM, licence_type=licence_type, holder=holder, fields=fields,
                                        issuer=case.department, reference=case.number)
    case.result_licence_id = str(licence.id)
    _event(case, CaseEvent.Kind.LICENCE_ISSUED, PLATFORM, {"licence_type": licence_type.code})
    return licence


def _establish_entity(case: Case, form: Mapping[str, Any]) -> LegalEntity:
    """Register the business an establishment registration (设立登记) creates, with a new USCC."""
    name = str(form.get("entity_name") or "").strip()
    if not name:
        raise InvalidInput(_("The application names no business to register."), field="form.entity_name")
    entity_type = _ENTITY_TYPES.get(str(form.get("entity_type")), "company")
    entity = registries.register_entity(
        actor=PLATFORM, uscc=registries.new_uscc(case.region.code), name=name, entity_type=entity_type, legal_representative=case.person,
        registered_region=case.region, established_on=timezone.localdate(),
        reason=f"Establishment registration, case {case.number}")
    case.entity = entity
    return entity


# -- officers' work --------------------------------------------------------------------------------


def _officer_task(task: CaseTask, actor: Any) -> CaseTask:
    """Return ``task`` locked, if ``actor`` may work on it; raise otherwise."""
    locked = CaseTask.objects.select_for_update().select_related("case").filter(pk=task.pk).first()
    if locked is None or locked.lane == CaseTask.APPLICANT or locked.department_id is None:
        raise NotFound(_("There is no such task."))
    if not acts_for(actor, locked.department_id, locked.lane):
        raise PermissionDenied(_("Only an officer of the department in this role may do this."))
    if locked.completed_at is not None:
        raise Conflict(_("This task is done already."))
    if locked.claimed_by_id is not None and locked.claimed_by_id != getattr(actor, "pk", None):
        raise Conflict(_("Another officer has claimed this task."))
    return locked


@transaction.atomic
def claim_task(task: CaseTask, *, actor: Any) -> CaseTask:
    """Claim an open task (签收) so that no other officer works on it; return it."""
    locked = _officer_task(task, actor)
    if locked.claimed_by_id is None:
        locked.claimed_by, locked.claimed_at = actor, timezone.now()
        locked.save(update_fields=["claimed_by", "claimed_at"])
        _event(locked.case, CaseEvent.Kind.CLAIMED, actor, {"task": locked.element_id})
        audit.record("cases.task.claimed", actor=actor, target=f"case:{locked.case_id}",
                     details={"task": locked.element_id})
    return locked


@transaction.atomic
def release_task(task: CaseTask, *, actor: Any) -> CaseTask:
    """Give back a task the actor claimed, for another officer to take; return it."""
    locked = _officer_task(task, actor)
    if locked.claimed_by_id is None:
        raise Conflict(_("Nobody has claimed this task."))
    locked.claimed_by, locked.claimed_at = None, None
    locked.save(update_fields=["claimed_by", "claimed_at"])
    _event(locked.case, CaseEvent.Kind.RELEASED, actor, {"task": locked.element_id})
    audit.record("cases.task.released", actor=actor, target=f"case:{locked.case_id}",
                 details={"task": locked.element_id})
    return locked


def _answer(task: CaseTask, *, actor: Any, element: str | tuple[str, ...], answer: Mapping[str, Any],
            action: str, now: datetime) -> tuple[Case, ProcessInstance]:
    locked = _officer_task(task, actor)
    elements = (element,) if isinstance(element, str) else element
    if not any(locked.element_id == name or locked.element_id.startswith(f"{name}_") for name in elements):
        raise Conflict(_("This task is not one where that can be done."))
    case = Case.objects.select_for_update().get(pk=locked.case_id)
    instance = _instance(case)
    try:
        instance.complete(locked.task_id, answer)
    except TaskDataRefused as refused:
        raise Conflict(str(refused.detail)) from None
    locked.completed_at, locked.completed_by, locked.action = now, actor, action
    locked.claimed_by = locked.claimed_by or actor
    locked.claimed_at = locked.claimed_at or now
    locked.save(update_fields=["completed_at", "completed_by", "action", "claimed_by", "claimed_at"])
    return case, instance


def _clean_reason(reason: str, *, required: bool) -> str:
    reason = " ".join(str(reason or "").split())[:2000]
    if required and not reason:
        raise InvalidInput(_("Give the reason."), field="reason")
    return reason


@transaction.atomic
def accept_application(task: CaseTask, *, actor: Any) -> Case:
    """Accept a submitted case (受理): its promised time limit starts now. Return the case.

    Raise PermissionDenied unless the actor is a window officer of the
    department; Conflict for a task that is not an acceptance, done, or
    claimed by another officer.
    """
    now = timezone.now()
    case, instance = _answer(task, actor=actor, element=ACCEPT, answer={"accepted": True}, action="accepted",
                             now=now)
    case.accepted_at = now
    _event(case, CaseEvent.Kind.ACCEPTED, actor)
    _after_step(case, instance, actor=actor, now=now)
    if case.deadline_at is not None:
        notices.send_notice(case.applicant, "case.accepted",
                            {"case_number": case.number, "service_name": case.item.name,
                             "due_date": timezone.localtime(case.deadline_at).date().isoformat()},
                            actor=PLATFORM, link=f"/me/cases/{case.number}/")
    audit.record("cases.case.accepted", actor=actor, target=f"case:{case.pk}")
    return case


@transaction.atomic
def refuse_to_accept(task: CaseTask, *, actor: Any, reason: str) -> Case:
    """Refuse to accept a case (不予受理) with the reason the applicant is told; return the case."""
    reason = _clean_reason(reason, required=True)
    now = timezone.now()
    case, instance = _answer(task, actor=actor, element=ACCEPT, answer={"accepted": False},
                             action="not_accepted", now=now)
    case.reason = reason
    _event(case, CaseEvent.Kind.NOT_ACCEPTED, actor)
    _after_step(case, instance, actor=actor, now=now)
    audit.record("cases.case.not_accepted", actor=actor, target=f"case:{case.pk}")
    return case


@transaction.atomic
def request_supplement(task: CaseTask, *, actor: Any, items: Sequence[str], reason: str) -> Case:
    """Send the case back to the applicant once (一次性告知补正), listing what is missing; return it.

    The promised deadline pauses until the applicant supplements. Raise
    InvalidInput without items or reason; Conflict if a supplement was
    requested before (the process allows one) or the task is not a review.
    """
    wanted = [" ".join(str(entry).split())[:200] for entry in items if str(entry).strip()]
    if not wanted:
        raise InvalidInput(_("List what the applicant must supply."), field="items")
    reason = _clean_reason(reason, required=True)
    now = timezone.now()
    case, instance = _answer(task, actor=actor, element=REVIEW, action="supplement_requested", now=now, answer={
        "supplement_requested": True, "supplement_items": wanted, "supplement_reason": reason})
    case.supplement_items, case.supplement_reason = wanted, reason
    case.pauses = [*case.pauses, {"paused_at": now.isoformat(), "resumed_at": None}]
    _event(case, CaseEvent.Kind.SUPPLEMENT_REQUESTED, actor, {"items": len(wanted)})
    _after_step(case, instance, actor=actor, now=now)
    notices.send_notice(case.applicant, "case.supplement_requested",
                        {"case_number": case.number, "service_name": case.item.name, "items": wanted,
                         "reason": reason}, actor=PLATFORM, link=f"/me/cases/{case.number}/")
    audit.record("cases.case.supplement_requested", actor=actor, target=f"case:{case.pk}")
    return case


@transaction.atomic
def countersign(task: CaseTask, *, actor: Any, agreed: bool, opinion: str = "") -> Case:
    """Give a department's countersignature (会签) on a case; return the case.

    Raise InvalidInput without an opinion when disagreeing.
    """
    opinion = _clean_reason(opinion, required=not agreed)
    now = timezone.now()
    case, instance = _answer(task, actor=actor, element="countersign", answer={"agreed": bool(agreed)},
                             action="agreed" if agreed else "disagreed", now=now)
    if not agreed:
        case.reason = opinion
    _event(case, CaseEvent.Kind.COUNTERSIGNED, actor, {"agreed": bool(agreed), "task": task.element_id})
    _after_step(case, instance, actor=actor, now=now)
    audit.record("cases.case.countersigned", actor=actor, target=f"case:{case.pk}", details={"agreed": agreed})
    return case


@transaction.atomic
def decide_application(task: CaseTask, *, actor: Any, approve: bool, reason: str = "") -> Case:
    """Approve or reject a case under review (准予 / 不予许可); return it.

    On a review task the review is passed first; the decision then goes to the
    decide task that follows, when it is the same role's. Approval issues the
    result licence and tells the applicant. Raise InvalidInput for a rejection
    without a reason.
    """
    reason = _clean_reason(reason, required=not approve)
    now = timezone.now()
    decision = {"decision": "approve" if approve else "reject"}
    if task.element_id == REVIEW:
        case, instance = _answer(task, actor=actor, element=REVIEW, answer={"supplement_requested": False},
                                 action="reviewed", now=now)
        _event(case, CaseEvent.Kind.REVIEWED, actor)
        _after_step(case, instance, actor=actor, now=now)
        follow = case.tasks.filter(completed_at__isnull=True, element_id=DECIDE, lane=task.lane,
                                   department=task.department).first()
        if follow is None:
            audit.record("cases.case.reviewed", actor=actor, target=f"case:{case.pk}")
            return case
        task = follow
    case, instance = _answer(task, actor=actor, element=DECIDE, answer=decision,
                             action="approved" if approve else "rejected", now=now)
    if not approve:
        case.reason = reason
        _event(case, CaseEvent.Kind.REJECTED, actor)
    _after_step(case, instance, actor=actor, now=now)
    audit.record("cases.case.decided", actor=actor, target=f"case:{case.pk}",
                 details={"decision": decision["decision"]})
    return case


# -- the applicant's actions -----------------------------------------------------------------------


def _own_case(case: Case, actor: Any) -> Case:
    locked = Case.objects.select_for_update().filter(pk=case.pk, applicant_id=getattr(actor, "pk", None)).first()
    if locked is None:
        raise NotFound(_("There is no such case."))
    return locked


def supplement_application(case: Case, *, actor: Any, form: Mapping[str, Any] | None = None,
                           uploads: Mapping[str, Upload] | None = None) -> Case:
    """Supply what a supplement request listed (补正), once; the case goes back to review. Return it.

    ``form`` replaces the application form (checked again); each upload
    replaces that material's earlier upload, which stays on record as
    superseded. The paused deadline resumes. Raise NotFound for another's
    case; Conflict unless the case waits for a supplement; InvalidInput for a
    bad form or upload.
    """
    with _files_kept_only_on_success() as stored, transaction.atomic():
        return _supplement(case, actor=actor, form=form, uploads=dict(uploads or {}), stored=stored)


def _supplement(case: Case, *, actor: Any, form: Mapping[str, Any] | None, uploads: dict[str, Upload],
                stored: list[str]) -> Case:
    locked = _own_case(case, actor)
    if locked.status != Case.Status.SUPPLEMENT:
        raise Conflict(_("This case is not waiting for a supplement."))
    if form is None and not uploads:
        raise InvalidInput(_("Supply the corrected form or the missing materials."))
    now = timezone.now()
    if form is not None:
        problem = _form_errors(locked.item, form)
        if problem is not None:
            raise problem
        locked.form_data = json.dumps(dict(form))
    materials = {str(material.pk): material for material in locked.item.materials.all()}
    by_name = {material.name: material for material in materials.values()}
    for key, upload in uploads.items():
        material = materials.get(key) or by_name.get(key)
        if material is None:
            raise InvalidInput(_("The service has no such material."), field=f"materials.{key}")
        locked.materials.filter(material=material, superseded_at__isnull=True).update(superseded_at=now)
        _store_upload(locked, material, upload, now, stored)
    task = locked.tasks.filter(completed_at__isnull=True, lane=CaseTask.APPLICANT).first()
    if task is None:
        raise Conflict(_("This case is not waiting for a supplement."))
    instance = _instance(locked)
    instance.complete(task.task_id, {"withdrawn": False})
    task.completed_at, task.completed_by, task.action = now, actor, "supplemented"
    task.save(update_fields=["completed_at", "completed_by", "action"])
    locked.pauses = [{**pause, "resumed_at": pause.get("resumed_at") or now.isoformat()} for pause in locked.pauses]
    _event(locked, CaseEvent.Kind.SUPPLEMENTED, actor, {"uploads": len(uploads), "form": form is not None})
    _after_step(locked, instance, actor=actor, now=now)
    audit.record("cases.case.supplemented", actor=actor, target=f"case:{locked.pk}")
    return locked


@transaction.atomic
def withdraw_application(case: Case, *, actor: Any, reason: str = "") -> Case:
    """Withdraw an application not yet accepted (or waiting for a supplement); return the case.

    Raise NotFound for another's case; Conflict once it has been accepted
    (and is not waiting for a supplement) or has ended.
    """
    locked = _own_case(case, actor)
    now = timezone.now()
    if locked.status == Case.Status.SUPPLEMENT:
        task = locked.tasks.filter(completed_at__isnull=True, lane=CaseTask.APPLICANT).first()
        instance = _instance(locked)
        if task is not None:
            instance.complete(task.task_id, {"withdrawn": True})
            task.completed_at, task.completed_by, task.action = now, actor, "withdrawn"
            task.save(update_fields=["completed_at", "completed_by", "action"])
    elif locked.status == Case.Status.SUBMITTED:
        instance = _instance(locked)
    else:
        raise Conflict(_("This application can no longer be withdrawn."))
    locked.reason = _clean_reason(reason, required=False)
    _event(locked, CaseEvent.Kind.WITHDRAWN, actor)
    locked.process_state = instance.serialize()
    _sync_tasks(locked, instance, now)
    locked.tasks.filter(completed_at__isnull=True).update(completed_at=now, action="withdrawn")
    locked.status, locked.outcome, locked.completed_at = Case.Status.WITHDRAWN, "withdrawn", now
    locked.deadline_at = _deadline(locked) if locked.accepted_at else None
    locked.save()
    audit.record("cases.case.withdrawn", actor=actor, target=f"case:{locked.pk}")
    return locked
