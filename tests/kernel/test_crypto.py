"""The software CryptoProvider: field encryption, blind indexes and signing keys held by handle."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidSignature
from hypothesis import given
from hypothesis import strategies as st

from tongban.kernel.crypto import (
    DecryptionError,
    SoftwareCryptoProvider,
    get_crypto_provider,
)
from tongban.kernel.fields import EncryptedTextField

PURPOSE = "registries.person.id_number"
provider = SoftwareCryptoProvider("master-key-for-tests")


@given(st.text())
def test_encryption_round_trips_any_text(plaintext):
    token = provider.encrypt(plaintext, purpose=PURPOSE)

    assert provider.decrypt(token, purpose=PURPOSE) == plaintext


def test_the_ciphertext_reveals_nothing_and_is_randomized():
    first = provider.encrypt("110101199003071234", purpose=PURPOSE)
    second = provider.encrypt("110101199003071234", purpose=PURPOSE)

    assert first != second
    assert first.startswith("v1:")
    assert "1101" not in first and "1234" not in first


@given(st.text(min_size=1), st.data())
def test_an_altered_ciphertext_is_refused(plaintext, data):
    # given one bit flipped anywhere in the nonce, ciphertext or tag
    token = provider.encrypt(plaintext, purpose=PURPOSE)
    raw = bytearray(base64.urlsafe_b64decode(token.removeprefix("v1:")))
    index = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    raw[index] ^= 1 << data.draw(st.integers(min_value=0, max_value=7))
    altered = "v1:" + base64.urlsafe_b64encode(bytes(raw)).decode()

    with pytest.raises(DecryptionError):
        provider.decrypt(altered, purpose=PURPOSE)


def test_a_ciphertext_is_bound_to_its_purpose():
    # given a token copied from the ID-number field into another field
    token = provider.encrypt("110101199003071234", purpose=PURPOSE)

    with pytest.raises(DecryptionError):
        provider.decrypt(token, purpose="identity.account.phone")


def test_another_master_key_cannot_decrypt():
    token = provider.encrypt("secret", purpose=PURPOSE)

    with pytest.raises(DecryptionError):
        SoftwareCryptoProvider("another-master-key").decrypt(token, purpose=PURPOSE)


def test_an_unknown_ciphertext_version_is_refused():
    token = provider.encrypt("secret", purpose=PURPOSE)

    with pytest.raises(DecryptionError, match="version"):
        provider.decrypt("v9:" + token.removeprefix("v1:"), purpose=PURPOSE)


@given(st.text())
def test_the_blind_index_is_deterministic(value):
    assert provider.blind_index(value, purpose=PURPOSE) == provider.blind_index(value, purpose=PURPOSE)
    # and survives a new provider made from the same master key (another app node)
    again = SoftwareCryptoProvider("master-key-for-tests")
    assert again.blind_index(value, purpose=PURPOSE) == provider.blind_index(value, purpose=PURPOSE)


def test_the_blind_index_depends_on_value_purpose_and_key():
    index = provider.blind_index("110101199003071234", purpose=PURPOSE)

    assert len(index) == 64
    assert "110101199003071234" not in index
    assert provider.blind_index("110101199003071235", purpose=PURPOSE) != index
    assert provider.blind_index("110101199003071234", purpose="other") != index
    assert SoftwareCryptoProvider("k2").blind_index("110101199003071234", purpose=PURPOSE) != index


def test_purpose_and_value_cannot_be_shifted_into_each_other():
    # "a" + "\x00b" and "a\x00" + "b" must not collide through the separator
    assert provider.blind_index("xb", purpose="a") != provider.blind_index("b", purpose="ax")


def test_the_configured_provider_uses_the_data_master_key(settings):
    expected = SoftwareCryptoProvider(settings.DATA_MASTER_KEY)

    assert get_crypto_provider().blind_index("x", purpose=PURPOSE) == expected.blind_index("x", purpose=PURPOSE)


def test_the_encrypted_field_stores_only_ciphertext():
    field = EncryptedTextField(purpose=PURPOSE)

    stored = field.get_prep_value("110101199003071234")

    assert stored != "110101199003071234"
    assert field.from_db_value(stored, None, None) == "110101199003071234"
    assert field.get_prep_value(None) is None
    assert field.from_db_value(None, None, None) is None
    assert field.deconstruct()[3]["purpose"] == PURPOSE


# -- signing keys held by handle --------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["Ed25519", "ES256"])
def test_a_signing_key_signs_what_its_public_key_verifies(algorithm):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    provider = SoftwareCryptoProvider("k" * 43)
    handle = provider.generate_signing_key(algorithm=algorithm, purpose="seal")
    signature = provider.sign_with(handle, b"licence", purpose="seal")
    public = serialization.load_der_public_key(provider.public_key_of(handle, purpose="seal"))
    if algorithm == "ES256":
        public.verify(signature, b"licence", ec.ECDSA(hashes.SHA256()))
    else:
        public.verify(signature, b"licence")
    with pytest.raises(InvalidSignature):
        if algorithm == "ES256":
            public.verify(signature, b"licencE", ec.ECDSA(hashes.SHA256()))
        else:
            public.verify(signature, b"licencE")


def test_a_handle_keeps_the_private_key_encrypted():
    provider = SoftwareCryptoProvider("k" * 43)
    handle = provider.generate_signing_key(algorithm="ES256", purpose="seal")
    # PKCS#8 DER of a P-256 key starts 30 81 87 02 01 00 30 13 06 07 2a 86 48 ce 3d 02 01
    assert b"\x2a\x86\x48\xce\x3d" not in handle.encode()
    assert "MIGHAgEAMBMGByqGSM49" not in handle  # the same bytes in base64


@pytest.mark.parametrize("spoil", ["other-purpose", "other-master-key", "relabelled", "altered"])
def test_a_handle_works_only_for_its_purpose_and_provider(spoil):
    provider = SoftwareCryptoProvider("k" * 43)
    handle = provider.generate_signing_key(algorithm="ES256", purpose="seal")
    purpose, user = "seal", provider
    if spoil == "other-purpose":
        purpose = "checkpoint"
    elif spoil == "other-master-key":
        user = SoftwareCryptoProvider("m" * 43)
    elif spoil == "relabelled":
        handle = handle.replace(":ES256:", ":Ed25519:", 1)
    else:
        handle = handle[:-6] + ("AAAAAA" if not handle.endswith("AAAAAA") else "BBBBBB")
    with pytest.raises(DecryptionError):
        user.sign_with(handle, b"licence", purpose=purpose)


def test_an_unknown_algorithm_is_refused():
    with pytest.raises(ValueError, match="unsupported"):
        SoftwareCryptoProvider("k" * 43).generate_signing_key(algorithm="RS256", purpose="seal")


def test_a_certificate_is_signed_by_the_issuers_handle():
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    provider = SoftwareCryptoProvider("k" * 43)
    handle = provider.generate_signing_key(algorithm="ES256", purpose="ca")
    public = serialization.load_der_public_key(provider.public_key_of(handle, purpose="ca"))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test root")])
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public)
               .serial_number(x509.random_serial_number()).not_valid_before(now)
               .not_valid_after(now + timedelta(days=1)))
    certificate = provider.sign_certificate(handle, builder, purpose="ca")
    public.verify(certificate.signature, certificate.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
