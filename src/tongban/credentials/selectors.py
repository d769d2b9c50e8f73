"""Public reads of the credentials block: what verifiers need (no personal data)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from jwcrypto import jwk

from tongban.credentials.models import CertificateAuthority, Licence, SealKey, Share, StatusList

# JOSE's name for each key algorithm.
JWS_ALGORITHMS = {"Ed25519": "EdDSA", "ES256": "ES256"}


def active_authority() -> CertificateAuthority | None:
    """Return the platform's active root CA, or None before it is set up."""
    return CertificateAuthority.objects.filter(retired_at__isnull=True).first()


def ca_certificates_pem() -> str:
    """Return the PEM certificates verifiers should trust: every root CA not yet expired, newest first."""
    authorities = CertificateAuthority.objects.filter(not_after__gt=timezone.now()).order_by("-created_at", "-id")
    return "".join(authority.certificate_pem for authority in authorities)


def published_keys() -> dict[str, Any]:
    """Return the JWKS of every seal key whose certificate has not expired, retired ones included.

    Each key carries its certificate chain (``x5c``: the key's certificate,
    then the root CA's), so that a verifier trusting only the platform CA can
    check which department it belongs to. Building it parses every
    certificate, so it is kept in the shared cache under a digest of the key
    ids in force: a key's id is its public key's thumbprint and a key's
    certificate never changes, so the ids name the set.
    """
    in_force = SealKey.objects.filter(not_after__gt=timezone.now())
    key_ids = sorted(in_force.values_list("key_id", flat=True))
    cache_key = "credentials:jwks:" + hashlib.sha256("\n".join(key_ids).encode()).hexdigest()
    cached = cache.get(cache_key)
    if cached is None:
        cached = _jwks(in_force)
        cache.set(cache_key, cached, timeout=JWKS_CACHE_SECONDS)
    return dict(cached)


# Also bounds how long an expired key could stay in a cached set that nothing else changed.
JWKS_CACHE_SECONDS = 300


def _jwks(keys: QuerySet[SealKey]) -> dict[str, Any]:
    published = []
    for key in keys.select_related("issuer").order_by("seal_id", "use", "-created_at", "-id"):
        certificate = x509.load_pem_x509_certificate(key.certificate_pem.encode())
        public_pem = certificate.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        entry = jwk.JWK.from_pem(public_pem).export_public(as_dict=True)
        chain = [certificate, x509.load_pem_x509_certificate(key.issuer.certificate_pem.encode())]
        entry.update({
            "kid": key.key_id, "use": "sig", "alg": JWS_ALGORITHMS[key.algorithm],
            "x5c": [base64.b64encode(item.public_bytes(serialization.Encoding.DER)).decode() for item in chain],
        })
        published.append(entry)
    return {"keys": published}


def status_list_credential(issuer_uscc: str, purpose: str) -> str | None:
    """Return the signed status list (a ``vc+jwt``) of the issuer with ``issuer_uscc`` for ``purpose``, or None."""
    credential = (StatusList.objects.filter(issuer__uscc=issuer_uscc, purpose=purpose)
                  .values_list("credential", flat=True).first())
    return credential or None


def licence_issued_by(actor: Any, licence_id: Any) -> Licence | None:
    """Return the licence ``licence_id`` if one of the actor's departments issued it, else None.

    The departments an issuing system or officer acts for; the platform sees every licence.
    """
    queryset = Licence.objects.select_related("licence_type", "issuer")
    if not getattr(actor, "is_system", False):
        acting = getattr(actor, "department_ids", None)
        queryset = queryset.filter(issuer_id__in=acting() if callable(acting) else [])
    try:
        return queryset.filter(pk=licence_id).first()
    except (ValueError, ValidationError):
        return None


def licences_held_by(*, person_id: int | None = None, entity_id: int | None = None) -> QuerySet[Licence]:
    """Return the licences of one holder, newest first (the wallet of that person or entity)."""
    if (person_id is None) == (entity_id is None):
        return Licence.objects.none()
    holder = {"holder_person_id": person_id} if person_id is not None else {"holder_entity_id": entity_id}
    return Licence.objects.select_related("licence_type", "issuer").filter(**holder).order_by("-issued_at")


def share_digest(token: str) -> str:
    """Return the digest a share's token is stored and found by (the token has 192 random bits)."""
    return hashlib.sha256(str(token).encode()).hexdigest()


def share_by_token(token: str) -> Share | None:
    """Return the share whose link carries ``token`` (open or not), or None."""
    return (Share.objects.select_related("licence__licence_type", "licence__issuer")
            .filter(token_digest=share_digest(token)).first())
