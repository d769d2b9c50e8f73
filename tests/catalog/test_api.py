"""The catalog API: browse, request, decide, list and revoke, each side seeing its own."""

from __future__ import annotations

import json

from django.test import Client

from tests.catalog.fixtures import LEGAL_BASIS, PURPOSE, bearer, in_days, token_for
from tongban.catalog.models import AccessRequest, Grant

API = "/api/v1/catalog"


def signed_in(account) -> Client:
    browser = Client()
    browser.force_login(account)
    return browser


def post(browser: Client, path: str, payload: dict):
    return browser.post(f"{API}{path}", json.dumps(payload, default=str), content_type="application/json")


def test_a_request_made_approved_and_revoked_through_the_api(tax_data, police_data, tax_client):
    # given the tax data officer requests two person fields for the tax system
    created = post(signed_in(tax_data), "/requests", {
        "resource": "hz-persons", "fields": ["name", "birth_date"], "purpose": PURPOSE,
        "legal_basis": LEGAL_BASIS, "valid_until": in_days(30).isoformat(), "system_id": tax_client.system.pk,
    })
    assert created.status_code == 201, created.content
    request_id = created.json()["id"]

    # when the owner lists its requests and approves with masking
    owner = signed_in(police_data)
    assert [r["id"] for r in owner.get(f"{API}/requests").json()["items"]] == [request_id]
    approved = post(owner, f"/requests/{request_id}/approve", {"masking": {"name": "name"}})

    # then both sides see the grant, and the owner can revoke it
    assert approved.status_code == 201, approved.content
    grant_id = approved.json()["id"]
    assert [g["id"] for g in signed_in(tax_data).get(f"{API}/grants").json()["items"]] == [grant_id]
    revoked = post(owner, f"/grants/{grant_id}/revoke", {"reason": "Case closed"})
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]


def test_the_requester_cannot_approve_its_own_request_through_the_api(tax_data, tax_client):
    created = post(signed_in(tax_data), "/requests", {
        "resource": "hz-persons", "fields": ["name"], "purpose": PURPOSE, "legal_basis": LEGAL_BASIS,
        "valid_until": in_days(3).isoformat(), "system_id": tax_client.system.pk,
    })

    response = post(signed_in(tax_data), f"/requests/{created.json()['id']}/approve", {})

    assert response.status_code == 403 and response["Content-Type"] == "application/problem+json"
    assert not Grant.objects.exists()


def test_another_department_sees_no_request_and_cannot_decide_it(tax_grant, ningbo_data):
    outsider = signed_in(ningbo_data)

    assert outsider.get(f"{API}/requests").json()["items"] == []
    assert outsider.get(f"{API}/grants").json()["items"] == []
    refused = post(outsider, f"/requests/{tax_grant.request_id}/refuse", {"reason": "no"})
    assert refused.status_code == 404
    assert post(outsider, f"/grants/{tax_grant.pk}/revoke", {"reason": "no"}).status_code == 404


def test_officers_and_systems_browse_the_catalog_with_fields(ningbo_data, tax_client, resources):
    listed = signed_in(ningbo_data).get(f"{API}/resources", {"q": "法人"}).json()["items"]
    assert [r["code"] for r in listed] == ["hz-legal-entities"]

    detail = Client().get(f"{API}/resources/hz-persons", **bearer(token_for(tax_client))).json()
    fields = {f["name"]: f for f in detail["fields"]}
    assert fields["id_number"]["sensitive_personal"] and detail["sharing_type"] == "conditional"


def test_a_citizen_sees_no_catalog_and_an_anonymous_caller_is_refused(citizen, resources):
    assert signed_in(citizen).get(f"{API}/resources").json()["items"] == []
    assert signed_in(citizen).get(f"{API}/resources/hz-persons").status_code == 404
    assert Client().get(f"{API}/resources").status_code == 401
    assert not AccessRequest.objects.exists()
