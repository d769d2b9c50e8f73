"""The platform CA certifies each department's e-seal keys; rotated keys still verify what they signed."""

from __future__ import annotations

import base64

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import ExtensionOID, NameOID

from tongban.credentials import services as credentials
from tongban.credentials.models import CertificateAuthority, Seal, SealKey
from tongban.identity import services as identity
from tongban.identity.models import Role
from tongban.kernel.actors import SystemActor
from tongban.kernel.crypto import get_crypto_provider
from tongban.kernel.models import AuditRecord, Department
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied

pytestmark = pytest.mark.django_db

PLATFORM = SystemActor("test")


@pytest.fixture
def market(org) -> Department:
    return org.department("330100", Department.Kind.MARKET_REGULATION)


@pytest.fixture
def authority() -> CertificateAuthority:
    return credentials.ensure_platform_ca(actor=PLATFORM)


@pytest.fixture
def seal(market, authority) -> Seal:
    return credentials.create_seal(market, actor=PLATFORM)


@pytest.fixture
def officer(market):
    return identity.create_officer(actor=PLATFORM, username="market-data", password="Officer-Pass-2026!",
                                   department=market, roles=[Role.DATA_OFFICER])


def certificate(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def verify(key: SealKey, message: bytes, signature: bytes) -> None:
    public = certificate(key.certificate_pem).public_key()
    if isinstance(public, Ed25519PublicKey):
        public.verify(signature, message)
    else:
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(signature, message, ec.ECDSA(hashes.SHA256()))


def sign(key: SealKey, message: bytes) -> bytes:
    return get_crypto_provider().sign_with(key.key_handle, message, purpose=credentials.SEAL_PURPOSE)


def test_the_platform_ca_is_a_self_signed_root_that_certifies_end_keys_only(authority):
    # when it is ensured again
    again = credentials.ensure_platform_ca(actor=PLATFORM)
    # then it is the same CA, created and audited once
    assert again.pk == authority.pk
    assert AuditRecord.objects.filter(action="credentials.ca.created").count() == 1
    root = certificate(authority.certificate_pem)
    root.verify_directly_issued_by(root)
    constraints = root.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value
    assert constraints.ca and constraints.path_length == 0
    assert root.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value.key_cert_sign
    assert credentials.ca_certificates_pem() == authority.certificate_pem
    assert "PRIVATE" not in authority.key_handle and authority.key_handle.startswith("sw1:ES256:")


def test_a_seal_has_a_pdf_key_and_a_jwt_key_certified_by_the_platform_ca(seal, market, authority):
    root = certificate(authority.certificate_pem)
    keys = {key.use: key for key in seal.keys.all()}
    assert {use: key.algorithm for use, key in keys.items()} == {"pdf": "ES256", "jwt": "Ed25519"}
    for key in keys.values():
        issued = certificate(key.certificate_pem)
        issued.verify_directly_issued_by(root)
        assert issued.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == market.name
        assert issued.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value == market.uscc
        assert not issued.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value.ca
        assert issued.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value.digital_signature
        verify(key, b"licence 1", sign(key, b"licence 1"))
    assert market.name in seal.image_svg and seal.image_svg.startswith("<svg")
    assert AuditRecord.objects.get(action="credentials.seal.created").target == f"seal:{seal.pk}"


def test_the_jwks_publishes_every_seal_key_with_its_chain_to_the_ca(seal, authority):
    published = {entry["kid"]: entry for entry in credentials.published_keys()["keys"]}
    assert set(published) == {key.key_id for key in seal.keys.all()}
    jwt_key = seal.keys.get(use="jwt")
    entry = published[jwt_key.key_id]
    assert entry["alg"] == "EdDSA" and entry["kty"] == "OKP" and entry["crv"] == "Ed25519"
    assert "d" not in entry  # public parts only
    chain = [x509.load_der_x509_certificate(base64.b64decode(item)) for item in entry["x5c"]]
    assert chain[1] == certificate(authority.certificate_pem)
    chain[0].verify_directly_issued_by(chain[1])


def test_rotated_keys_sign_nothing_new_but_what_they_signed_still_verifies(seal):
    # given a signature by the seal's current JWT key
    old = seal.keys.get(use="jwt", retired_at__isnull=True)
    signature = sign(old, b"licence 2")
    # when the platform rotates the seal's keys
    new_keys = credentials.rotate_seal_keys(seal, actor=PLATFORM, reason="Annual rotation")
    # then new keys are active, the old ones are retired but still published and still verify
    old.refresh_from_db()
    assert old.retired_at is not None and old.retire_reason == "Annual rotation"
    active = set(SealKey.objects.filter(seal=seal, retired_at__isnull=True).values_list("key_id", flat=True))
    assert active == {key.key_id for key in new_keys} and old.key_id not in active
    published = {entry["kid"] for entry in credentials.published_keys()["keys"]}
    assert old.key_id in published and active <= published
    verify(old, b"licence 2", signature)
    with pytest.raises(InvalidSignature):
        verify(seal.keys.get(use="jwt", retired_at__isnull=True), b"licence 2", signature)


def test_a_rotation_without_a_reason_is_refused_and_changes_nothing(seal):
    before = list(SealKey.objects.order_by("pk").values_list("pk", "retired_at"))
    with pytest.raises(InvalidInput):
        credentials.rotate_seal_keys(seal, actor=PLATFORM, reason="  ")
    assert list(SealKey.objects.order_by("pk").values_list("pk", "retired_at")) == before


def test_a_department_gets_one_seal_and_only_after_the_ca_exists(market, org):
    with pytest.raises(Conflict):
        credentials.create_seal(market, actor=PLATFORM)
    assert not Seal.objects.exists() and not SealKey.objects.exists()
    credentials.ensure_platform_ca(actor=PLATFORM)
    credentials.create_seal(market, actor=PLATFORM)
    with pytest.raises(Conflict):
        credentials.create_seal(market, actor=PLATFORM)
    assert Seal.objects.count() == 1 and SealKey.objects.count() == 2


def test_an_officer_cannot_set_up_the_ca_create_a_seal_or_rotate_keys(officer, market, seal):
    other = market  # the officer's own department already has the seal under test
    with pytest.raises(PermissionDenied):
        credentials.ensure_platform_ca(actor=officer)
    with pytest.raises(PermissionDenied):
        credentials.create_seal(other, actor=officer)
    with pytest.raises(PermissionDenied):
        credentials.rotate_seal_keys(seal, actor=officer, reason="mine now")
    assert SealKey.objects.filter(retired_at__isnull=True).count() == 2
