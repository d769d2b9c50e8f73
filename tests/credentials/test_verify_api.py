"""Relying parties verify a licence credential through the public verification API."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.catalog.fixtures import make_entity, make_officer, make_person
from tests.credentials.test_issue_and_verify import business_fields
from tongban.credentials import services as credentials
from tongban.identity.models import Role
from tongban.kernel.models import Department

pytestmark = pytest.mark.django_db

VERIFY = "/api/v1/credentials/verify"


@pytest.fixture
def licence(sealed, org):
    market = sealed(Department.Kind.MARKET_REGULATION)
    reviewer = make_officer(org, "market-reviewer", kind=Department.Kind.MARKET_REGULATION, roles=[Role.REVIEWER])
    entity = make_entity(make_person())
    issued = credentials.issue_licence(actor=reviewer, licence_type="business-licence", holder=entity,
                                       fields=business_fields(entity), issuer=market)
    return issued, reviewer


def post(credential) -> dict:
    response = Client().post(VERIFY, {"credential": credential}, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_genuine_licence_is_valid_with_its_issuer_and_subject(licence):
    issued, _reviewer = licence
    answer = post(issued.credential)
    assert answer["outcome"] == "valid" and answer["issuer"] == issued.issuer.name
    assert answer["licence_type"] == "business-licence" and answer["subject"]["name"] == "杭州云帆科技有限公司"
    assert answer["valid_until"] is None


def test_a_revoked_licence_says_so(licence):
    issued, reviewer = licence
    credentials.revoke_licence(issued, actor=reviewer, reason="Deregistered")
    assert post(issued.credential)["outcome"] == "revoked"


def test_a_tampered_or_meaningless_credential_is_forged_and_reveals_nothing(licence):
    issued, _reviewer = licence
    header, payload, signature = issued.credential.split(".")
    # One character in the middle of the signature (the last ones partly carry padding bits).
    flipped = signature[:20] + ("B" if signature[20] != "B" else "C") + signature[21:]
    tampered = post(f"{header}.{payload}.{flipped}")
    assert tampered["outcome"] == "forged" and tampered["subject"] is None
    assert post("not a credential")["outcome"] == "forged"


def test_a_request_without_a_credential_is_a_problem():
    response = Client().post(VERIFY, {}, content_type="application/json")
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"


def test_a_client_that_verifies_too_often_is_refused_for_a_while(licence, settings):
    issued, _reviewer = licence
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "credential_verify": (2, 60)}
    for _ in range(2):
        post(issued.credential)
    response = Client().post(VERIFY, {"credential": issued.credential}, content_type="application/json")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
