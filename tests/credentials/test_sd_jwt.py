"""Selective disclosure: the holder shows some fields of a licence's SD-JWT VC and hides the rest.

Checked with our verifier and with the IETF SD-JWT reference implementation
(the ``sd-jwt`` package), which must accept our presentations and see the same
fields.
"""

from __future__ import annotations

import json

import pytest
from jwcrypto import jwk
from sd_jwt.verifier import SDJWTVerifier

from tests.catalog.fixtures import make_entity, make_officer, make_person
from tests.credentials.test_issue_and_verify import business_fields, published
from tongban.credentials import sdjwt
from tongban.credentials import services as credentials
from tongban.credentials.jose import b64url, b64url_decode
from tongban.identity.models import Role
from tongban.kernel.models import Department

pytestmark = pytest.mark.django_db

ALWAYS_SHOWN = {"uscc", "name", "entity_type", "established_on"}


@pytest.fixture
def licence(sealed, org):
    market = sealed(Department.Kind.MARKET_REGULATION)
    reviewer = make_officer(org, "market-reviewer", kind=Department.Kind.MARKET_REGULATION, roles=[Role.REVIEWER])
    entity = make_entity(make_person())
    return credentials.issue_licence(actor=reviewer, licence_type="business-licence", holder=entity,
                                     fields=business_fields(entity), issuer=market)


def reference_verify(presentation: str) -> dict:
    keys = {key["kid"]: key for key in credentials.published_keys()["keys"]}

    def issuer_key(issuer: str, header: dict) -> jwk.JWK:
        return jwk.JWK(**keys[header["kid"]])

    return SDJWTVerifier(presentation, issuer_key).get_verified_payload()


def test_only_the_chosen_disclosable_fields_are_shown(licence):
    # given the holder's SD-JWT with every disclosure
    assert set(sdjwt.disclosed_names(licence.sd_jwt)) == {"legal_representative", "registered_capital", "address",
                                                         "business_scope"}
    # when the holder shows the address only
    presentation = sdjwt.present(licence.sd_jwt, ["address"])
    verdict = sdjwt.verify(presentation, **published())
    # then the verifier sees the always-visible fields and the address, and nothing of the rest
    assert verdict.outcome == "valid", verdict.reason
    assert verdict.issuer_name == licence.issuer.name
    fields = set(verdict.claims) - {"iss", "issuer_name", "vct", "jti", "iat", "nbf", "licence_type", "status"}
    assert fields == ALWAYS_SHOWN | {"address"}
    assert "杭州市西湖区文三路" in verdict.claims["address"]
    for hidden in ("软件开发", "100万元人民币"):
        assert hidden not in json.dumps(verdict.claims, ensure_ascii=False)
        assert hidden not in b64url_decode(presentation.split("~")[0].split(".")[1]).decode()


def test_the_reference_implementation_sees_the_same_fields(licence):
    presentation = sdjwt.present(licence.sd_jwt, ["address", "legal_representative"])
    ours = sdjwt.verify(presentation, **published()).claims
    theirs = reference_verify(presentation)
    assert {name: value for name, value in theirs.items() if name not in ("_sd_alg",)} == ours
    assert "business_scope" not in theirs


def test_a_disclosure_the_issuer_did_not_sign_is_forged(licence):
    presentation = sdjwt.present(licence.sd_jwt, [])
    forged_disclosure = b64url(json.dumps(["c2FsdA", "business_scope", "军火贸易"], ensure_ascii=False).encode())
    verdict = sdjwt.verify(presentation + forged_disclosure + "~", **published())
    assert verdict.outcome == "forged" and "did not sign" in verdict.reason
    # The reference implementation ignores a disclosure no digest refers to (RFC 9901 says to reject the
    # presentation, as ours does); either way the unsigned field is never shown.
    assert "business_scope" not in reference_verify(presentation + forged_disclosure + "~")


def test_a_changed_signed_claim_is_forged(licence):
    token, *rest = licence.sd_jwt.split("~")
    header, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["name"] = "另一家公司"
    altered = b64url(json.dumps(claims, ensure_ascii=False).encode())
    verdict = sdjwt.verify("~".join([f"{header}.{altered}.{signature}", *rest]), **published())
    assert verdict.outcome == "forged"
