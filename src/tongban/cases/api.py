"""Applications over the API: a citizen (signed in, or with an access token of the ``api`` scope)
submits, tracks and withdraws their own applications.

``POST /cases`` is multipart: ``item`` (the item's code), ``form`` (the application
form as JSON text) and one file per material to upload, named ``material-<id>``
(or the material's name). The ``Idempotency-Key`` header makes a retried
submission return the case already made (200) instead of a second one (201).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Form, Header, Router, Schema, Status

from tongban.cases import selectors, services
from tongban.cases.models import Case
from tongban.kernel.problems import InvalidInput
from tongban.services import selectors as catalog

router = Router(tags=["cases"])

MATERIAL_FIELD_PREFIX = "material-"


class ProblemOut(Schema):
    type: str
    title: str
    status: int
    detail: str
    field: str | None = None
    reason: str | None = None


class MaterialOut(Schema):
    name: str
    source: str
    origin: str
    filename: str
    superseded: bool


class EventOut(Schema):
    at: datetime
    kind: str


class CaseOut(Schema):
    number: str
    item: str
    item_name: str
    department: str
    status: str
    submitted_at: datetime
    accepted_at: datetime | None
    deadline_at: datetime | None
    completed_at: datetime | None
    decided_by: str
    reason: str
    supplement_items: list[str]
    result_licence_id: str | None
    materials: list[MaterialOut]
    timeline: list[EventOut]


def _case_out(case: Case) -> CaseOut:
    return CaseOut(
        number=case.number, item=case.item.code, item_name=case.item.name, department=case.department.name,
        status=case.status, submitted_at=case.submitted_at, accepted_at=case.accepted_at,
        deadline_at=case.deadline_at, completed_at=case.completed_at, decided_by=case.decided_by,
        reason=case.reason, supplement_items=list(case.supplement_items), result_licence_id=case.result_licence_id
        or None,
        materials=[MaterialOut(name=material.name, source=material.source, origin=material.origin,
                               filename=material.filename, superseded=material.superseded_at is not None)
                   for material in case.materials.all()],
        timeline=[EventOut(at=event.at, kind=event.kind) for event in case.events.all()],
    )


def _uploads(request: HttpRequest) -> dict[str, services.Upload]:
    uploads = {}
    for field in request.FILES:
        upload: UploadedFile[bytes] = request.FILES[field]  # type: ignore[assignment]  # one file per field
        uploads[field.removeprefix(MATERIAL_FIELD_PREFIX)] = services.Upload(name=upload.name or field, file=upload)
    return uploads


@router.post(
    "", response={200: CaseOut, 201: CaseOut, 401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 409: ProblemOut,
                  422: ProblemOut, 503: ProblemOut},
    summary="Apply for a service item",
    description="Multipart: `item` (code), `form` (JSON text of the application form), a file per material "
                "to upload (`material-<id>`). Materials the government holds are obtained by the platform. "
                "Send `Idempotency-Key`: a retry with the same key and content returns the same case (200).",
)
def submit(request: HttpRequest, item: Annotated[str, Form()], form: Annotated[str, Form()],
           idempotency_key: Annotated[str, Header(alias="Idempotency-Key")]) -> Status[CaseOut]:
    try:
        answers: Any = json.loads(form)
    except ValueError:
        raise InvalidInput(_("The form is not JSON."), field="form") from None
    if not isinstance(answers, dict):
        raise InvalidInput(_("The form is not a JSON object."), field="form")
    actor = request.auth  # type: ignore[attr-defined]
    existing = Case.objects.filter(applicant_id=getattr(actor, "pk", None), idempotency_key=idempotency_key).exists()
    case = services.submit_application(catalog.published_item(item), actor=actor, form=answers,
                                       idempotency_key=idempotency_key, uploads=_uploads(request))
    return Status(200 if existing else 201, _case_out(case))


@router.get("", response={200: list[CaseOut], 401: ProblemOut}, summary="My applications")
def my_cases(request: HttpRequest) -> list[CaseOut]:
    found = selectors.cases_of_applicant(request.auth).prefetch_related(  # type: ignore[attr-defined]
        "materials", "events")[:100]
    return [_case_out(case) for case in found]


@router.get("/{number}", response={200: CaseOut, 401: ProblemOut, 404: ProblemOut}, summary="One of my applications")
def my_case(request: HttpRequest, number: str) -> CaseOut:
    return _case_out(selectors.applicant_case(request.auth, number))  # type: ignore[attr-defined]


@router.post("/{number}/withdraw", response={200: CaseOut, 401: ProblemOut, 404: ProblemOut, 409: ProblemOut},
             summary="Withdraw an application not yet accepted")
def withdraw(request: HttpRequest, number: str) -> CaseOut:
    actor = request.auth  # type: ignore[attr-defined]
    return _case_out(services.withdraw_application(selectors.applicant_case(actor, number), actor=actor))
