"""ES256 as an option: a seal whose credential key is ECDSA P-256 issues licences that verify like EdDSA ones."""

from __future__ import annotations

import base64
import json

import pytest
from django.utils import translation

from tests.catalog.fixtures import make_entity, make_officer, make_person
from tests.credentials.conftest import PLATFORM
from tests.credentials.test_issue_and_verify import business_fields, published
from tongban.credentials import sdjwt
from tongban.credentials import services as credentials
from tongban.credentials.models import Seal, SealKey
from tongban.credentials.verify import status_from_lists, verify_credential
from tongban.identity.models import Role
from tongban.kernel.models import Department
from tongban.kernel.problems import InvalidInput

pytestmark = pytest.mark.django_db


def header(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))


@pytest.fixture
def es256_market(org, sealed):
    market = org.department("330100", Department.Kind.MARKET_REGULATION)
    credentials.create_seal(market, actor=PLATFORM, credential_algorithm="ES256")
    return market


def test_an_es256_seal_issues_licences_that_verify_offline(org, es256_market):
    # given a market regulator whose seal signs credentials with ES256
    reviewer = make_officer(org, "market-reviewer", kind=Department.Kind.MARKET_REGULATION, roles=[Role.REVIEWER])
    entity = make_entity(make_person())

    # when it issues a business licence
    licence = credentials.issue_licence(actor=reviewer, licence_type="business-licence", holder=entity,
                                        fields=business_fields(entity), issuer=es256_market)

    # then both formats are ES256 and verify against the published keys, status included
    assert header(licence.credential)["alg"] == "ES256" and header(licence.sd_jwt)["alg"] == "ES256"
    keys = published()
    assert verify_credential(licence.credential, **keys).outcome == "valid"
    assert sdjwt.verify(sdjwt.present(licence.sd_jwt, ["address"]), **keys).outcome == "valid"
    credentials.revoke_licence(licence, actor=reviewer, reason="Deregistered")

    def fetch(url: str) -> str:
        issuer_uscc, _, purpose = url.split("/status/")[1].partition("/")
        return credentials.status_list_credential(issuer_uscc, purpose)

    keys = published()
    assert verify_credential(licence.credential, status_of=status_from_lists(fetch, **keys), **keys).outcome == "revoked"


def test_rotation_keeps_the_seals_algorithm_unless_told(es256_market):
    seal = Seal.objects.get(department=es256_market)

    kept = credentials.rotate_seal_keys(seal, actor=PLATFORM, reason="Yearly rotation")
    changed = credentials.rotate_seal_keys(seal, actor=PLATFORM, reason="Back to EdDSA", credential_algorithm="Ed25519")

    assert {key.use: key.algorithm for key in kept} == {"pdf": "ES256", "jwt": "ES256"}
    assert {key.use: key.algorithm for key in changed} == {"pdf": "ES256", "jwt": "Ed25519"}


def test_another_algorithm_is_refused_and_no_seal_is_made(org, sealed):
    tax = org.department("330100", Department.Kind.TAX)

    with translation.override("en"), pytest.raises(InvalidInput, match="Ed25519 or ES256"):
        credentials.create_seal(tax, actor=PLATFORM, credential_algorithm="RS256")

    assert not SealKey.objects.filter(seal__department=tax).exists()
