"""The CryptoProvider seam: field encryption, blind indexes, keyed digests and platform signatures.

Everything that touches key material goes through ``get_crypto_provider()`` so
that a deployment can replace the software keys with SM4/SM2 or an HSM by
setting ``TONGBAN_CRYPTO_PROVIDER`` to another implementation of
``CryptoProvider``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import cache
from typing import Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.module_loading import import_string


class DecryptionError(Exception):
    """The ciphertext was altered or was made with another key."""


class CryptoProvider(Protocol):
    """What the platform needs from a key holder."""

    def encrypt(self, plaintext: str, *, purpose: str) -> str:
        """Return an opaque text token that only this provider can decrypt."""
        ...

    def decrypt(self, token: str, *, purpose: str) -> str:
        """Return the plaintext of ``token``; raise DecryptionError if it was altered."""
        ...

    def blind_index(self, value: str, *, purpose: str) -> str:
        """Return a deterministic keyed digest of ``value`` for equality lookups."""
        ...

    def sign(self, message: bytes, *, purpose: str) -> bytes:
        """Return the platform's Ed25519 signature of ``message`` with the key for ``purpose``."""
        ...

    def public_key(self, *, purpose: str) -> bytes:
        """Return the raw 32-byte Ed25519 public key that verifies ``sign(..., purpose=purpose)``."""
        ...


def _derive(master: bytes, label: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(master)


class SoftwareCryptoProvider:
    """AES-256-GCM and HMAC-SHA256 with keys derived from ``DATA_MASTER_KEY``.

    The purpose is bound into each ciphertext as associated data, so a token
    copied from one field into another does not decrypt.
    """

    version = "v1"

    def __init__(self, master_key: str) -> None:
        master = master_key.encode()
        self._aead = AESGCM(_derive(master, "tongban/field-encryption"))
        self._index_key = _derive(master, "tongban/blind-index")
        self._signing_seed = _derive(master, "tongban/platform-signing")

    def encrypt(self, plaintext: str, *, purpose: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), purpose.encode())
        return f"{self.version}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, purpose: str) -> str:
        version, _, body = token.partition(":")
        if version != self.version:
            raise DecryptionError(f"unknown ciphertext version {version!r}")
        raw = base64.urlsafe_b64decode(body.encode())
        try:
            return self._aead.decrypt(raw[:12], raw[12:], purpose.encode()).decode()
        except Exception as error:  # cryptography raises InvalidTag
            raise DecryptionError("ciphertext does not authenticate") from error

    def blind_index(self, value: str, *, purpose: str) -> str:
        message = f"{purpose}\x00{value}".encode()
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()

    def _signing_key(self, purpose: str) -> Ed25519PrivateKey:
        # One key per purpose, derived (never stored): the master key is the only secret.
        seed = _derive(self._signing_seed, f"tongban/signing/{purpose}")
        return Ed25519PrivateKey.from_private_bytes(seed)

    def sign(self, message: bytes, *, purpose: str) -> bytes:
        return self._signing_key(purpose).sign(message)

    def public_key(self, *, purpose: str) -> bytes:
        return self._signing_key(purpose).public_key().public_bytes(
            encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
        )


@cache
def get_crypto_provider() -> CryptoProvider:
    """Return the configured provider (one per process; it holds no mutable state)."""
    dotted = getattr(settings, "TONGBAN_CRYPTO_PROVIDER", None)
    if dotted:
        provider: CryptoProvider = import_string(dotted)(settings.DATA_MASTER_KEY)
        return provider
    return SoftwareCryptoProvider(settings.DATA_MASTER_KEY)
