"""Offline verification of a licence credential: published keys, the trusted CA and (optionally) its status.

Everything a relying party needs is public (``/api/v1/credentials/jwks``,
``/api/v1/credentials/ca``), so this runs anywhere without calling the platform.
The verdict is one of ``valid``, ``expired``, ``not_yet_valid``, ``revoked``,
``suspended``, ``forged`` (any failure of format, key, certificate chain or
signature) or ``status_unknown`` (its status list could not be read or trusted).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from jwcrypto import jwk, jws
from jwcrypto.common import JWException

from tongban.credentials.jose import MEDIA_TYPE, b64url_decode
from tongban.credentials.status import bit_at

ALLOWED_ALGORITHMS = ("EdDSA", "ES256")


@dataclass(frozen=True)
class Verdict:
    """What a verifier concludes about a credential, and why."""

    outcome: str
    reason: str = ""
    claims: Mapping[str, Any] | None = None
    issuer_name: str = ""

    @property
    def is_valid(self) -> bool:
        return self.outcome == "valid"


def _forged(reason: str) -> Verdict:
    return Verdict("forged", reason)


def _header(token: str) -> dict[str, Any] | None:
    try:
        header = json.loads(b64url_decode(token.split(".", 1)[0]))
    except (ValueError, UnicodeDecodeError):
        return None
    return header if isinstance(header, dict) else None


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def trusted_roots(pem: str) -> list[x509.Certificate]:
    """Return the CA certificates in a PEM chain (what ``/api/v1/credentials/ca`` serves)."""
    return x509.load_pem_x509_certificates(pem.encode()) if pem.strip() else []


def _chain_error(entry: Mapping[str, Any], roots: list[x509.Certificate], at: datetime) -> str | None:
    chain = entry.get("x5c")
    if not isinstance(chain, list) or not chain:
        return "the key carries no certificate"
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0]))
    except ValueError:
        return "the key's certificate does not parse"
    key_der = jwk.JWK(**entry).export_to_pem()
    if serialization.load_pem_public_key(key_der).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != certificate.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo):
        return "the key does not match its certificate"
    if not any(_issued_by(certificate, root) for root in roots):
        return "the key's certificate is not issued by a trusted CA"
    if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
        return "the key's certificate was not valid when the credential was issued"
    return None


def _issued_by(certificate: x509.Certificate, root: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature):  # another issuer, or a bad signature
        return False
    return True


def verified_jws(
    token: str, *, jwks: Mapping[str, Any], trusted_ca_pem: str, media_type: str,
) -> tuple[dict[str, Any], str] | Verdict:
    """Return the claims of a JWS signed by a published seal key, and the issuer's name; or a forged verdict.

    Checks the type, the algorithm, the key (published, for that algorithm,
    matching its certificate), the certificate (issued by a trusted CA, valid
    at the issue time ``iat``), the signature, and that the issuer the claims
    name (``issuer.name`` or ``issuer_name``) is the department of the certificate.
    """
    header = _header(token) if isinstance(token, str) and token.count(".") == 2 else None
    if header is None:
        return _forged("not a compact JWS")
    if header.get("alg") not in ALLOWED_ALGORITHMS or header.get("typ") != media_type:
        return _forged("unexpected algorithm or type")
    entry = next((key for key in jwks.get("keys", []) if key.get("kid") == header.get("kid")), None)
    if entry is None:
        return _forged("signed by no published key")
    if entry.get("alg") != header["alg"]:
        return _forged("the key is not for this algorithm")
    signature = jws.JWS()
    try:
        signature.deserialize(token)
        signature.verify(jwk.JWK(**entry), alg=header["alg"])
        claims = json.loads(signature.payload)
    except (JWException, ValueError, UnicodeDecodeError):
        return _forged("the signature does not verify")
    if not isinstance(claims, dict):
        return _forged("the payload is not a claim set")
    issued = datetime.fromtimestamp(claims["iat"], UTC) if isinstance(claims.get("iat"), int) else None
    if issued is None:
        return _forged("no issue time")
    problem = _chain_error(entry, trusted_roots(trusted_ca_pem), issued)
    if problem:
        return _forged(problem)
    issuer = claims.get("issuer")
    issuer_name = str(issuer.get("name", "")) if isinstance(issuer, dict) else str(claims.get("issuer_name", ""))
    certificate = x509.load_der_x509_certificate(base64.b64decode(entry["x5c"][0]))
    organisations = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    if organisations and issuer_name != organisations[0].value:
        return _forged("the issuer named is not the seal's department")
    return claims, issuer_name


def _timely(claims: dict[str, Any], issuer_name: str, at: datetime, valid_from: datetime | None,
            valid_until: datetime | None) -> Verdict | None:
    if valid_from is not None and at < valid_from:
        return Verdict("not_yet_valid", "", claims, issuer_name)
    if valid_until is not None and at >= valid_until:
        return Verdict("expired", "", claims, issuer_name)
    return None


def verify_credential(
    token: str,
    *,
    jwks: Mapping[str, Any],
    trusted_ca_pem: str,
    at: datetime | None = None,
    status_of: Callable[[Mapping[str, Any]], str | None] | None = None,
) -> Verdict:
    """Verify a licence credential (a ``vc+jwt``) offline; return the verdict.

    ``jwks`` and ``trusted_ca_pem`` are what the platform publishes;
    ``status_of``, given the verified claims, returns ``"revoked"``,
    ``"suspended"`` or None (for instance from a cached status list).
    """
    at = at or datetime.now(UTC)
    verified = verified_jws(token, jwks=jwks, trusted_ca_pem=trusted_ca_pem, media_type=MEDIA_TYPE)
    if isinstance(verified, Verdict):
        return verified
    claims, issuer_name = verified
    if "credentialSubject" not in claims:
        return _forged("not a verifiable credential")
    valid_from, valid_until = _instant(claims.get("validFrom")), _instant(claims.get("validUntil"))
    if valid_from is None or ("validUntil" in claims and valid_until is None):
        return _forged("unreadable validity")
    untimely = _timely(claims, issuer_name, at, valid_from, valid_until)
    if untimely is not None:
        return untimely
    try:
        status = status_of(claims) if status_of is not None else None
    except StatusUnknown as unknown:
        return Verdict("status_unknown", str(unknown), claims, issuer_name)
    if status in ("revoked", "suspended"):
        return Verdict(status, "", claims, issuer_name)
    return Verdict("valid", "", claims, issuer_name)


class StatusUnknown(Exception):
    """A credential's status list could not be fetched, trusted or read."""


def status_from_lists(
    fetch: Callable[[str], str], *, jwks: Mapping[str, Any], trusted_ca_pem: str, at: datetime | None = None,
) -> Callable[[Mapping[str, Any]], str | None]:
    """Return a ``status_of`` for ``verify_credential`` that reads the credential's Bitstring Status Lists.

    ``fetch(url)`` returns the signed list published at ``url`` (a verifier
    caches lists for their ``ttl``). Each list must itself verify with the
    same keys and CA, come from the credential's issuer and be for the
    entry's purpose; otherwise StatusUnknown is raised.
    """

    def status_of(claims: Mapping[str, Any]) -> str | None:
        entries = claims.get("credentialStatus") or []
        entries = entries if isinstance(entries, list) else [entries]
        found = None
        for entry in entries:
            purpose, url = entry.get("statusPurpose"), entry.get("statusListCredential")
            try:
                index = int(entry.get("statusListIndex"))
                listed = verify_credential(fetch(url), jwks=jwks, trusted_ca_pem=trusted_ca_pem, at=at)
            except (TypeError, ValueError, OSError) as error:
                raise StatusUnknown(f"the {purpose} list could not be read") from error
            subject = (listed.claims or {}).get("credentialSubject", {})
            if listed.outcome != "valid" or listed.claims is None:
                raise StatusUnknown(f"the {purpose} list does not verify ({listed.outcome})")
            if listed.claims.get("issuer") != claims.get("issuer") or subject.get("statusPurpose") != purpose:
                raise StatusUnknown(f"the {purpose} list is not the issuer's list for it")
            try:
                is_set = bit_at(str(subject.get("encodedList", "")), index)
            except (ValueError, OSError) as error:
                raise StatusUnknown(f"the {purpose} list does not cover the licence") from error
            if is_set and purpose == "revocation":
                return "revoked"
            if is_set and purpose == "suspension":
                found = "suspended"
        return found

    return status_of
