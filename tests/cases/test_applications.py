"""Applying, handling and deciding applications (办件) through the services: every transition and
every refusal, with the outsiders who must be refused."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests.cases.conftest import (
    BUSINESS_REGISTRATION,
    RESIDENCE_PERMIT,
    item,
    new_citizen,
    pdf_upload,
)
from tongban.cases import services as cases
from tongban.cases.models import Case, CaseEvent, CaseMaterial, CaseTask, material_storage
from tongban.credentials import services as credentials
from tongban.credentials.models import Licence
from tongban.exchange.models import CallLogRecord
from tongban.kernel.models import AuditRecord
from tongban.kernel.problems import Conflict, InvalidInput, NotFound, PermissionDenied
from tongban.notices.models import Notice
from tongban.registries.models import LegalEntity

pytestmark = pytest.mark.django_db

BUSINESS_FORM = {
    "entity_name": "杭州云帆科技有限公司", "entity_type": "limited_company", "registered_capital": 100,
    "address": "杭州市西湖区文三路 1 号", "business_scope": "软件开发；信息技术咨询服务",
    "legal_representative": "王小明", "legal_representative_id": "330106198806010011",
}
RESIDENCE_MATERIAL = "居住证明"


def business_form(applicant) -> dict:
    return {**BUSINESS_FORM, "legal_representative": applicant.person.name,
            "legal_representative_id": applicant.person.id_number}


def apply_for_business(applicant, *, key: str = "k-1", **extra) -> Case:
    return cases.submit_application(item(BUSINESS_REGISTRATION), actor=applicant, form=business_form(applicant),
                                    idempotency_key=key, uploads={"公司章程": pdf_upload("章程.pdf")}, **extra)


def apply_for_residence(applicant, *, key: str = "r-1", uploads=None) -> Case:
    form = _residence_form(applicant)
    return cases.submit_application(
        item(RESIDENCE_PERMIT), actor=applicant, form=form, idempotency_key=key,
        uploads={RESIDENCE_MATERIAL: pdf_upload()} if uploads is None else uploads)


def _residence_form(applicant) -> dict:
    schema = item(RESIDENCE_PERMIT).form_schema
    values = {"name": applicant.person.name, "id_number": applicant.person.id_number,
              "address": "杭州市西湖区文三路 1 号", "residence_address": "杭州市西湖区文三路 1 号",
              "reason": "employment", "residence_reason": "employment", "start_date": "2026-01-01",
              "residence_since": "2026-01-01", "phone": "13800138000"}
    properties = schema.get("properties", {})
    form = {}
    for name, spec in properties.items():
        if "enum" in spec:
            form[name] = spec["enum"][0]
        elif spec.get("type") in ("number", "integer"):
            form[name] = 1
        elif spec.get("format") == "date":
            form[name] = "2026-01-01"
        else:
            form[name] = values.get(name, "杭州市西湖区文三路 1 号")
    return form


def open_task(case: Case, element: str) -> CaseTask:
    return case.tasks.get(element_id=element, completed_at__isnull=True)


def timeline(case: Case) -> list[str]:
    return list(case.events.values_list("kind", flat=True))


# -- instant approval (秒批) -----------------------------------------------------------------------


def test_a_business_registration_is_approved_at_once_by_the_rules_and_the_licence_verifies(applicant):
    # when
    case = apply_for_business(applicant)
    # then: approved with no officer, the deciding rule recorded
    assert case.status == Case.Status.APPROVED
    assert case.outcome == "approved"
    assert "R2" in case.decided_by
    assert not case.tasks.exists()
    # the business is registered and holds its signed business licence
    entity = LegalEntity.objects.get(name=BUSINESS_FORM["entity_name"])
    assert entity.legal_representative == applicant.person
    licence = Licence.objects.get(pk=case.result_licence_id)
    assert (licence.licence_type.code, licence.holder_entity, licence.reference) == (
        "business-licence", entity, case.number)
    assert credentials.verify_licence_credential(licence.credential).is_valid
    # the identity material came from the population registry through the gateway, logged for the applicant
    obtained = case.materials.get(source=CaseMaterial.Source.REGISTRY)
    assert obtained.call is not None and "name" in obtained.fields
    call = CallLogRecord.objects.get(pk=obtained.call)
    assert (call.case_id, call.outcome) == (case.number, CallLogRecord.Outcome.OK)
    # the applicant was told, and the timeline says what happened
    assert set(Notice.objects.filter(recipient=applicant).values_list("template", flat=True)) == {
        "case.approved", "licence.issued"}
    assert timeline(case) == ["submitted", "material_obtained", "rule_decided", "approved", "licence_issued"]
    assert AuditRecord.objects.filter(action="cases.case.submitted", target=f"case:{case.pk}").count() == 1


def test_a_minor_s_business_registration_is_routed_to_acceptance_and_review(handling):
    # given a 16-year-old applicant
    minor = new_citizen("minor", name="王小弟", birth_date=date(2010, 3, 7))
    # when
    case = apply_for_business(minor)
    # then
    assert case.status == Case.Status.SUBMITTED
    assert [task.element_id for task in case.tasks.all()] == ["accept"]
    assert case.tasks.get().department.kind == "market_regulation"
    assert "R1" in json.dumps(case.process_state)  # the rule that said no is kept with the process
    assert not LegalEntity.objects.filter(name=BUSINESS_FORM["entity_name"]).exists()


# -- submission: idempotency and refusals ----------------------------------------------------------


def test_the_same_idempotency_key_returns_the_same_case_and_other_content_is_refused(applicant):
    first = apply_for_residence(applicant)
    again = apply_for_residence(applicant)
    assert again.pk == first.pk
    assert Case.objects.count() == 1
    with pytest.raises(Conflict):
        cases.submit_application(item(RESIDENCE_PERMIT), actor=applicant, form={**_residence_form(applicant)},
                                 idempotency_key="r-1", uploads={})
    assert Case.objects.count() == 1


def test_a_missing_material_refuses_the_application_and_keeps_nothing(applicant):
    with pytest.raises(InvalidInput) as refused:
        apply_for_residence(applicant, uploads={})
    assert refused.value.extensions["field"].startswith("materials.")
    assert not Case.objects.exists()
    assert not CaseMaterial.objects.exists()


def test_an_upload_that_is_not_what_it_claims_is_refused_and_no_file_is_kept(applicant, settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "case_materials": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    jpeg_named_pdf = cases.Upload(name="居住证明.pdf", file=io.BytesIO(b"\xff\xd8\xff\xe0" + b"0" * 64))
    with pytest.raises(InvalidInput) as refused:
        apply_for_residence(applicant, uploads={RESIDENCE_MATERIAL: jpeg_named_pdf})
    assert refused.value.extensions["reason"] == "type_mismatch"
    assert not Case.objects.exists()
    assert list(tmp_path.rglob("*.*")) == []


def test_a_form_that_does_not_validate_is_refused_with_the_field(applicant):
    with pytest.raises(InvalidInput) as refused:
        cases.submit_application(item(BUSINESS_REGISTRATION), actor=applicant, form={"entity_name": "x"},
                                 idempotency_key="bad", uploads={"公司章程": pdf_upload()})
    assert refused.value.extensions["field"].startswith("form.")
    assert not Case.objects.exists()


def test_an_officer_cannot_apply(applicant, police_window):
    with pytest.raises(PermissionDenied):
        cases.submit_application(item(RESIDENCE_PERMIT), actor=police_window, form=_residence_form(applicant),
                                 idempotency_key="o-1", uploads={RESIDENCE_MATERIAL: pdf_upload()})
    assert not Case.objects.exists()


# -- the reviewed path -------------------------------------------------------------------------------


def test_accept_supplement_once_supplement_and_approve(applicant, police_window, police_reviewer):
    # given a submitted application
    case = apply_for_residence(applicant)
    assert case.status == Case.Status.SUBMITTED
    assert case.deadline_at is None
    # when the window officer accepts it
    case = cases.accept_application(open_task(case, "accept"), actor=police_window)
    # then the promised time limit runs from now, in working days
    assert case.status == Case.Status.IN_PROGRESS
    assert case.accepted_at is not None and case.deadline_at > case.accepted_at
    deadline = case.deadline_at
    assert Notice.objects.filter(recipient=applicant, template="case.accepted").exists()

    # when the reviewer asks for a supplement
    case = cases.request_supplement(open_task(case, "review"), actor=police_reviewer,
                                    items=["居住证明（加盖公章）"], reason="证明未盖章")
    # then the case waits for the applicant and the clock stops
    assert case.status == Case.Status.SUPPLEMENT
    assert case.deadline_at is None
    assert case.supplement_items == ["居住证明（加盖公章）"]
    assert open_task(case, "supplement").lane == CaseTask.APPLICANT

    # when the applicant supplements
    case = cases.supplement_application(case, actor=applicant,
                                        uploads={RESIDENCE_MATERIAL: pdf_upload("盖章证明.pdf")})
    # then it is back under review, the earlier upload superseded, the deadline resumed (not earlier)
    assert case.status == Case.Status.IN_PROGRESS
    assert case.deadline_at >= deadline
    uploads = case.materials.filter(source=CaseMaterial.Source.UPLOAD)
    assert uploads.filter(superseded_at__isnull=True).get().filename == "盖章证明.pdf"
    assert uploads.filter(superseded_at__isnull=False).count() == 1

    # and a second supplement request is refused by the process
    with pytest.raises(Conflict):
        cases.request_supplement(open_task(case, "review"), actor=police_reviewer, items=["x"], reason="y")

    # when the reviewer approves
    case = cases.decide_application(open_task(case, "review"), actor=police_reviewer, approve=True)
    # then
    assert case.status == Case.Status.APPROVED
    assert case.completed_at is not None
    assert not case.tasks.filter(completed_at__isnull=True).exists()
    assert case.decided_by == ""  # people decided, not rules
    assert timeline(case) == ["submitted", "material_obtained", "accepted", "supplement_requested",
                              "supplemented", "reviewed", "approved"]
    assert Notice.objects.filter(recipient=applicant, template="case.approved").exists()


def test_a_case_can_be_refused_acceptance_with_a_reason(applicant, police_window):
    case = apply_for_residence(applicant)
    with pytest.raises(InvalidInput):
        cases.refuse_to_accept(open_task(case, "accept"), actor=police_window, reason=" ")
    case = cases.refuse_to_accept(open_task(case, "accept"), actor=police_window, reason="不属于本部门受理范围")
    assert (case.status, case.reason) == (Case.Status.NOT_ACCEPTED, "不属于本部门受理范围")
    assert Notice.objects.filter(recipient=applicant, template="case.not_accepted").exists()


def test_a_rejection_needs_a_reason_and_tells_the_applicant(applicant, police_window, police_reviewer):
    case = cases.accept_application(open_task(apply_for_residence(applicant), "accept"), actor=police_window)
    with pytest.raises(InvalidInput):
        cases.decide_application(open_task(case, "review"), actor=police_reviewer, approve=False)
    case = cases.decide_application(open_task(case, "review"), actor=police_reviewer, approve=False,
                                    reason="居住时间不满半年")
    assert (case.status, case.outcome) == (Case.Status.REJECTED, "rejected")
    assert Notice.objects.filter(recipient=applicant, template="case.rejected").exists()


def test_an_application_is_withdrawn_before_acceptance_but_not_after(applicant, police_window, other_citizen):
    first = apply_for_residence(applicant, key="w-1")
    with pytest.raises(NotFound):
        cases.withdraw_application(first, actor=other_citizen)
    first = cases.withdraw_application(first, actor=applicant)
    assert first.status == Case.Status.WITHDRAWN
    assert not first.tasks.filter(completed_at__isnull=True).exists()

    second = apply_for_residence(applicant, key="w-2")
    cases.accept_application(open_task(second, "accept"), actor=police_window)
    with pytest.raises(Conflict):
        cases.withdraw_application(second, actor=applicant)


# -- who may act on a task -----------------------------------------------------------------------------


def test_only_an_officer_of_the_department_in_the_task_s_role_may_act(applicant, police_reviewer, ningbo_reviewer,
                                                                       police_window, other_citizen):
    case = apply_for_residence(applicant)
    task = open_task(case, "accept")
    for outsider in (police_reviewer, ningbo_reviewer, other_citizen, applicant):
        with pytest.raises(PermissionDenied):
            cases.accept_application(task, actor=outsider)
    assert Case.objects.get(pk=case.pk).status == Case.Status.SUBMITTED


def test_a_claimed_task_is_another_officer_s_until_released(applicant, police_window, handling):
    from tests.cases.conftest import new_officer

    colleague = new_officer(handling, "police-window-2", kind="public_security", roles=["window_officer"])
    case = apply_for_residence(applicant)
    task = cases.claim_task(open_task(case, "accept"), actor=police_window)
    assert task.claimed_by == police_window
    with pytest.raises(Conflict):
        cases.accept_application(task, actor=colleague)
    cases.release_task(task, actor=police_window)
    case = cases.accept_application(open_task(case, "accept"), actor=colleague)
    assert case.status == Case.Status.IN_PROGRESS


def test_an_action_that_does_not_fit_the_task_is_refused(applicant, police_window):
    case = apply_for_residence(applicant)
    with pytest.raises(Conflict):
        cases.request_supplement(open_task(case, "accept"), actor=police_window, items=["x"], reason="y")


def test_the_applicant_cannot_supplement_a_case_that_waits_for_no_supplement(applicant):
    case = apply_for_residence(applicant)
    with pytest.raises(Conflict):
        cases.supplement_application(case, actor=applicant, uploads={RESIDENCE_MATERIAL: pdf_upload()})


def test_uploaded_files_are_stored_privately_with_their_checks(applicant):
    case = apply_for_residence(applicant)
    upload = case.materials.get(source=CaseMaterial.Source.UPLOAD)
    assert upload.content_type == "application/pdf"
    assert len(upload.sha256) == 64
    assert material_storage().exists(upload.file.name)
    assert upload.file.name.startswith(case.number)
    assert case.submitted_at <= timezone.now()


def test_the_form_is_encrypted_at_rest(applicant):
    from django.db import connection

    case = apply_for_residence(applicant)
    with connection.cursor() as cursor:
        cursor.execute("SELECT form_data FROM cases_case WHERE id = %s", [case.pk])
        stored = cursor.fetchone()[0]
    assert applicant.person.name not in stored
    assert json.loads(Case.objects.get(pk=case.pk).form_data) == _residence_form(applicant)
    assert CaseEvent.objects.filter(case=case).exists()


# -- countersign by two departments (会签), across restarts --------------------------------------------


@pytest.fixture
def joint_item(handling):
    """A transfer item of natural resources handled jointly with tax (a sale contract is the only material)."""
    from tests.cases.conftest import item_definition
    from tongban.kernel.actors import SystemActor
    from tongban.services import services as catalog_items

    definition = item_definition("330100-E-QR-0001")
    definition.update(code="330100-E-QR-9001", name="不动产转移登记（测试）", result={"kind": "none"})
    definition["materials"] = [{"name": "不动产买卖合同", "name_en": "Sale contract", "required": True,
                                "source": {"kind": "upload", "accepted_types": ["pdf"], "max_size_mb": 10}}]
    platform = SystemActor("tests")
    created = catalog_items.create_item(actor=platform, definition=definition)
    return catalog_items.publish_item(created, actor=platform)


def test_a_joint_item_is_countersigned_by_both_departments_then_decided_even_across_restarts(
        applicant, joint_item, handling):
    from tests.cases.conftest import new_officer
    from tongban.cases import processes

    nr_window = new_officer(handling, "nr-window", kind="natural_resources", roles=["window_officer"])
    nr_reviewer = new_officer(handling, "nr-reviewer", kind="natural_resources", roles=["reviewer"])
    tax_reviewer = new_officer(handling, "tax-reviewer", kind="tax", roles=["reviewer"])
    case = cases.submit_application(joint_item, actor=applicant, idempotency_key="j-1",
                                    form={"location_code": "330106001001GB00001F0001", "price": 1200000,
                                          "buyer_share": "100%"},
                                    uploads={"不动产买卖合同": pdf_upload("合同.pdf")})

    def restart():  # a fresh process has no loaded definitions: it reads them back from the snapshot
        processes._load.cache_clear()
        return Case.objects.get(pk=case.pk)

    case = cases.accept_application(open_task(restart(), "accept"), actor=nr_window)
    case = cases.decide_application(open_task(restart(), "review"), actor=nr_reviewer, approve=True)
    # the review passes to the countersigns, one per department
    case = restart()
    signing = {task.element_id: task.department.kind for task in case.tasks.filter(completed_at__isnull=True)}
    assert signing == {"countersign_natural_resources": "natural_resources", "countersign_tax": "tax"}
    # the tax reviewer may sign only the tax countersign
    with pytest.raises(PermissionDenied):
        cases.countersign(open_task(case, "countersign_natural_resources"), actor=tax_reviewer, agreed=True)
    cases.countersign(open_task(case, "countersign_tax"), actor=tax_reviewer, agreed=True)
    case = cases.countersign(open_task(restart(), "countersign_natural_resources"), actor=nr_reviewer, agreed=True)
    assert case.status == Case.Status.IN_PROGRESS
    case = cases.decide_application(open_task(restart(), "decide"), actor=nr_reviewer, approve=True)
    assert case.status == Case.Status.APPROVED
    assert timeline(case).count("countersigned") == 2


def test_one_department_refusing_its_countersign_rejects_the_case(applicant, joint_item, handling):
    from tests.cases.conftest import new_officer

    nr_window = new_officer(handling, "nr-window", kind="natural_resources", roles=["window_officer"])
    nr_reviewer = new_officer(handling, "nr-reviewer", kind="natural_resources", roles=["reviewer"])
    tax_reviewer = new_officer(handling, "tax-reviewer", kind="tax", roles=["reviewer"])
    case = cases.submit_application(joint_item, actor=applicant, idempotency_key="j-2",
                                    form={"location_code": "330106001001GB00001F0001", "price": 1,
                                          "buyer_share": "100%"},
                                    uploads={"不动产买卖合同": pdf_upload("合同.pdf")})
    cases.accept_application(open_task(case, "accept"), actor=nr_window)
    cases.decide_application(open_task(case, "review"), actor=nr_reviewer, approve=True)
    with pytest.raises(InvalidInput):
        cases.countersign(open_task(case, "countersign_tax"), actor=tax_reviewer, agreed=False)
    case = cases.countersign(open_task(case, "countersign_tax"), actor=tax_reviewer, agreed=False,
                             opinion="契税未缴清")
    cases.countersign(open_task(case, "countersign_natural_resources"), actor=nr_reviewer, agreed=True)
    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.reason) == (Case.Status.REJECTED, "契税未缴清")


# -- reads scoped by the actor ---------------------------------------------------------------------------


def test_applicants_see_their_own_cases_and_officers_their_departments_queues(
        applicant, other_citizen, police_window, police_reviewer, ningbo_reviewer):
    from tongban.cases import selectors

    case = apply_for_residence(applicant)
    # the applicant sees it, another citizen does not
    assert list(selectors.cases_of_applicant(applicant)) == [case]
    assert not selectors.cases_of_applicant(other_citizen).exists()
    with pytest.raises(NotFound):
        selectors.applicant_case(other_citizen, case.number)
    # the window officer has it to accept; the reviewer has nothing yet; Ningbo sees nothing
    assert [task.case for task in selectors.task_queue(police_window, queue="accept")] == [case]
    assert not selectors.task_queue(police_reviewer).exists()
    assert not selectors.task_queue(ningbo_reviewer).exists()
    assert selectors.officer_case(police_reviewer, case.number) == case
    with pytest.raises(NotFound):
        selectors.officer_case(ningbo_reviewer, case.number)
    with pytest.raises(NotFound):
        selectors.officer_case(applicant, case.number)
    assert selectors.time_limit_state(case) == "none"
    # once accepted, the reviewer has the review and the time limit runs
    case = cases.accept_application(open_task(case, "accept"), actor=police_window)
    assert [task.element_id for task in selectors.task_queue(police_reviewer, queue="review")] == ["review"]
    assert selectors.time_limit_state(case) in ("on_time", "approaching")
    assert selectors.time_limit_state(case, now=case.deadline_at + timedelta(seconds=1)) == "overdue"


# -- the API ---------------------------------------------------------------------------------------------


def _api_client(account):
    from django.test import Client

    client = Client()
    client.force_login(account)
    return client


def test_a_citizen_applies_through_the_api_and_a_retry_returns_the_same_case(applicant):
    # given
    client = _api_client(applicant)
    from django.core.files.uploadedfile import SimpleUploadedFile

    articles = pdf_upload("章程.pdf").file.read()
    payload = {"item": BUSINESS_REGISTRATION, "form": json.dumps(business_form(applicant)),
               "material-公司章程": SimpleUploadedFile("章程.pdf", articles, content_type="application/pdf")}
    # when
    created = client.post("/api/v1/cases", payload, HTTP_IDEMPOTENCY_KEY="api-1")
    payload["material-公司章程"] = SimpleUploadedFile("章程.pdf", articles, content_type="application/pdf")
    retried = client.post("/api/v1/cases", payload, HTTP_IDEMPOTENCY_KEY="api-1")
    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["item"]) == ("approved", BUSINESS_REGISTRATION)
    assert body["result_licence_id"]
    assert body["timeline"][0]["kind"] == "submitted"
    assert retried.status_code == 200
    assert retried.json()["number"] == body["number"]
    assert Case.objects.count() == 1
    assert client.get(f"/api/v1/cases/{body['number']}").json()["number"] == body["number"]
    assert [case["number"] for case in client.get("/api/v1/cases").json()] == [body["number"]]


def test_the_api_refuses_bad_input_outsiders_and_anonymous_callers(applicant, other_citizen):
    from django.test import Client

    client = _api_client(applicant)
    bad = client.post("/api/v1/cases", {"item": BUSINESS_REGISTRATION, "form": "not json"},
                      HTTP_IDEMPOTENCY_KEY="api-2")
    assert bad.status_code == 422
    assert bad["Content-Type"] == "application/problem+json"
    missing = client.post("/api/v1/cases", {"item": BUSINESS_REGISTRATION, "form": json.dumps(business_form(applicant))},
                          HTTP_IDEMPOTENCY_KEY="api-3")
    assert (missing.status_code, missing.json()["field"].startswith("materials.")) == (422, True)
    assert not Case.objects.exists()
    anonymous = Client().post("/api/v1/cases", {"item": BUSINESS_REGISTRATION, "form": "{}"},
                              HTTP_IDEMPOTENCY_KEY="api-4")
    assert anonymous.status_code == 401
    case = apply_for_residence(applicant)
    assert _api_client(other_citizen).get(f"/api/v1/cases/{case.number}").status_code == 404
    assert _api_client(other_citizen).post(f"/api/v1/cases/{case.number}/withdraw").status_code == 404
    withdrawn = client.post(f"/api/v1/cases/{case.number}/withdraw")
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")
