"""Every write of the credentials block: the platform CA, seals and their keys, licence types.

Each write checks the actor, writes and appends one audit record in one
transaction. Private keys are created and used only through the
``CryptoProvider`` (``kernel.crypto``); rows keep handles.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from jwcrypto import jwk

from tongban.credentials import seals
from tongban.credentials.models import CertificateAuthority, LicenceType, Seal, SealKey
from tongban.credentials.selectors import active_authority, ca_certificates_pem, published_keys
from tongban.credentials.types import definition_error
from tongban.kernel import audit
from tongban.kernel.actors import is_system
from tongban.kernel.crypto import get_crypto_provider
from tongban.kernel.models import Department
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied

__all__ = [
    "CA_NAME",
    "active_authority",
    "ca_certificates_pem",
    "create_seal",
    "define_licence_type",
    "ensure_platform_ca",
    "published_keys",
    "rotate_seal_keys",
]

CA_NAME = "Tongban Platform Root CA"
CA_PURPOSE = "credentials.ca"
SEAL_PURPOSE = "credentials.seal"
# The algorithm of each use: P-256 for PDF signatures (what PDF verifiers know), Ed25519 for JWTs.
ALGORITHMS = {SealKey.Use.PDF: "ES256", SealKey.Use.JWT: "Ed25519"}
MANAGE_SEALS = "credentials.add_seal"


def _require_platform(actor: Any) -> None:
    check = getattr(actor, "has_perm", None)
    if not (is_system(actor) or (callable(check) and check(MANAGE_SEALS))):
        raise PermissionDenied(_("Only the platform may manage its certification authority and seals."))


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _serial(certificate: x509.Certificate) -> str:
    return f"{certificate.serial_number:x}"


@transaction.atomic
def ensure_platform_ca(*, actor: Any) -> CertificateAuthority:
    """Return the platform's active root CA, creating its key and self-signed certificate first if there is none.

    Raise PermissionDenied unless the actor is the platform (or may manage seals).
    """
    _require_platform(actor)
    existing = CertificateAuthority.objects.select_for_update().filter(retired_at__isnull=True).first()
    if existing is not None:
        return existing
    provider, now = get_crypto_provider(), timezone.now()
    handle = provider.generate_signing_key(algorithm="ES256", purpose=CA_PURPOSE)
    public_key = seals.load_public_key(provider.public_key_of(handle, purpose=CA_PURPOSE))
    certificate = provider.sign_certificate(
        handle, seals.ca_certificate(name=CA_NAME, public_key=public_key, now=now), purpose=CA_PURPOSE
    )
    authority = CertificateAuthority.objects.create(
        name=CA_NAME, algorithm="ES256", key_handle=handle, certificate_pem=_pem(certificate),
        serial=_serial(certificate), not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc, created_at=now,
    )
    audit.record("credentials.ca.created", actor=actor, target=f"ca:{authority.serial}",
                 details={"not_after": authority.not_after.isoformat()})
    return authority


def _new_key(seal: Seal, use: str, authority: CertificateAuthority) -> SealKey:
    provider, now = get_crypto_provider(), timezone.now()
    algorithm = ALGORITHMS[SealKey.Use(use)]
    handle = provider.generate_signing_key(algorithm=algorithm, purpose=SEAL_PURPOSE)
    public_der = provider.public_key_of(handle, purpose=SEAL_PURPOSE)
    issuer = x509.load_pem_x509_certificate(authority.certificate_pem.encode())
    department = seal.department
    builder = seals.seal_key_certificate(
        seal_name=seal.name, department_name=department.name, department_uscc=department.uscc,
        public_key=seals.load_public_key(public_der), issuer=issuer, now=now,
    )
    certificate = provider.sign_certificate(authority.key_handle, builder, purpose=CA_PURPOSE)
    # The RFC 7638 thumbprint names the key in JWS headers and the JWKS.
    public_pem = serialization.load_der_public_key(public_der).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_id = jwk.JWK.from_pem(public_pem).thumbprint()
    return SealKey.objects.create(
        seal=seal, use=use, algorithm=algorithm, key_id=key_id, key_handle=handle,
        certificate_pem=_pem(certificate), serial=_serial(certificate), issuer=authority,
        not_before=certificate.not_valid_before_utc, not_after=certificate.not_valid_after_utc, created_at=now,
    )


@transaction.atomic
def create_seal(department: Department, *, actor: Any, name: str | None = None) -> Seal:
    """Give ``department`` its e-seal: the seal image and one certified key per use; return the seal.

    Raise PermissionDenied unless the actor is the platform; Conflict if the
    department has a seal already or the platform CA is not set up.
    """
    _require_platform(actor)
    authority = active_authority()
    if authority is None:
        raise Conflict(_("Set up the platform certification authority first."))
    if Seal.objects.filter(department=department).exists():
        raise Conflict(_("The department has an e-seal already."))
    seal_name = (name or "").strip() or f"{department.name}电子印章"
    if len(seal_name) > 60:
        raise InvalidInput(_("Keep the seal's name under 60 characters."), field="name")
    seal = Seal.objects.create(department=department, name=seal_name, image_svg=seals.seal_image(department.name),
                               created_at=timezone.now())
    keys = [_new_key(seal, use, authority) for use in SealKey.Use]
    audit.record("credentials.seal.created", actor=actor, target=f"seal:{seal.pk}",
                 details={"department": department.pk, "keys": [key.key_id for key in keys]})
    return seal


@transaction.atomic
def rotate_seal_keys(seal: Seal, *, actor: Any, reason: str) -> list[SealKey]:
    """Retire the seal's active keys and certify new ones; return the new keys.

    What the retired keys signed still verifies: they stay published (JWKS,
    certificates) until their certificates expire, but sign nothing new.
    Raise PermissionDenied unless the actor is the platform; InvalidInput
    without a reason.
    """
    _require_platform(actor)
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise InvalidInput(_("Say why the keys are rotated."), field="reason")
    authority = active_authority()
    if authority is None:
        raise Conflict(_("Set up the platform certification authority first."))
    now = timezone.now()
    retired = list(SealKey.objects.select_for_update().filter(seal=seal, retired_at__isnull=True))
    SealKey.objects.filter(pk__in=[key.pk for key in retired]).update(retired_at=now, retire_reason=reason[:500])
    keys = [_new_key(seal, use, authority) for use in SealKey.Use]
    audit.record("credentials.seal.keys_rotated", actor=actor, target=f"seal:{seal.pk}",
                 details={"retired": [key.key_id for key in retired], "new": [key.key_id for key in keys],
                          "reason": reason[:500]})
    return keys


# -- licence types --------------------------------------------------------------------------------

_DEFINITION_FIELDS = ("name", "name_en", "issuer_kind", "holder_type", "schema", "disclosable", "validity", "layout")


@transaction.atomic
def define_licence_type(
    *, actor: Any, code: str, name: str, name_en: str = "", issuer_kind: str, holder_type: str,
    schema: dict[str, Any], disclosable: list[str] | None = None, validity: dict[str, int] | None = None,
    layout: dict[str, Any] | None = None,
) -> LicenceType:
    """Define the licence type ``code``, or a new version of it; return it.

    A definition that changes nothing writes nothing; any change raises the
    version (licences already issued keep the version they were issued under).
    Raise PermissionDenied unless the actor is the platform; InvalidInput for
    a bad code, name, issuer, holder type, schema, disclosable list, validity
    or layout.
    """
    _require_platform(actor)
    code = str(code or "").strip()
    if not code or len(code) > 80 or not all(char.isascii() and (char.isalnum() or char == "-") for char in code) \
            or code != code.lower():
        raise InvalidInput(_("Give the code in lower-case letters, digits and hyphens."), field="code")
    name = " ".join(str(name or "").split())
    if not name or len(name) > 200:
        raise InvalidInput(_("Give the licence type a name of up to 200 characters."), field="name")
    if issuer_kind not in Department.Kind.values:
        raise InvalidInput(_("Name the kind of department that issues it."), field="issuer_kind")
    if holder_type not in LicenceType.HolderType.values:
        raise InvalidInput(_("The holder is a person or a legal entity."), field="holder_type")
    disclosable, validity, layout = list(disclosable or []), dict(validity or {}), dict(layout or {})
    problem = definition_error(schema, disclosable, validity, layout)
    if problem:
        raise InvalidInput(problem, field="schema")
    wanted = {"name": name, "name_en": " ".join(str(name_en or "").split()), "issuer_kind": issuer_kind,
              "holder_type": holder_type, "schema": schema, "disclosable": disclosable, "validity": validity,
              "layout": layout}
    now = timezone.now()
    existing = LicenceType.objects.select_for_update().filter(code=code).first()
    if existing is None:
        created = LicenceType.objects.create(code=code, created_at=now, updated_at=now, **wanted)
        audit.record("credentials.licence_type.defined", actor=actor, target=f"licence-type:{code}",
                     details={"version": 1})
        return created
    changed = [field for field in _DEFINITION_FIELDS if getattr(existing, field) != wanted[field]]
    if not changed:
        return existing
    for field in changed:
        setattr(existing, field, wanted[field])
    existing.version += 1
    existing.updated_at = now
    existing.save(update_fields=[*changed, "version", "updated_at"])
    audit.record("credentials.licence_type.defined", actor=actor, target=f"licence-type:{code}",
                 details={"version": existing.version, "changed": changed})
    return existing
