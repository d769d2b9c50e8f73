"""Issuing licences as signed W3C verifiable credentials, and verifying them offline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import translation
from jwcrypto import jwk, jws

from tests.catalog.fixtures import make_entity, make_officer, make_person
from tongban.credentials import services as credentials
from tongban.credentials.jose import b64url, b64url_decode, sign_jwt
from tongban.credentials.models import Licence, SealKey
from tongban.credentials.seals import SEAL_PURPOSE
from tongban.credentials.verify import Verifier, verify_credential
from tongban.identity.models import Role
from tongban.kernel.actors import SystemActor
from tongban.kernel.crypto import get_crypto_provider
from tongban.kernel.models import AuditRecord, Department
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied

pytestmark = pytest.mark.django_db

PLATFORM = SystemActor("test")


@pytest.fixture
def setup(sealed):
    return {"market": sealed(Department.Kind.MARKET_REGULATION), "civil": sealed(Department.Kind.CIVIL_AFFAIRS)}


@pytest.fixture
def market_reviewer(org, setup):
    return make_officer(org, "market-reviewer", kind=Department.Kind.MARKET_REGULATION, roles=[Role.REVIEWER])


def business_fields(entity) -> dict:
    return {"uscc": entity.uscc, "name": entity.name, "entity_type": "有限责任公司",
            "legal_representative": entity.legal_representative.name, "registered_capital": "100万元人民币",
            "established_on": "2021-04-01", "address": "杭州市西湖区文三路 1 号", "business_scope": "软件开发"}


def published():
    return {"jwks": credentials.published_keys(), "trusted_ca_pem": credentials.ca_certificates_pem()}


@pytest.fixture
def licence(setup, market_reviewer) -> Licence:
    entity = make_entity(make_person())
    return credentials.issue_licence(actor=market_reviewer, licence_type="business-licence", holder=entity,
                                     fields=business_fields(entity), issuer=setup["market"], reference="CASE-1")


def test_an_issued_licence_verifies_offline_and_names_its_issuer(licence, setup):
    verdict = verify_credential(licence.credential, **published())
    assert verdict.outcome == "valid", verdict.reason
    assert verdict.issuer_name == setup["market"].name
    subject = verdict.claims["credentialSubject"]
    assert subject["licenceType"] == "business-licence" and subject["name"] == "杭州云帆科技有限公司"
    assert verdict.claims["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert {entry["statusPurpose"] for entry in verdict.claims["credentialStatus"]} == {"revocation", "suspension"}
    assert "validUntil" not in verdict.claims  # a business licence is valid until revoked
    entry = AuditRecord.objects.get(action="credentials.licence.issued")
    assert entry.target == f"licence:{licence.id}" and "杭州" not in json.dumps(entry.details, ensure_ascii=False)


def test_the_fields_and_the_credential_are_encrypted_at_rest(licence):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT fields, credential FROM credentials_licence")
        stored_fields, stored_credential = cursor.fetchone()
    assert "杭州云帆" not in stored_fields and licence.credential.split(".")[0] not in stored_credential


def test_one_changed_claim_makes_the_licence_forged(licence):
    header, payload, signature = licence.credential.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["credentialSubject"]["registered_capital"] = "1亿元人民币"
    altered = b64url(json.dumps(claims, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())
    verdict = verify_credential(f"{header}.{altered}.{signature}", **published())
    assert verdict.outcome == "forged" and "signature" in verdict.reason


def test_a_licence_signed_by_a_key_outside_the_platform_is_forged(licence):
    # given an attacker's own key, published under the seal's kid with a copied certificate chain
    attacker = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    kid = json.loads(b64url_decode(licence.credential.split(".")[0]))["kid"]
    claims = b64url_decode(licence.credential.split(".")[1])
    token = jws.JWS(claims)
    token.add_signature(attacker, alg="EdDSA", protected={"alg": "EdDSA", "typ": "vc+jwt", "kid": kid})
    keys = published()
    entry = next(key for key in keys["jwks"]["keys"] if key["kid"] == kid)
    entry.update({name: value for name, value in attacker.export_public(as_dict=True).items() if name != "kid"})
    # then the key does not match the certificate the platform CA issued
    verdict = verify_credential(token.serialize(compact=True), **keys)
    assert verdict.outcome == "forged" and "certificate" in verdict.reason
    # and without the platform's keys it is simply unknown
    assert verify_credential(token.serialize(compact=True), jwks={"keys": []},
                             trusted_ca_pem=keys["trusted_ca_pem"]).outcome == "forged"


def test_a_licence_past_its_validity_is_expired(setup, org):
    civil_admin = make_officer(org, "civil-admin", kind=Department.Kind.CIVIL_AFFAIRS,
                               roles=[Role.DEPARTMENT_ADMIN])
    # a social-security card would be issued by human resources: the civil-affairs seal may not sign it
    holder = make_person(name="李华")
    with pytest.raises(InvalidInput):
        credentials.issue_licence(actor=civil_admin, licence_type="social-security-card", holder=holder,
                                  fields={}, issuer=setup["civil"])
    spouse = make_person(name="张丽")
    licence = credentials.issue_licence(
        actor=civil_admin, licence_type="marriage-certificate", holder=holder, issuer=setup["civil"],
        fields={"certificate_number": "J330106-2026-000001", "name": holder.name, "id_number": holder.id_number,
                "spouse_name": spouse.name, "spouse_id_number": spouse.id_number, "registered_on": "2026-05-20"},
    )
    assert verify_credential(licence.credential, **published()).outcome == "valid"
    # a credential is checked at a given time: before it started, it is not yet valid
    early = datetime.now(UTC) - timedelta(days=1)
    assert verify_credential(licence.credential, at=early, **published()).outcome == "not_yet_valid"


def test_a_licence_with_a_validity_expires(setup, org):
    from datetime import date

    human_resources = org.department("330100", Department.Kind.HUMAN_RESOURCES)
    credentials.create_seal(human_resources, actor=PLATFORM)
    holder = make_person(name="赵敏")
    licence = credentials.issue_licence(
        actor=PLATFORM, licence_type="social-security-card", holder=holder, issuer=human_resources,
        fields={"card_number": "A12345678", "name": holder.name, "id_number": holder.id_number,
                "issued_on": date.today().isoformat()},
    )
    assert licence.valid_until is not None and licence.valid_until.year == licence.valid_from.year + 10
    later = licence.valid_until + timedelta(seconds=1)
    assert verify_credential(licence.credential, at=later, **published()).outcome == "expired"


def test_a_revoked_status_is_reported(licence):
    revoked = verify_credential(licence.credential, status_of=lambda claims: "revoked", **published())
    assert revoked.outcome == "revoked"


def test_rotating_the_seal_keeps_issued_licences_valid(licence, setup):
    seal = setup["market"].seal
    credentials.rotate_seal_keys(seal, actor=PLATFORM, reason="Annual rotation")
    assert verify_credential(licence.credential, **published()).outcome == "valid"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.pop("uscc"), "uscc"),
        (lambda f: f.update(established_on="2021-13-40"), "established_on"),
        (lambda f: f.update(favourite_colour="red"), "favourite_colour"),
    ],
    ids=["missing", "bad-date", "unknown-field"],
)
def test_fields_that_do_not_fit_the_type_are_refused_and_nothing_is_issued(setup, market_reviewer, change,
                                                                           message):
    entity = make_entity(make_person())
    fields = business_fields(entity)
    change(fields)
    with translation.override("en"), pytest.raises(InvalidInput, match=message):
        credentials.issue_licence(actor=market_reviewer, licence_type="business-licence", holder=entity,
                                  fields=fields, issuer=setup["market"])
    assert not Licence.objects.exists()


def test_only_the_issuing_department_issues_and_only_with_a_seal(setup, org):
    entity = make_entity(make_person())
    tax_reviewer = make_officer(org, "tax-reviewer", kind=Department.Kind.TAX, roles=[Role.REVIEWER])
    market_window = make_officer(org, "market-window", kind=Department.Kind.MARKET_REGULATION,
                                 roles=[Role.WINDOW_OFFICER])
    for outsider in (tax_reviewer, market_window):
        with pytest.raises(PermissionDenied):
            credentials.issue_licence(actor=outsider, licence_type="business-licence", holder=entity,
                                      fields=business_fields(entity), issuer=setup["market"])
    ningbo_market = org.department("330200", Department.Kind.MARKET_REGULATION)
    with pytest.raises(Conflict):
        credentials.issue_licence(actor=PLATFORM, licence_type="business-licence", holder=entity,
                                  fields=business_fields(entity), issuer=ningbo_market)
    with pytest.raises(InvalidInput):
        credentials.issue_licence(actor=PLATFORM, licence_type="business-licence",
                                  holder=entity.legal_representative, fields=business_fields(entity),
                                  issuer=setup["market"])
    assert not Licence.objects.exists()


def test_every_licence_gets_its_own_status_position(setup, market_reviewer):
    licences = []
    for _ in range(3):
        entity = make_entity(make_person())
        licences.append(credentials.issue_licence(actor=market_reviewer, licence_type="business-licence",
                                                  holder=entity, fields=business_fields(entity),
                                                  issuer=setup["market"]))
    assert [item.status_index for item in licences] == [0, 1, 2]


def test_a_reference_is_issued_once_per_type(licence, market_reviewer, setup):
    entity = licence.holder_entity
    with pytest.raises(Conflict):
        credentials.issue_licence(actor=market_reviewer, licence_type="business-licence", holder=entity,
                                  fields=business_fields(entity), issuer=setup["market"], reference="CASE-1")
    assert Licence.objects.count() == 1


def test_a_verifier_kept_for_many_credentials_checks_each_one_in_full(licence):
    # given one verifier made from the published keys and CA, as a relying party keeps it
    verifier = Verifier(**published())
    assert verifier.verify_credential(licence.credential).outcome == "valid"
    # when a copy with one changed claim follows the genuine licence it accepted
    header, payload, signature = licence.credential.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["credentialSubject"]["name"] = "杭州别家科技有限公司"
    altered = b64url(json.dumps(claims, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())
    # then the copy is forged, and the genuine licence is judged at the time asked about, every time
    assert verifier.verify_credential(f"{header}.{altered}.{signature}").reason == "the signature does not verify"
    assert verifier.verify_credential(licence.credential).outcome == "valid"
    early = datetime.now(UTC) - timedelta(days=1)
    assert verifier.verify_credential(licence.credential, at=early).outcome == "not_yet_valid"


def sealed_key(department, use: str) -> SealKey:
    return SealKey.objects.get(seal__department=department, use=use, retired_at__isnull=True)


def test_a_credential_signed_with_the_seals_p256_key_verifies_too(licence, setup):
    # given the licence's claims signed with the seal's other published key (ES256, for PDFs)
    claims = json.loads(b64url_decode(licence.credential.split(".")[1]))
    token = sign_jwt(claims, key=sealed_key(setup["market"], SealKey.Use.PDF))
    assert json.loads(b64url_decode(token.split(".")[0]))["alg"] == "ES256"
    # then it verifies, and not once a byte of its signature changes
    assert verify_credential(token, **published()).outcome == "valid"
    header, payload, signature = token.split(".")
    flipped = signature[:20] + ("B" if signature[20] != "B" else "C") + signature[21:]
    assert verify_credential(f"{header}.{payload}.{flipped}", **published()).outcome == "forged"


def test_a_signed_header_with_an_extension_the_verifier_does_not_know_is_forged(licence, setup):
    # given the licence's claims signed by the seal under a header marking an extension critical
    key = sealed_key(setup["market"], SealKey.Use.JWT)
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": key.key_id, "crit": ["exp-policy"], "exp-policy": "strict"}
    signing_input = ".".join(b64url(json.dumps(part, separators=(",", ":")).encode())
                             for part in (header, json.loads(b64url_decode(licence.credential.split(".")[1]))))
    signature = get_crypto_provider().sign_with(key.key_handle, signing_input.encode(), purpose=SEAL_PURPOSE)
    # then the verifier refuses it (RFC 7515: a critical extension not understood fails the signature)
    verdict = verify_credential(f"{signing_input}.{b64url(signature)}", **published())
    assert verdict.outcome == "forged" and "signature" in verdict.reason
