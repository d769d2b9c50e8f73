"""Licences as W3C Verifiable Credentials (data model 2.0) secured as JWTs, signed through the CryptoProvider.

The JWS is assembled here (RFC 7515 compact serialization) so that the seal's
private key never leaves the provider: only the signing input goes in and the
signature comes out. ES256 signatures come from the provider DER-encoded and
are carried raw (r‖s), as JWS requires.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tongban.credentials.models import SealKey
from tongban.credentials.seals import SEAL_PURPOSE
from tongban.credentials.selectors import JWS_ALGORITHMS
from tongban.kernel.crypto import get_crypto_provider

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
MEDIA_TYPE = "vc+jwt"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def sign_jwt(payload: dict[str, Any], *, key: SealKey, media_type: str = MEDIA_TYPE) -> str:
    """Return ``payload`` as a compact JWS (``typ`` ``media_type``) signed by the seal key ``key``."""
    header = {"alg": JWS_ALGORITHMS[key.algorithm], "typ": media_type, "kid": key.key_id}
    signing_input = f"{b64url(_json(header))}.{b64url(_json(payload))}".encode("ascii")
    signature = get_crypto_provider().sign_with(key.key_handle, signing_input, purpose=SEAL_PURPOSE)
    if key.algorithm == "ES256":
        r, s = decode_dss_signature(signature)
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{signing_input.decode('ascii')}.{b64url(signature)}"
