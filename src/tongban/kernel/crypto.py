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

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
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

    def generate_signing_key(self, *, algorithm: str, purpose: str) -> str:
        """Create a signing key (``Ed25519`` or ``ES256``) for ``purpose``; return its handle.

        The handle is all a caller stores: it names the key without revealing
        it (the software provider keeps the private key encrypted inside it; an
        HSM would keep the key and return its label).
        """
        ...

    def sign_with(self, handle: str, message: bytes, *, purpose: str) -> bytes:
        """Sign ``message`` with the key of ``handle``.

        Ed25519: the 64-byte signature. ES256: the DER-encoded ECDSA signature
        over SHA-256 of ``message``. Raise DecryptionError for a handle that was
        altered or belongs to another purpose.
        """
        ...

    def public_key_of(self, handle: str, *, purpose: str) -> bytes:
        """Return the DER SubjectPublicKeyInfo of the key of ``handle``."""
        ...

    def sign_certificate(self, handle: str, builder: x509.CertificateBuilder, *, purpose: str) -> x509.Certificate:
        """Return the certificate ``builder`` describes, signed by the (issuer's) key of ``handle``."""
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


    # Signing keys held by handle ---------------------------------------------------------------

    def generate_signing_key(self, *, algorithm: str, purpose: str) -> str:
        key: Ed25519PrivateKey | ec.EllipticCurvePrivateKey
        if algorithm == "Ed25519":
            key = Ed25519PrivateKey.generate()
        elif algorithm == "ES256":
            key = ec.generate_private_key(ec.SECP256R1())
        else:
            raise ValueError(f"unsupported signing algorithm {algorithm!r}")
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        sealed = self.encrypt(base64.b64encode(der).decode(), purpose=self._key_purpose(algorithm, purpose))
        return f"{_HANDLE_PREFIX}:{algorithm}:{sealed}"

    @staticmethod
    def _key_purpose(algorithm: str, purpose: str) -> str:
        # The algorithm is bound in too, so a handle cannot be relabelled.
        return f"tongban/signing-key/{algorithm}/{purpose}"

    def _private_key(self, handle: str, purpose: str) -> Ed25519PrivateKey | ec.EllipticCurvePrivateKey:
        prefix, _, rest = handle.partition(":")
        algorithm, _, sealed = rest.partition(":")
        if prefix != _HANDLE_PREFIX or algorithm not in SIGNING_ALGORITHMS:
            raise DecryptionError("not a signing-key handle of this provider")
        der = base64.b64decode(self.decrypt(sealed, purpose=self._key_purpose(algorithm, purpose)))
        key = serialization.load_der_private_key(der, password=None)
        if not isinstance(key, Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
            raise DecryptionError("the handle holds an unexpected kind of key")
        return key

    def sign_with(self, handle: str, message: bytes, *, purpose: str) -> bytes:
        key = self._private_key(handle, purpose)
        if isinstance(key, Ed25519PrivateKey):
            return key.sign(message)
        return key.sign(message, ec.ECDSA(hashes.SHA256()))

    def public_key_of(self, handle: str, *, purpose: str) -> bytes:
        return self._private_key(handle, purpose).public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign_certificate(self, handle: str, builder: x509.CertificateBuilder, *, purpose: str) -> x509.Certificate:
        key = self._private_key(handle, purpose)
        # Ed25519 signs the certificate as a whole; ECDSA over SHA-256.
        return builder.sign(key, None if isinstance(key, Ed25519PrivateKey) else hashes.SHA256())


# "Ed25519" (EdDSA) and "ES256" (ECDSA P-256 with SHA-256), as JOSE names them.
SIGNING_ALGORITHMS = ("Ed25519", "ES256")
_HANDLE_PREFIX = "sw1"


@cache
def get_crypto_provider() -> CryptoProvider:
    """Return the configured provider (one per process; it holds no mutable state)."""
    dotted = getattr(settings, "TONGBAN_CRYPTO_PROVIDER", None)
    if dotted:
        provider: CryptoProvider = import_string(dotted)(settings.DATA_MASTER_KEY)
        return provider
    return SoftwareCryptoProvider(settings.DATA_MASTER_KEY)
