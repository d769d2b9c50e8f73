"""Every write of the credentials block: the platform CA, seals and their keys, licence types.

Each write checks the actor, writes and appends one audit record in one
transaction. Private keys are created and used only through the
``CryptoProvider`` (``kernel.crypto``); rows keep handles.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker
from jwcrypto import jwk

from tongban.credentials import jose, seals
from tongban.credentials.models import (
    CertificateAuthority,
    Licence,
    LicenceType,
    Seal,
    SealKey,
    StatusListHead,
)
from tongban.credentials.selectors import active_authority, ca_certificates_pem, published_keys
from tongban.credentials.types import definition_error
from tongban.identity.models import Role
from tongban.kernel import audit
from tongban.kernel.actors import acts_for, is_system
from tongban.kernel.crypto import get_crypto_provider
from tongban.kernel.models import Department
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied
from tongban.registries.models import LegalEntity, Person

__all__ = [
    "CA_NAME",
    "active_authority",
    "ca_certificates_pem",
    "create_seal",
    "define_licence_type",
    "ensure_platform_ca",
    "issue_licence",
    "published_keys",
    "rotate_seal_keys",
]

CA_NAME = "Tongban Platform Root CA"
CA_PURPOSE = seals.CA_PURPOSE
SEAL_PURPOSE = seals.SEAL_PURPOSE
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


# -- issuing --------------------------------------------------------------------------------------

# Officers who may sign licences for their department; department systems sign for their own.
ISSUING_ROLES = (Role.REVIEWER, Role.DEPARTMENT_ADMIN)
STATUS_PURPOSES = ("revocation", "suspension")


def _add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    # The 31st of a shorter month (or 29 February in a common year) becomes its last day.
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=min(moment.day, day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def valid_until(licence_type: LicenceType, valid_from: datetime) -> datetime | None:
    """Return when a licence of ``licence_type`` valid from ``valid_from`` expires (None: until revoked)."""
    validity = licence_type.validity or {}
    if "years" in validity:
        return _add_months(valid_from, 12 * int(validity["years"]))
    if "months" in validity:
        return _add_months(valid_from, int(validity["months"]))
    return None


def _fields_error(licence_type: LicenceType, fields: Any) -> str | None:
    if not isinstance(fields, Mapping):
        return _("Give the licence's fields as an object.")
    validator = Draft202012Validator(licence_type.schema, format_checker=FormatChecker())
    error = next(iter(sorted(validator.iter_errors(dict(fields)), key=lambda item: list(item.path))), None)
    if error is None:
        return None
    where = ".".join(str(part) for part in error.path) or _("the licence")
    return _("%(where)s: %(message)s") % {"where": where, "message": error.message}


def _status_entries(index: int) -> list[dict[str, str]]:
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    entries = []
    for purpose in STATUS_PURPOSES:
        url = f"{base}/api/v1/credentials/status/{purpose}"
        entries.append({"id": f"{url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": purpose,
                        "statusListIndex": str(index), "statusListCredential": url})
    return entries


def _credential(licence: Licence, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return the W3C VC (data model 2.0) of ``licence``, with the JWT claims a JOSE verifier expects."""
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    issuer_id = f"{base}/api/v1/kernel/departments#{licence.issuer.uscc}"
    credential: dict[str, Any] = {
        "@context": [jose.VC_CONTEXT],
        "id": f"urn:uuid:{licence.id}",
        "type": ["VerifiableCredential", "TongbanLicence"],
        "issuer": {"id": issuer_id, "name": licence.issuer.name},
        "validFrom": licence.valid_from.isoformat(),
        "credentialSubject": {"licenceType": licence.licence_type.code,
                              "licenceTypeVersion": licence.type_version, **fields},
        "credentialStatus": _status_entries(licence.status_index),
        "iss": issuer_id,
        "jti": f"urn:uuid:{licence.id}",
        "iat": int(licence.issued_at.timestamp()),
    }
    if licence.valid_until is not None:
        credential["validUntil"] = licence.valid_until.isoformat()
        credential["exp"] = int(licence.valid_until.timestamp())
    return credential


def _next_status_index() -> int:
    head, _created = StatusListHead.objects.select_for_update().get_or_create(id=1)
    index = head.next_index
    StatusListHead.objects.filter(id=1).update(next_index=index + 1)
    return index


@transaction.atomic
def issue_licence(
    *, actor: Any, licence_type: LicenceType | str, holder: Person | LegalEntity, fields: Mapping[str, Any],
    issuer: Department, valid_from: datetime | None = None, reference: str = "",
) -> Licence:
    """Issue a licence of ``licence_type`` to ``holder``, signed with ``issuer``'s e-seal; return it.

    ``fields`` must validate against the type's schema; the licence is valid
    from ``valid_from`` (now by default) for the type's validity. Raise
    PermissionDenied unless the actor signs for ``issuer`` (a reviewer or
    department administrator, a department system of it, or the platform);
    InvalidInput for an unknown type, a department that does not issue it, a
    holder of the wrong kind or fields that do not validate; Conflict when the
    department has no e-seal.
    """
    if not acts_for(actor, issuer.pk, *ISSUING_ROLES):
        raise PermissionDenied(_("Only the issuing department may issue its licences."))
    if isinstance(licence_type, str):
        found = LicenceType.objects.filter(code=licence_type).first()
        if found is None:
            raise InvalidInput(_("There is no such licence type."), field="licence_type")
        licence_type = found
    if issuer.kind != licence_type.issuer_kind:
        raise InvalidInput(_("This department does not issue %(type)s.") % {"type": licence_type.name},
                           field="issuer")
    wanted_holder = Person if licence_type.holder_type == LicenceType.HolderType.PERSON else LegalEntity
    if not isinstance(holder, wanted_holder):
        raise InvalidInput(_("This licence is held by a person.") if wanted_holder is Person
                           else _("This licence is held by a legal entity."), field="holder")
    problem = _fields_error(licence_type, fields)
    if problem:
        raise InvalidInput(problem, field="fields")
    key = SealKey.objects.filter(seal__department=issuer, use=SealKey.Use.JWT, retired_at__isnull=True).first()
    if key is None:
        raise Conflict(_("The department has no e-seal to sign with."))
    now = timezone.now()
    start = valid_from or now
    licence = Licence(
        id=uuid.uuid4(), licence_type=licence_type, type_version=licence_type.version,
        holder_person=holder if isinstance(holder, Person) else None,
        holder_entity=holder if isinstance(holder, LegalEntity) else None,
        issuer=issuer, seal_key=key, issued_at=now, valid_from=start, valid_until=valid_until(licence_type, start),
        status_index=_next_status_index(), reference=" ".join(str(reference or "").split())[:200],
    )
    clean = json.loads(json.dumps(dict(fields), ensure_ascii=False))
    licence.fields = json.dumps(clean, ensure_ascii=False, sort_keys=True)
    licence.credential = jose.sign_jwt(_credential(licence, clean), key=key)
    licence.save(force_insert=True)
    audit.record("credentials.licence.issued", actor=actor, target=f"licence:{licence.id}",
                 details={"type": licence_type.code, "issuer": issuer.pk, "key": key.key_id,
                          "status_index": licence.status_index})
    return licence
