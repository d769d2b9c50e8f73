"""Licences as SD-JWT VCs (IETF SD-JWT, RFC 9901, and SD-JWT-based Verifiable Credentials).

The issuer signs a JWT whose disclosable fields appear only as salted SHA-256
digests (``_sd``); each field travels in a separate disclosure
(base64url of ``[salt, name, value]``). A holder presents the JWT with the
disclosures of the fields they choose to show, as ``<jwt>~<d1>~…~``; a
verifier hashes each disclosure, finds it among the signed digests and so
learns exactly the chosen fields, nothing about the others. No key binding:
the wallet is held by the platform for its citizens, not on their devices.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from tongban.credentials.jose import b64url, b64url_decode, sign_jwt
from tongban.credentials.models import SealKey
from tongban.credentials.verify import StatusUnknown, Verdict, verified_jws

MEDIA_TYPE = "dc+sd-jwt"
DIGEST_ALGORITHM = "sha-256"
SEPARATOR = "~"


def _digest(disclosure: str) -> str:
    return b64url(hashlib.sha256(disclosure.encode("ascii")).digest())


def _disclosure(name: str, value: Any) -> str:
    salt = b64url(secrets.token_bytes(16))
    return b64url(json.dumps([salt, name, value], ensure_ascii=False).encode("utf-8"))


def issue(claims: Mapping[str, Any], fields: Mapping[str, Any], *, disclosable: Iterable[str], key: SealKey) -> str:
    """Return the SD-JWT of ``fields`` with every field in ``disclosable`` selectively disclosable.

    ``claims`` are the always-visible claims (``iss``, ``iat``, ``vct``, …);
    the other fields are visible to every verifier too. All disclosures are
    included: this is what the holder keeps.
    """
    hidden = set(disclosable)
    payload: dict[str, Any] = {**claims}
    disclosures = []
    for name, value in fields.items():
        if name in hidden:
            disclosures.append(_disclosure(name, value))
        else:
            payload[name] = value
    payload["_sd"] = sorted(_digest(item) for item in disclosures)
    payload["_sd_alg"] = DIGEST_ALGORITHM
    token = sign_jwt(payload, key=key, media_type=MEDIA_TYPE)
    return SEPARATOR.join([token, *disclosures, ""])


def _decode(disclosure: str) -> tuple[str, Any]:
    item = json.loads(b64url_decode(disclosure))
    if not isinstance(item, list) or len(item) != 3 or not isinstance(item[1], str):
        raise ValueError("a disclosure is [salt, name, value]")
    return item[1], item[2]


def present(sd_jwt: str, show: Iterable[str]) -> str:
    """Return the presentation of ``sd_jwt`` that discloses only the fields in ``show``."""
    token, *disclosures = sd_jwt.split(SEPARATOR)
    wanted = set(show)
    kept = [item for item in disclosures if item and _decode(item)[0] in wanted]
    return SEPARATOR.join([token, *kept, ""])


def disclosed_names(sd_jwt: str) -> list[str]:
    """Return the names of the fields ``sd_jwt`` carries disclosures for."""
    return [_decode(item)[0] for item in sd_jwt.split(SEPARATOR)[1:] if item]


def verify(presentation: str, *, jwks: Mapping[str, Any], trusted_ca_pem: str,
           at: datetime | None = None, status_of: Callable[[Mapping[str, Any]], str | None] | None = None) -> Verdict:
    """Verify a presentation offline; the verdict's claims hold the visible and the disclosed fields only.

    Forged when the JWT does not verify (as ``verify.verified_jws``), a
    disclosure is not among the signed digests or repeats, or it names a
    field the JWT shows openly. A key-binding JWT is not expected. With
    ``status_of`` (``verify.token_status_from_lists``), a valid presentation
    is also checked against its issuer's Token Status List: revoked,
    suspended, or ``status_unknown`` when the list cannot be trusted.
    """
    at = at or datetime.now(UTC)
    parts = presentation.split(SEPARATOR) if isinstance(presentation, str) else []
    if len(parts) < 2 or parts[-1] != "":
        return Verdict("forged", "not an SD-JWT presentation")
    verified = verified_jws(parts[0], jwks=jwks, trusted_ca_pem=trusted_ca_pem, media_type=MEDIA_TYPE)
    if isinstance(verified, Verdict):
        return verified
    signed, issuer_name = verified
    digests = signed.get("_sd")
    if signed.get("_sd_alg") != DIGEST_ALGORITHM or not isinstance(digests, list):
        return Verdict("forged", "no digests of disclosable fields")
    claims = {name: value for name, value in signed.items() if name not in ("_sd", "_sd_alg")}
    seen: set[str] = set()
    for disclosure in parts[1:-1]:
        digest = _digest(disclosure)
        if digest not in digests or digest in seen:
            return Verdict("forged", "a disclosure the issuer did not sign")
        seen.add(digest)
        try:
            name, value = _decode(disclosure)
        except ValueError:
            return Verdict("forged", "an unreadable disclosure")
        if name in claims:
            return Verdict("forged", "a disclosure overrides a signed claim")
        claims[name] = value
    expires = signed.get("exp")
    if isinstance(expires, int) and at >= datetime.fromtimestamp(expires, UTC):
        return Verdict("expired", "", claims, issuer_name)
    starts = signed.get("nbf")
    if isinstance(starts, int) and at < datetime.fromtimestamp(starts, UTC):
        return Verdict("not_yet_valid", "", claims, issuer_name)
    if status_of is not None:
        try:
            found = status_of(signed)
        except StatusUnknown as unknown:
            return Verdict("status_unknown", str(unknown), claims, issuer_name)
        if found in ("revoked", "suspended"):
            return Verdict(found, "", claims, issuer_name)
    return Verdict("valid", "", claims, issuer_name)
