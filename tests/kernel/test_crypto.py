"""The software CryptoProvider: field encryption and blind indexes."""

from __future__ import annotations

import base64

import pytest
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
