"""Revoking, suspending and reinstating licences, and the published status lists verifiers read."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tests.catalog.fixtures import make_entity, make_officer, make_person
from tests.credentials.test_issue_and_verify import business_fields, published
from tongban.credentials import services as credentials
from tongban.credentials.models import Licence
from tongban.credentials.status import MINIMUM_BITS, bit_at, encode_list
from tongban.credentials.verify import Verifier, status_from_lists, verify_credential
from tongban.identity.models import Role
from tongban.kernel.actors import SystemActor
from tongban.kernel.models import AuditRecord, Department
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied

pytestmark = pytest.mark.django_db

PLATFORM = SystemActor("test")


@pytest.fixture
def market(sealed):
    return sealed(Department.Kind.MARKET_REGULATION)


@pytest.fixture
def reviewer(org, market):
    return make_officer(org, "market-reviewer", kind=Department.Kind.MARKET_REGULATION, roles=[Role.REVIEWER])


def issue(market, reviewer) -> Licence:
    entity = make_entity(make_person())
    return credentials.issue_licence(actor=reviewer, licence_type="business-licence", holder=entity,
                                     fields=business_fields(entity), issuer=market)


def fetch_from_api(url: str) -> str:
    # The verifier fetches the list over HTTP; here through the test client.
    path = url.split("127.0.0.1:8000", 1)[1]
    response = Client().get(path)
    assert response.status_code == 200 and response["Content-Type"] == "application/vc+jwt"
    return response.content.decode()


def verdict_of(licence: Licence) -> str:
    keys = published()
    return verify_credential(licence.credential, status_of=status_from_lists(fetch_from_api, **keys), **keys).outcome


def test_revoking_shows_in_the_status_list_at_once_and_for_good(market, reviewer):
    licence, other = issue(market, reviewer), issue(market, reviewer)
    assert verdict_of(licence) == "valid"
    credentials.revoke_licence(licence, actor=reviewer, reason="Business deregistered")
    assert verdict_of(licence) == "revoked"
    assert verdict_of(other) == "valid"
    with pytest.raises(Conflict):
        credentials.reinstate_licence(licence, actor=reviewer, reason="Changed my mind")
    entry = AuditRecord.objects.get(action="credentials.licence.revoked")
    assert entry.details == {"from": "valid", "to": "revoked", "reason": "Business deregistered"}


def test_suspending_and_reinstating(market, reviewer):
    licence = issue(market, reviewer)
    credentials.suspend_licence(licence, actor=reviewer, reason="Under investigation")
    assert verdict_of(licence) == "suspended"
    credentials.reinstate_licence(licence, actor=reviewer, reason="Investigation closed")
    assert verdict_of(licence) == "valid"
    credentials.suspend_licence(licence, actor=reviewer, reason="Again")
    credentials.revoke_licence(licence, actor=reviewer, reason="Closed for good")
    assert verdict_of(licence) == "revoked"


def test_a_status_change_needs_a_reason_and_the_issuer_and_changes_nothing_otherwise(org, market, reviewer):
    licence = issue(market, reviewer)
    list_before = credentials.status_list_credential(market.uscc, "revocation")
    with pytest.raises(InvalidInput):
        credentials.revoke_licence(licence, actor=reviewer, reason=" ")
    tax_reviewer = make_officer(org, "tax-reviewer", kind=Department.Kind.TAX, roles=[Role.REVIEWER])
    with pytest.raises(PermissionDenied):
        credentials.revoke_licence(licence, actor=tax_reviewer, reason="Not mine to revoke")
    licence.refresh_from_db()
    assert licence.status == "valid"
    assert credentials.status_list_credential(market.uscc, "revocation") == list_before


def test_a_tampered_or_foreign_status_list_leaves_the_status_unknown(market, reviewer):
    licence = issue(market, reviewer)
    keys = published()
    genuine = credentials.status_list_credential(market.uscc, "revocation")
    header, payload, signature = genuine.split(".")
    tampered = f"{header}.{payload[:-4]}AAAA.{signature}"
    verdict = verify_credential(licence.credential, status_of=status_from_lists(lambda url: tampered, **keys),
                                **keys)
    assert verdict.outcome == "status_unknown"
    # a genuine list, but the suspension list served for the revocation entry
    suspension = credentials.status_list_credential(market.uscc, "suspension")
    verdict = verify_credential(licence.credential, status_of=status_from_lists(lambda url: suspension, **keys),
                                **keys)
    assert verdict.outcome == "status_unknown"


def test_a_verifier_that_kept_the_status_lists_reads_each_new_one(market, reviewer):
    # given a relying party's verifier that has read the issuer's lists once
    licence = issue(market, reviewer)
    keys = published()
    served = {purpose: credentials.status_list_credential(market.uscc, purpose)
              for purpose in ("revocation", "suspension")}
    verifier, status_of = Verifier(**keys), status_from_lists(lambda url: served[url.rsplit("/", 1)[1]], **keys)
    assert verifier.verify_credential(licence.credential, status_of=status_of).outcome == "valid"
    # when the issuer suspends the licence and the verifier fetches the new suspension list
    credentials.suspend_licence(licence, actor=reviewer, reason="Under investigation")
    genuine = served["suspension"] = credentials.status_list_credential(market.uscc, "suspension")
    # then it says so
    assert verifier.verify_credential(licence.credential, status_of=status_of).outcome == "suspended"
    # and a tampered list served in its place is not trusted for having been preceded by a genuine one
    header, payload, signature = genuine.split(".")
    served["suspension"] = f"{header}.{payload[:-4]}AAAA.{signature}"
    verdict = verifier.verify_credential(licence.credential, status_of=status_of)
    assert verdict.outcome == "status_unknown" and "suspension" in verdict.reason


def test_anyone_fetches_a_status_list_and_an_unknown_one_is_a_problem(market, reviewer):
    issue(market, reviewer)
    response = Client().get(f"/api/v1/credentials/status/{market.uscc}/revocation")
    assert response.status_code == 200 and "max-age=300" in response["Cache-Control"]
    missing = Client().get(f"/api/v1/credentials/status/{market.uscc}/expiry")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/problem+json"


@given(st.sets(st.integers(min_value=0, max_value=3 * MINIMUM_BITS)))
def test_a_bitstring_has_exactly_the_positions_set(positions):
    encoded = encode_list(positions)
    for position in [*list(positions)[:50], 0, 7, 8, MINIMUM_BITS - 1]:
        assert bit_at(encoded, position) == (position in positions)


def test_a_list_is_at_least_sixteen_kibibytes_of_bits():
    encoded = encode_list([])
    assert not bit_at(encoded, MINIMUM_BITS - 1)
    with pytest.raises(ValueError):
        bit_at(encoded, MINIMUM_BITS)
    with pytest.raises(ValueError):
        bit_at("uAAAA", 0)
