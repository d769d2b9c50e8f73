"""The exchange gateway: only granted fields, masked as granted, every call logged."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from tests.catalog.fixtures import PURPOSE, bearer, make_entity, request_persons, token_for
from tongban.catalog import services as catalog
from tongban.exchange import selectors
from tongban.exchange.models import CallLogRecord
from tongban.kernel.masking import mask_name

GATEWAY = "/exchange/v1"


def call(token: str | None, resource: str, key: str, *, fields="id_number,name,birth_date", purpose=PURPOSE,
         case_id="CASE-2026-0001", **headers):
    params = {name: value for name, value in (("fields", fields), ("purpose", purpose), ("case_id", case_id))
              if value is not None}
    auth = bearer(token) if token else {}
    return Client().get(f"{GATEWAY}/{resource}/{key}", params, **auth, **headers)


def problem(response) -> dict:
    assert response["Content-Type"] == "application/problem+json"
    body: dict = json.loads(response.content)
    return body


def last_call() -> CallLogRecord:
    entry = CallLogRecord.objects.order_by("-id").first()
    assert entry is not None
    return entry


def test_a_granted_call_returns_only_the_granted_fields_masked_as_granted(tax_grant, tax_client, person):
    # given a grant of id_number, name and birth_date with names masked
    token = token_for(tax_client)

    # when the tax system asks for two of them
    response = call(token, "hz-persons", person.id_number, fields="name,birth_date")

    # then it gets exactly those, the name masked, and the call is logged with the subject
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["data"] == {"name": mask_name(person.name), "birth_date": person.birth_date.isoformat()}
    assert body["masked"] == ["name"] and body["grant"] == tax_grant.pk
    entry = last_call()
    assert entry.pk == body["call"] and entry.outcome == "ok"
    assert entry.person_id == person.pk and entry.fields_returned == ["name", "birth_date"]
    assert entry.case_id == "CASE-2026-0001" and entry.purpose == PURPOSE
    assert entry.client_id == tax_client.client_id and entry.department_id == tax_client.system.department_id
    assert person.id_number not in json.dumps(entry.__dict__, default=str)
    assert entry.request_digest and entry.response_digest


def test_purpose_and_case_may_come_as_headers(tax_grant, tax_client, person):
    response = call(token_for(tax_client), "hz-persons", person.id_number, fields="id_number", purpose=None,
                    case_id=None, HTTP_X_TONGBAN_PURPOSE=PURPOSE, HTTP_X_TONGBAN_CASE="CASE-7")

    assert response.status_code == 200
    assert response.json()["data"] == {"id_number": person.id_number}
    assert last_call().case_id == "CASE-7"


def test_an_unconditional_resource_is_served_after_the_automatic_grant(tax_data, tax_client, entities_resource,
                                                                       person):
    entity = make_entity(person)
    catalog.request_access(actor=tax_data, resource=entities_resource, fields=["uscc", "name", "status"],
                           purpose=PURPOSE, legal_basis="law", valid_until=timezone.now() + timezone.timedelta(days=1),
                           system=tax_client.system)

    response = call(token_for(tax_client), "hz-legal-entities", entity.uscc, fields="name,status")

    assert response.status_code == 200
    assert response.json()["data"] == {"name": entity.name, "status": "active"}
    assert list(selectors.calls_about_entity(entity.pk)) == [last_call()]


@pytest.mark.parametrize(
    ("resource", "fields", "status", "reason"),
    [
        ("hz-nothing", "name", 404, "unknown_resource"),
        ("hz-persons", "name,salary", 422, "unknown_field"),
        ("hz-persons", "sex", 403, "fields_not_granted"),
        ("hz-persons", "", 422, "missing_parameter"),
    ],
)
def test_bad_input_is_a_problem_with_no_data_and_a_log_record(tax_grant, tax_client, person, resource, fields,
                                                              status, reason):
    response = call(token_for(tax_client), resource, person.id_number, fields=fields)

    assert response.status_code == status
    body = problem(response)
    assert body["reason"] == reason and "data" not in body
    entry = last_call()
    assert entry.pk == body["call"] and entry.outcome == "refused" and entry.reason == reason
    assert entry.fields_returned == [] and entry.person_id is None


def test_a_malformed_key_is_refused_and_logged(tax_grant, tax_client):
    response = call(token_for(tax_client), "hz-persons", "110101199003071235")

    assert response.status_code == 422 and problem(response)["reason"] == "malformed_key"
    assert last_call().reason == "malformed_key"


def test_a_subject_not_in_the_registry_is_not_found(tax_grant, tax_client, person):
    from tests.catalog.fixtures import make_id_number

    response = call(token_for(tax_client), "hz-persons", make_id_number("330106", person.birth_date, 997))

    assert response.status_code == 404 and problem(response)["reason"] == "subject_not_found"


def test_a_system_without_a_grant_is_refused(ningbo_client, tax_grant, person):
    response = call(token_for(ningbo_client), "hz-persons", person.id_number)

    assert response.status_code == 403 and problem(response)["reason"] == "no_grant"
    assert last_call().department_id == ningbo_client.system.department_id
    assert not selectors.calls_about_person(person.pk).exists()


def test_the_wrong_purpose_is_refused(tax_grant, tax_client, person):
    response = call(token_for(tax_client), "hz-persons", person.id_number, purpose="Marketing")

    assert response.status_code == 403 and problem(response)["reason"] == "purpose_not_granted"


def test_a_revoked_grant_is_refused_on_the_next_call_and_logged(tax_grant, tax_client, police_data, person):
    token = token_for(tax_client)
    assert call(token, "hz-persons", person.id_number).status_code == 200

    catalog.revoke_grant(tax_grant, actor=police_data, reason="Case closed")
    response = call(token, "hz-persons", person.id_number)

    assert response.status_code == 403 and problem(response)["reason"] == "revoked"
    assert last_call().outcome == "refused" and last_call().grant_id is None


def test_an_expired_grant_is_refused_and_logged(tax_data, police_data, tax_client, person):
    grant = catalog.approve_request(request_persons(tax_data, tax_client.system, days=0.0001), actor=police_data)
    token = token_for(tax_client)
    # Move the grant's end into the past, as time would.
    type(grant).objects.filter(pk=grant.pk).update(valid_until=timezone.now(), valid_from=timezone.now()
                                                   - timezone.timedelta(days=1))

    response = call(token, "hz-persons", person.id_number)

    assert response.status_code == 403 and problem(response)["reason"] == "expired"
    assert last_call().reason == "expired"


@pytest.mark.parametrize("headers", [{}, {"HTTP_AUTHORIZATION": "Bearer garbage-token"}],
                         ids=["no-token", "garbage-token"])
def test_an_outsider_without_a_token_gets_401(tax_grant, person, headers):
    response = Client().get(f"{GATEWAY}/hz-persons/{person.id_number}",
                            {"fields": "name", "purpose": PURPOSE, "case_id": "C"}, **headers)

    assert response.status_code == 401 and problem(response)["status"] == 401


def test_a_signed_in_citizen_cannot_call_the_gateway(tax_grant, citizen, person):
    browser = Client()
    browser.force_login(citizen)

    response = browser.get(f"{GATEWAY}/hz-persons/{person.id_number}",
                           {"fields": "name", "purpose": PURPOSE, "case_id": "C"})

    assert response.status_code == 401
    assert not CallLogRecord.objects.filter(outcome="ok").exists()


def test_past_the_rate_limit_the_gateway_answers_429_with_retry_after(settings, tax_grant, tax_client, person):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "exchange_call": (2, 60)}
    token = token_for(tax_client)

    answers = [call(token, "hz-persons", person.id_number) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2]["Retry-After"]) >= 1
    assert problem(answers[2])["reason"] == "rate_limited"
    assert last_call().reason == "rate_limited"


def test_who_used_my_data_shows_only_calls_about_me(tax_grant, tax_client, person):
    from tests.catalog.fixtures import make_person

    other = make_person(name="李四")
    token = token_for(tax_client)
    call(token, "hz-persons", person.id_number, case_id="MINE")
    call(token, "hz-persons", other.id_number, case_id="THEIRS")

    mine = list(selectors.calls_about_person(person.pk))

    assert [entry.case_id for entry in mine] == ["MINE"]
    assert mine[0].department.name and mine[0].fields_returned == ["id_number", "name", "birth_date"]


def test_owners_and_requesters_see_calls_per_grant_per_day_and_refused_calls(
    tax_grant, tax_client, person, tax_data, police_data, ningbo_data, citizen
):
    token = token_for(tax_client)
    call(token, "hz-persons", person.id_number)
    call(token, "hz-persons", person.id_number, fields="sex")

    for side in (tax_data, police_data):
        rows = selectors.calls_per_grant_per_day(actor=side)
        assert [(row["grant_id"], row["ok"]) for row in rows] == [(tax_grant.pk, 1)]
        assert [entry.reason for entry in selectors.refused_calls(actor=side)] == ["fields_not_granted"]
    for outsider in (ningbo_data, citizen):
        assert selectors.calls_per_grant_per_day(actor=outsider) == []
        assert not selectors.refused_calls(actor=outsider).exists()


def test_the_gateway_describes_itself_in_its_own_openapi_document(client):
    schema = client.get("/exchange/v1/openapi.json").json()

    assert "/exchange/v1/{resource_code}/{key}" in schema["paths"]


def test_an_id_number_granted_masked_comes_back_masked(tax_data, police_data, tax_client, person):
    from tongban.kernel.masking import mask_id_number

    catalog.approve_request(request_persons(tax_data, tax_client.system, fields=["id_number", "status"]),
                            actor=police_data, masking={"id_number": "id_number"})

    response = call(token_for(tax_client), "hz-persons", person.id_number, fields="id_number,status")

    assert response.json()["data"] == {"id_number": mask_id_number(person.id_number), "status": "living"}
