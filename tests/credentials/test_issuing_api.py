"""Issuing departments' systems issue licences and change their status through the API."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.catalog.fixtures import bearer, make_entity, make_person, token_for
from tests.credentials.test_issue_and_verify import business_fields, published
from tests.identity.oidc_helpers import machine_client
from tongban.credentials.models import Licence
from tongban.credentials.verify import verify_credential
from tongban.kernel.models import AuditRecord, Department

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(sealed):
    return sealed(Department.Kind.MARKET_REGULATION)


@pytest.fixture
def market_token(market):
    return token_for(machine_client(market, name="Market registration system"))


@pytest.fixture
def tax_token(org, sealed):
    return token_for(machine_client(org.department("330100", Department.Kind.TAX), name="Tax system"))


def post(path: str, body: dict, token: str | None):
    headers = bearer(token) if token else {}
    return Client().post(path, json.dumps(body), content_type="application/json", **headers)


def issue_body(entity, **changes) -> dict:
    body = {"licence_type": "business-licence", "holder": entity.uscc, "fields": business_fields(entity),
            "reference": "SL-2026-0001"}
    body.update(changes)
    return body


def test_a_department_system_issues_a_licence_that_verifies(market, market_token):
    # given a company in the registry
    entity = make_entity(make_person())

    # when the market regulator's system issues its business licence
    response = post("/api/v1/credentials/licences", issue_body(entity), market_token)

    # then it gets the signed licence back, issued by its department, and the licence verifies
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["issuer"] == market.uscc and body["status"] == "valid" and body["reference"] == "SL-2026-0001"
    licence = Licence.objects.get(pk=body["id"])
    assert licence.holder_entity == entity
    assert verify_credential(body["credential"], **published()).outcome == "valid"
    assert body["sd_jwt"].endswith("~")
    assert AuditRecord.objects.filter(action="credentials.licence.issued", target=f"licence:{licence.id}").exists()


def test_it_revokes_suspends_and_reinstates_its_own_licences(market, market_token):
    entity = make_entity(make_person())
    licence_id = post("/api/v1/credentials/licences", issue_body(entity), market_token).json()["id"]

    suspended = post(f"/api/v1/credentials/licences/{licence_id}/suspend", {"reason": "Inspection"}, market_token)
    reinstated = post(f"/api/v1/credentials/licences/{licence_id}/reinstate", {"reason": "Passed"}, market_token)
    revoked = post(f"/api/v1/credentials/licences/{licence_id}/revoke", {"reason": "Deregistered"}, market_token)
    again = post(f"/api/v1/credentials/licences/{licence_id}/reinstate", {"reason": "Oops"}, market_token)

    assert [r.json()["status"] for r in (suspended, reinstated, revoked)] == ["suspended", "valid", "revoked"]
    assert again.status_code == 409 and again["Content-Type"] == "application/problem+json"
    fetched = Client().get(f"/api/v1/credentials/licences/{licence_id}", **bearer(market_token))
    assert fetched.status_code == 200 and fetched.json()["status"] == "revoked"


def test_outsiders_cannot_issue_or_touch_another_departments_licences(market, market_token, tax_token):
    entity = make_entity(make_person())
    before = Licence.objects.count()

    # another department's system may not issue for the market regulator, nor in its own name
    foreign = post("/api/v1/credentials/licences", issue_body(entity, issuer=market.uscc), tax_token)
    own_name = post("/api/v1/credentials/licences", issue_body(entity), tax_token)
    anonymous = post("/api/v1/credentials/licences", issue_body(entity), None)
    assert (foreign.status_code, own_name.status_code, anonymous.status_code) == (403, 422, 401)
    assert Licence.objects.count() == before

    # and it cannot see or revoke the market regulator's licence: to it, there is no such licence
    licence_id = post("/api/v1/credentials/licences", issue_body(entity), market_token).json()["id"]
    seen = Client().get(f"/api/v1/credentials/licences/{licence_id}", **bearer(tax_token))
    revoke = post(f"/api/v1/credentials/licences/{licence_id}/revoke", {"reason": "x"}, tax_token)
    assert (seen.status_code, revoke.status_code) == (404, 404)
    assert Licence.objects.get(pk=licence_id).status == "valid"


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"licence_type": "no-such-type"}, 422, "licence_type"),
        ({"holder": "91330106MA00000000"}, 422, "holder"),
        ({"fields": {"name": "缺字段"}}, 422, "fields"),
        ({"issuer": "NOT-A-USCC"}, 422, "issuer"),
    ],
)
def test_bad_input_is_a_problem_and_issues_nothing(market, market_token, changes, status, field):
    entity = make_entity(make_person())
    before = Licence.objects.count()

    response = post("/api/v1/credentials/licences", issue_body(entity, **changes), market_token)

    assert response.status_code == status and response["Content-Type"] == "application/problem+json"
    assert response.json()["field"] == field
    assert Licence.objects.count() == before


def test_a_reference_is_issued_once(market, market_token):
    entity = make_entity(make_person())
    first = post("/api/v1/credentials/licences", issue_body(entity), market_token)
    second = post("/api/v1/credentials/licences", issue_body(entity), market_token)

    assert first.status_code == 201 and second.status_code == 409
    assert Licence.objects.filter(reference="SL-2026-0001").count() == 1
