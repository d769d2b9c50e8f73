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
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID
from jwcrypto import jwk
from jwcrypto.common import JWException

from tongban.credentials.jose import MEDIA_TYPE, b64url_decode
from tongban.credentials.status import (
    TOKEN_INVALID,
    TOKEN_SUSPENDED,
    TOKEN_VALID,
    bit_of,
    decode_list,
    decode_token_list,
    token_status,
)

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


@dataclass(frozen=True)
class _PublishedKey:
    """A published key as parsed once: the key that verifies, its certificate and what does not depend on time.

    ``public_key`` is None when the JWK does not parse; ``problem`` names what
    is wrong with the key's certificate chain, whatever the issue time.
    """

    public_key: Any
    problem: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    organisation: str | None = None


def _spki(public_key: Any) -> bytes:
    return bytes(public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def _parse_key(entry: Mapping[str, Any], roots: list[x509.Certificate]) -> _PublishedKey:
    try:
        # jwcrypto reads the JWK and refuses a key whose "use" or "key_ops" is not for verifying.
        public_key = jwk.JWK(**entry).get_op_key("verify")
    except (JWException, ValueError, TypeError):
        return _PublishedKey(None)
    chain = entry.get("x5c")
    if not isinstance(chain, list) or not chain:
        return _PublishedKey(public_key, "the key carries no certificate")
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0]))
    except ValueError:
        return _PublishedKey(public_key, "the key's certificate does not parse")
    if _spki(public_key) != _spki(certificate.public_key()):
        return _PublishedKey(public_key, "the key does not match its certificate")
    if not any(_issued_by(certificate, root) for root in roots):
        return _PublishedKey(public_key, "the key's certificate is not issued by a trusted CA")
    organisations = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return _PublishedKey(public_key, None, certificate.not_valid_before_utc, certificate.not_valid_after_utc,
                         str(organisations[0].value) if organisations else None)


def _issued_by(certificate: x509.Certificate, root: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature):  # another issuer, or a bad signature
        return False
    return True


def _signature_verifies(public_key: Any, alg: str, signature: bytes, signing_input: bytes) -> bool:
    """Return whether ``signature`` (as JWS carries it) is ``alg``'s signature of ``signing_input`` by the key."""
    try:
        if alg == "EdDSA" and isinstance(public_key, Ed25519PublicKey | Ed448PublicKey):
            public_key.verify(signature, signing_input)
        elif alg == "ES256" and isinstance(public_key, ec.EllipticCurvePublicKey) \
                and isinstance(public_key.curve, ec.SECP256R1) and len(signature) == 64:
            # JWS carries r‖s; cryptography verifies DER.
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            public_key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


class Verifier:
    """Verifies credentials against one set of published keys (JWKS) and trusted CA certificates.

    The CA certificates are parsed once, and each published key, its
    certificate and its chain to the CA the first time a credential names it;
    what depends on the credential (its signature, its issue time within the
    certificate's validity, its issuer, validity and status) is checked every
    time. A relying party keeps one verifier while its copy of the keys and
    the CA is current; ``verify_credential`` and ``verified_jws`` make one per call.
    """

    def __init__(self, *, jwks: Mapping[str, Any], trusted_ca_pem: str) -> None:
        self._entries: dict[str, Mapping[str, Any]] = {}
        for entry in jwks.get("keys", []):
            kid = entry.get("kid")
            if isinstance(kid, str):
                self._entries.setdefault(kid, entry)  # the first key of a kid, as a search would find it
        self._roots = trusted_roots(trusted_ca_pem)
        self._parsed: dict[str, _PublishedKey] = {}

    def _key(self, kid: str, entry: Mapping[str, Any]) -> _PublishedKey:
        parsed = self._parsed.get(kid)
        if parsed is None:
            parsed = self._parsed[kid] = _parse_key(entry, self._roots)
        return parsed

    def verified_jws(self, token: str, *, media_type: str) -> tuple[dict[str, Any], str] | Verdict:
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
        kid = header.get("kid")
        if not isinstance(kid, str) or kid not in self._entries:
            return _forged("signed by no published key")
        entry = self._entries[kid]
        if entry.get("alg") != header["alg"]:
            return _forged("the key is not for this algorithm")
        key = self._key(kid, entry)
        encoded_header, encoded_payload, encoded_signature = token.split(".")
        # No critical header extension is understood (RFC 7515 §4.1.11), the unencoded payload (RFC 7797) neither.
        if key.public_key is None or "crit" in header or header.get("b64", True) is not True:
            return _forged("the signature does not verify")
        try:
            signing_input = f"{encoded_header}.{encoded_payload}".encode("ascii")
            if not _signature_verifies(key.public_key, header["alg"], b64url_decode(encoded_signature),
                                       signing_input):
                return _forged("the signature does not verify")
            claims = json.loads(b64url_decode(encoded_payload))
        except (ValueError, UnicodeDecodeError):
            return _forged("the signature does not verify")
        if not isinstance(claims, dict):
            return _forged("the payload is not a claim set")
        issued = datetime.fromtimestamp(claims["iat"], UTC) if isinstance(claims.get("iat"), int) else None
        if issued is None:
            return _forged("no issue time")
        if key.problem:
            return _forged(key.problem)
        if key.not_before is None or key.not_after is None or not key.not_before <= issued <= key.not_after:
            return _forged("the key's certificate was not valid when the credential was issued")
        issuer = claims.get("issuer")
        issuer_name = str(issuer.get("name", "")) if isinstance(issuer, dict) else str(claims.get("issuer_name", ""))
        if key.organisation is not None and issuer_name != key.organisation:
            return _forged("the issuer named is not the seal's department")
        return claims, issuer_name

    def verify_credential(
        self, token: str, *, at: datetime | None = None,
        status_of: Callable[[Mapping[str, Any]], str | None] | None = None,
    ) -> Verdict:
        """Verify a licence credential (a ``vc+jwt``) offline; return the verdict (see ``verify_credential``)."""
        return _credential_verdict(self.verified_jws(token, media_type=MEDIA_TYPE), at or datetime.now(UTC),
                                   status_of)


def verified_jws(
    token: str, *, jwks: Mapping[str, Any], trusted_ca_pem: str, media_type: str,
) -> tuple[dict[str, Any], str] | Verdict:
    """Return the claims of a JWS signed by a published seal key, and the issuer's name; or a forged verdict.

    What ``Verifier.verified_jws`` checks, with a verifier made for this one call.
    """
    return Verifier(jwks=jwks, trusted_ca_pem=trusted_ca_pem).verified_jws(token, media_type=media_type)


def _timely(claims: dict[str, Any], issuer_name: str, at: datetime, valid_from: datetime | None,
            valid_until: datetime | None) -> Verdict | None:
    if valid_from is not None and at < valid_from:
        return Verdict("not_yet_valid", "", claims, issuer_name)
    if valid_until is not None and at >= valid_until:
        return Verdict("expired", "", claims, issuer_name)
    return None


def _credential_verdict(verified: tuple[dict[str, Any], str] | Verdict, at: datetime,
                        status_of: Callable[[Mapping[str, Any]], str | None] | None) -> Verdict:
    """Return the verdict on a credential whose JWS was checked (``verified``): its validity at ``at``, its status."""
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
    ``"suspended"`` or None (for instance from a cached status list). A
    verifier that checks many credentials keeps a ``Verifier`` instead.
    """
    return Verifier(jwks=jwks, trusted_ca_pem=trusted_ca_pem).verify_credential(token, at=at, status_of=status_of)


class StatusUnknown(Exception):
    """A credential's status list could not be fetched, trusted or read."""


@dataclass
class _FetchedList:
    """A status list as fetched, what verifying its JWS returned and, once read, its bitstring."""

    credential: str
    verified: tuple[dict[str, Any], str] | Verdict
    bitstring: bytes | None = None


def status_from_lists(
    fetch: Callable[[str], str], *, jwks: Mapping[str, Any], trusted_ca_pem: str, at: datetime | None = None,
) -> Callable[[Mapping[str, Any]], str | None]:
    """Return a ``status_of`` for ``verify_credential`` that reads the credential's Bitstring Status Lists.

    ``fetch(url)`` returns the signed list published at ``url`` (a verifier
    caches lists for their ``ttl``). Each list must itself verify with the
    same keys and CA, come from the credential's issuer and be for the
    entry's purpose; otherwise StatusUnknown is raised. A list whose JWS
    verified is remembered, decoded, until ``fetch`` returns another one for
    its URL: its signature is not checked again, its validity at the time is.
    """
    verifier = Verifier(jwks=jwks, trusted_ca_pem=trusted_ca_pem)
    lists: dict[str, _FetchedList] = {}  # by URL

    def read(url: str) -> tuple[Verdict, _FetchedList]:
        credential = fetch(url)
        known = lists.get(url)
        if known is None or known.credential != credential:
            known = lists[url] = _FetchedList(credential, verifier.verified_jws(credential, media_type=MEDIA_TYPE))
        return _credential_verdict(known.verified, at or datetime.now(UTC), None), known

    def status_of(claims: Mapping[str, Any]) -> str | None:
        entries = claims.get("credentialStatus") or []
        entries = entries if isinstance(entries, list) else [entries]
        found = None
        for entry in entries:
            purpose, url = entry.get("statusPurpose"), entry.get("statusListCredential")
            try:
                index = int(entry.get("statusListIndex"))
                listed, known = read(url)
            except (TypeError, ValueError, OSError) as error:
                raise StatusUnknown(f"the {purpose} list could not be read") from error
            subject = (listed.claims or {}).get("credentialSubject", {})
            if listed.outcome != "valid" or listed.claims is None:
                raise StatusUnknown(f"the {purpose} list does not verify ({listed.outcome})")
            if listed.claims.get("issuer") != claims.get("issuer") or subject.get("statusPurpose") != purpose:
                raise StatusUnknown(f"the {purpose} list is not the issuer's list for it")
            try:
                if known.bitstring is None:
                    known.bitstring = decode_list(str(subject.get("encodedList", "")))
                is_set = bit_of(known.bitstring, index)
            except ValueError as error:
                raise StatusUnknown(f"the {purpose} list does not cover the licence") from error
            if is_set and purpose == "revocation":
                return "revoked"
            if is_set and purpose == "suspension":
                found = "suspended"
        return found

    return status_of


TOKEN_STATUS_MEDIA_TYPE = "statuslist+jwt"
_TOKEN_STATUSES = {TOKEN_VALID: None, TOKEN_INVALID: "revoked", TOKEN_SUSPENDED: "suspended"}


def token_status_from_lists(
    fetch: Callable[[str], str], *, jwks: Mapping[str, Any], trusted_ca_pem: str, at: datetime | None = None,
) -> Callable[[Mapping[str, Any]], str | None]:
    """Return a ``status_of`` for SD-JWT VCs that reads their IETF Token Status List.

    The claims' ``status.status_list`` names the list (``uri``) and the
    token's index (``idx``). ``fetch(uri)`` returns the signed list
    (``statuslist+jwt``); it must verify with the same keys and CA, be the list
    at ``uri`` (its ``sub``), come from the token's issuer and be current
    (``exp``, when it has one). Return ``"revoked"``, ``"suspended"`` or None;
    raise StatusUnknown when the list cannot be fetched, trusted or read, or
    the claims name no list.
    """
    verifier = Verifier(jwks=jwks, trusted_ca_pem=trusted_ca_pem)
    decoded: dict[str, tuple[str, dict[str, Any], bytes]] = {}  # by URI: the list as fetched, its claims, bytes

    def status_of(claims: Mapping[str, Any]) -> str | None:
        status_claim = claims.get("status")
        reference = status_claim.get("status_list") if isinstance(status_claim, dict) else None
        if not isinstance(reference, dict) or not isinstance(reference.get("uri"), str) \
                or not isinstance(reference.get("idx"), int):
            raise StatusUnknown("the token names no status list")
        uri, index = reference["uri"], reference["idx"]
        try:
            token = fetch(uri)
        except (OSError, ValueError) as error:
            raise StatusUnknown("the token status list could not be fetched") from error
        known = decoded.get(uri)
        if known is None or known[0] != token:
            verified = verifier.verified_jws(token, media_type=TOKEN_STATUS_MEDIA_TYPE)
            if isinstance(verified, Verdict):
                raise StatusUnknown(f"the token status list does not verify ({verified.reason})")
            listed = verified[0]
            body = listed.get("status_list")
            body = body if isinstance(body, dict) else {}
            try:
                data = decode_token_list(str(body.get("lst", "")))
            except ValueError as error:
                raise StatusUnknown("the token status list does not decompress") from error
            known = decoded[uri] = (token, listed, data)
        _token, listed, data = known
        if listed.get("sub") != uri or listed.get("iss") != claims.get("iss"):
            raise StatusUnknown("the token status list is not the issuer's list at its address")
        expires = listed.get("exp")
        if isinstance(expires, int) and (at or datetime.now(UTC)) >= datetime.fromtimestamp(expires, UTC):
            raise StatusUnknown("the token status list has expired")
        try:
            value = token_status(data, index, bits=int(listed["status_list"].get("bits", 0)))
        except (ValueError, TypeError) as error:
            raise StatusUnknown("the token status list does not cover the token") from error
        if value not in _TOKEN_STATUSES:
            raise StatusUnknown(f"the token status list holds an unknown status {value}")
        return _TOKEN_STATUSES[value]

    return status_of
