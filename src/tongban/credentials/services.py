"""Every write of the credentials block: the platform CA, seals and their keys, licence types.

Each write checks the actor, writes and appends one audit record in one
transaction. Private keys are created and used only through the
``CryptoProvider`` (``kernel.crypto``); rows keep handles.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker
from jwcrypto import jwk

from tongban.credentials import jose, pdf, sdjwt, seals, status, verify
from tongban.credentials.models import (
    CertificateAuthority,
    Licence,
    LicenceType,
    Seal,
    SealKey,
    Share,
    StatusList,
)
from tongban.credentials.selectors import (
    active_authority,
    ca_certificates_pem,
    licence_issued_by,
    licences_held_by,
    published_keys,
    share_by_token,
    share_digest,
    status_list_credential,
)
from tongban.credentials.types import definition_error
from tongban.exchange import services as exchange
from tongban.identity import services as identity
from tongban.identity.models import Account, Role
from tongban.kernel import audit
from tongban.kernel.actors import acts_for, is_system
from tongban.kernel.crypto import get_crypto_provider
from tongban.kernel.models import Department
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied
from tongban.registries import services as registries
from tongban.registries.models import LegalEntity, Person

__all__ = [
    "CA_NAME",
    "SHARE_DURATIONS",
    "STATUS_LIST_TTL_SECONDS",
    "TOKEN_STATUS_PURPOSE",
    "LicenceUse",
    "SharedLicence",
    "active_authority",
    "ca_certificates_pem",
    "create_seal",
    "define_licence_type",
    "ensure_platform_ca",
    "import_licences",
    "issue_licence",
    "issue_licence_by_keys",
    "licence_issued_by",
    "licence_pdf",
    "licence_type_names",
    "licences_held_by",
    "open_share",
    "published_keys",
    "reinstate_licence",
    "revoke_licence",
    "rotate_seal_keys",
    "share_by_token",
    "share_licence",
    "share_url",
    "status_list_credential",
    "suspend_licence",
    "use_licence",
    "verify_licence_credential",
    "withdraw_share",
]

CA_NAME = "Tongban Platform Root CA"
CA_PURPOSE = seals.CA_PURPOSE
SEAL_PURPOSE = seals.SEAL_PURPOSE
# The algorithm of each use: P-256 for PDF signatures (what PDF verifiers know), Ed25519 for JWTs.
ALGORITHMS = {SealKey.Use.PDF: "ES256", SealKey.Use.JWT: "Ed25519"}
# What a seal's credential (JWT) key may use: EdDSA by default, ES256 as an option.
CREDENTIAL_ALGORITHMS = ("Ed25519", "ES256")
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


def _credential_algorithm(chosen: str | None) -> str:
    algorithm = chosen or settings.CREDENTIAL_SIGNING_ALGORITHM
    if algorithm not in CREDENTIAL_ALGORITHMS:
        raise InvalidInput(_("Credentials are signed with Ed25519 or ES256."), field="credential_algorithm")
    return str(algorithm)


def _new_key(seal: Seal, use: str, authority: CertificateAuthority, *, credential_algorithm: str) -> SealKey:
    provider, now = get_crypto_provider(), timezone.now()
    algorithm = credential_algorithm if use == SealKey.Use.JWT else ALGORITHMS[SealKey.Use(use)]
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
def create_seal(department: Department, *, actor: Any, name: str | None = None,
                credential_algorithm: str | None = None) -> Seal:
    """Give ``department`` its e-seal: the seal image and one certified key per use; return the seal.

    The credential key is Ed25519 (EdDSA) unless ``credential_algorithm``
    (or the ``TONGBAN_CREDENTIAL_ALGORITHM`` setting) says ES256. Raise
    PermissionDenied unless the actor is the platform; Conflict if the
    department has a seal already or the platform CA is not set up;
    InvalidInput for another algorithm.
    """
    _require_platform(actor)
    algorithm = _credential_algorithm(credential_algorithm)
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
    keys = [_new_key(seal, use, authority, credential_algorithm=algorithm) for use in SealKey.Use]
    audit.record("credentials.seal.created", actor=actor, target=f"seal:{seal.pk}",
                 details={"department": department.pk, "keys": [key.key_id for key in keys]})
    return seal


@transaction.atomic
def rotate_seal_keys(seal: Seal, *, actor: Any, reason: str, credential_algorithm: str | None = None) -> list[SealKey]:
    """Retire the seal's active keys and certify new ones; return the new keys.

    What the retired keys signed still verifies: they stay published (JWKS,
    certificates) until their certificates expire, but sign nothing new. The
    new credential key keeps the retired one's algorithm unless
    ``credential_algorithm`` names another. Raise PermissionDenied unless the
    actor is the platform; InvalidInput without a reason or for an algorithm
    other than Ed25519 or ES256.
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
    current = next((key.algorithm for key in retired if key.use == SealKey.Use.JWT), None)
    algorithm = _credential_algorithm(credential_algorithm or current)
    SealKey.objects.filter(pk__in=[key.pk for key in retired]).update(retired_at=now, retire_reason=reason[:500])
    keys = [_new_key(seal, use, authority, credential_algorithm=algorithm) for use in SealKey.Use]
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
    # The order of the fields as defined, kept where it survives storage (jsonb keeps no key order).
    layout["fields"] = list(layout.get("fields") or schema["properties"])
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
STATUS_PURPOSES = tuple(StatusList.Purpose.values)
# The W3C Bitstring Status Lists a vc+jwt's credentialStatus names (the token list is for SD-JWT VCs).
BITSTRING_PURPOSES = (StatusList.Purpose.REVOCATION, StatusList.Purpose.SUSPENSION)
TOKEN_STATUS_PURPOSE = StatusList.Purpose.TOKEN.value
TOKEN_STATUS_MEDIA_TYPE = "statuslist+jwt"
# How long verifiers may cache a status list before fetching it again.
STATUS_LIST_TTL_SECONDS = 300


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


def status_list_url(issuer: Department, purpose: str) -> str:
    """Return where the status list of ``issuer`` for ``purpose`` is published."""
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/api/v1/credentials/status/{issuer.uscc}/{purpose}"


def _status_entries(issuer: Department, index: int) -> list[dict[str, str]]:
    entries = []
    for purpose in BITSTRING_PURPOSES:
        url = status_list_url(issuer, purpose)
        entries.append({"id": f"{url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": purpose,
                        "statusListIndex": str(index), "statusListCredential": url})
    return entries


def _credential(licence: Licence, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return the W3C VC (data model 2.0) of ``licence``, with the JWT claims a JOSE verifier expects."""
    issuer_id = _issuer_id(licence.issuer)
    credential: dict[str, Any] = {
        "@context": [jose.VC_CONTEXT],
        "id": f"urn:uuid:{licence.id}",
        "type": ["VerifiableCredential", "TongbanLicence"],
        "issuer": {"id": issuer_id, "name": licence.issuer.name},
        "validFrom": licence.valid_from.isoformat(),
        "credentialSubject": {"licenceType": licence.licence_type.code,
                              "licenceTypeVersion": licence.type_version, **fields},
        "credentialStatus": _status_entries(licence.issuer, licence.status_index),
        "iss": issuer_id,
        "jti": f"urn:uuid:{licence.id}",
        "iat": int(licence.issued_at.timestamp()),
    }
    if licence.valid_until is not None:
        credential["validUntil"] = licence.valid_until.isoformat()
        credential["exp"] = int(licence.valid_until.timestamp())
    return credential


def _sd_jwt_claims(licence: Licence) -> dict[str, Any]:
    """Return the always-visible claims of a licence's SD-JWT VC (its fields are added by ``sdjwt.issue``)."""
    claims: dict[str, Any] = {
        "iss": _issuer_id(licence.issuer),
        "issuer_name": licence.issuer.name,
        "vct": f"urn:tongban:licence-type:{licence.licence_type.code}",
        "jti": f"urn:uuid:{licence.id}",
        "iat": int(licence.issued_at.timestamp()),
        "nbf": int(licence.valid_from.timestamp()),
        "licence_type": licence.licence_type.code,
        # Where an offline verifier reads whether it is revoked or suspended (IETF Token Status List).
        "status": {"status_list": {"idx": licence.status_index,
                                   "uri": status_list_url(licence.issuer, StatusList.Purpose.TOKEN)}},
    }
    if licence.valid_until is not None:
        claims["exp"] = int(licence.valid_until.timestamp())
    return claims


def _issuer_id(issuer: Department) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/api/v1/kernel/departments#{issuer.uscc}"


def _status_lists(issuer: Department) -> dict[str, StatusList]:
    """Return the issuer's status lists by purpose, locked, creating them (empty) the first time."""
    now = timezone.now()
    lists = {}
    for purpose in STATUS_PURPOSES:
        StatusList.objects.get_or_create(issuer=issuer, purpose=purpose, defaults={"updated_at": now})
    for item in StatusList.objects.select_for_update().filter(issuer=issuer).order_by("purpose"):
        lists[item.purpose] = item
    return lists


def _sign_status_list(status_list: StatusList, key: SealKey, length: int) -> None:
    """Re-sign ``status_list`` from the licences' statuses now (inside the caller's transaction)."""
    if status_list.purpose == StatusList.Purpose.TOKEN:
        _sign_token_status_list(status_list, key, length)
        return
    wanted = Licence.Status.REVOKED if status_list.purpose == StatusList.Purpose.REVOCATION \
        else Licence.Status.SUSPENDED
    positions = Licence.objects.filter(issuer=status_list.issuer, status=wanted).values_list("status_index",
                                                                                             flat=True)
    now = timezone.now()
    url = status_list_url(status_list.issuer, status_list.purpose)
    credential = {
        "@context": [jose.VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": {"id": _issuer_id(status_list.issuer), "name": status_list.issuer.name},
        "validFrom": now.isoformat(),
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList",
                              "statusPurpose": status_list.purpose, "ttl": STATUS_LIST_TTL_SECONDS * 1000,
                              "encodedList": status.encode_list(positions, length=length)},
        "iss": _issuer_id(status_list.issuer),
        "iat": int(now.timestamp()),
    }
    status_list.credential = jose.sign_jwt(credential, key=key)
    status_list.updated_at = now
    status_list.save(update_fields=["credential", "updated_at"])


def _sign_token_status_list(status_list: StatusList, key: SealKey, length: int) -> None:
    """Re-sign the issuer's Token Status List (draft-ietf-oauth-status-list): both statuses, two bits each."""
    codes: dict[str, int] = {Licence.Status.REVOKED: status.TOKEN_INVALID,
                             Licence.Status.SUSPENDED: status.TOKEN_SUSPENDED}
    statuses = dict(
        (index, codes[value]) for index, value in
        Licence.objects.filter(issuer=status_list.issuer, status__in=list(codes)).values_list("status_index", "status")
    )
    now = timezone.now()
    payload = {
        "sub": status_list_url(status_list.issuer, status_list.purpose),
        "iss": _issuer_id(status_list.issuer),
        "issuer_name": status_list.issuer.name,
        "iat": int(now.timestamp()),
        "ttl": STATUS_LIST_TTL_SECONDS,
        "status_list": {"bits": status.TOKEN_BITS, "lst": status.encode_token_list(statuses, length=length)},
    }
    status_list.credential = jose.sign_jwt(payload, key=key, media_type=TOKEN_STATUS_MEDIA_TYPE)
    status_list.updated_at = now
    status_list.save(update_fields=["credential", "updated_at"])


def _issuable(actor: Any, licence_type: LicenceType | str, issuer: Department) -> LicenceType:
    """Return the licence type if ``actor`` may issue it for ``issuer`` and ``issuer`` issues it; else raise."""
    if not acts_for(actor, issuer.pk, *ISSUING_ROLES):
        raise PermissionDenied(_("Only the issuing department may issue its licences."))
    found = _licence_type(licence_type)
    if issuer.kind != found.issuer_kind:
        raise InvalidInput(_("This department does not issue %(type)s.") % {"type": found.name}, field="issuer")
    return found


def _licence_type(licence_type: LicenceType | str) -> LicenceType:
    if isinstance(licence_type, LicenceType):
        return licence_type
    found = LicenceType.objects.filter(code=licence_type).first()
    if found is None:
        raise InvalidInput(_("There is no such licence type."), field="licence_type")
    return found


def _signing_key(issuer: Department) -> SealKey:
    key = SealKey.objects.filter(seal__department=issuer, use=SealKey.Use.JWT, retired_at__isnull=True).first()
    if key is None:
        raise Conflict(_("The department has no e-seal to sign with."))
    return key


def _sign_and_save(licence_type: LicenceType, holder: Person | LegalEntity, fields: Mapping[str, Any],
                   issuer: Department, key: SealKey, valid_from: datetime | None, reference: str) -> Licence:
    """Sign and store one licence whose issuer, holder and fields were checked (no audit record)."""
    now = timezone.now()
    start = valid_from or now
    licence = Licence(
        id=uuid.uuid4(), licence_type=licence_type, type_version=licence_type.version,
        holder_person=holder if isinstance(holder, Person) else None,
        holder_entity=holder if isinstance(holder, LegalEntity) else None,
        issuer=issuer, seal_key=key, issued_at=now, valid_from=start, valid_until=valid_until(licence_type, start),
        status_index=0, reference=" ".join(str(reference or "").split())[:200],
    )
    lists = _status_lists(issuer)
    revocation = lists[StatusList.Purpose.REVOCATION]
    licence.status_index = revocation.next_index
    StatusList.objects.filter(pk=revocation.pk).update(next_index=revocation.next_index + 1)
    # A list is signed when it is new and grows by 131,072 positions when the last is handed out.
    for status_list in lists.values():
        if not status_list.credential or licence.status_index % status.MINIMUM_BITS == 0:
            _sign_status_list(status_list, key, length=licence.status_index + 1)
    clean = json.loads(json.dumps(dict(fields), ensure_ascii=False))
    licence.fields = json.dumps(clean, ensure_ascii=False, sort_keys=True)
    licence.credential = jose.sign_jwt(_credential(licence, clean), key=key)
    licence.sd_jwt = sdjwt.issue(_sd_jwt_claims(licence), clean, disclosable=licence_type.disclosable, key=key)
    licence.save(force_insert=True)
    return licence


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
    department has no e-seal or a licence of the type was issued for
    ``reference`` (a case number, say) already.
    """
    licence_type = _issuable(actor, licence_type, issuer)
    wanted_holder = Person if licence_type.holder_type == LicenceType.HolderType.PERSON else LegalEntity
    if not isinstance(holder, wanted_holder):
        raise InvalidInput(_("This licence is held by a person.") if wanted_holder is Person
                           else _("This licence is held by a legal entity."), field="holder")
    problem = _fields_error(licence_type, fields)
    if problem:
        raise InvalidInput(problem, field="fields")
    key = _signing_key(issuer)
    reference = " ".join(str(reference or "").split())[:200]
    if reference and Licence.objects.filter(issuer=issuer, licence_type=licence_type, reference=reference).exists():
        raise Conflict(_("A licence of this type was issued for this reference already."))
    licence = _sign_and_save(licence_type, holder, fields, issuer, key, valid_from, reference)
    audit.record("credentials.licence.issued", actor=actor, target=f"licence:{licence.id}",
                 details={"type": licence_type.code, "issuer": issuer.pk, "key": key.key_id,
                          "status_index": licence.status_index})
    return licence


def issue_licence_by_keys(
    *, actor: Any, licence_type: str, holder: str, fields: Mapping[str, Any], issuer: str | None = None,
    valid_from: datetime | None = None, reference: str = "",
) -> Licence:
    """Issue a licence naming the holder by ID number or USCC and the issuer by USCC; return it.

    For department systems calling the API: ``issuer`` defaults to the
    department the actor acts for when it acts for exactly one (a system
    does). Otherwise as ``issue_licence``; InvalidInput also for an issuer or
    a holder the registries do not know.
    """
    department: Department | None
    if issuer:
        department = Department.objects.filter(uscc=str(issuer).strip().upper()).first()
    else:
        acting = getattr(actor, "department_ids", None)
        ids = acting(*ISSUING_ROLES) if callable(acting) else frozenset()
        department = Department.objects.filter(pk=next(iter(ids))).first() if len(ids) == 1 else None
    if department is None:
        raise InvalidInput(_("Name the issuing department by its unified social credit code."), field="issuer")
    kind = _issuable(actor, licence_type, department)
    found = _import_holder(kind, holder)
    if found is None:
        raise InvalidInput(_("The registries have no holder with this key."), field="holder")
    return issue_licence(actor=actor, licence_type=kind, holder=found, fields=fields, issuer=department,
                         valid_from=valid_from, reference=reference)


# -- status ---------------------------------------------------------------------------------------


def _change_status(licence: Licence, *, actor: Any, reason: str, to: str, allowed_from: tuple[str, ...],
                   action: str) -> Licence:
    if not acts_for(actor, licence.issuer_id, *ISSUING_ROLES):
        raise PermissionDenied(_("Only the issuing department may change the status of its licences."))
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise InvalidInput(_("Say why the licence's status changes."), field="reason")
    if len(reason) > 500:
        raise InvalidInput(_("Keep the reason under 500 characters."), field="reason")
    locked = Licence.objects.select_for_update().select_related("issuer").get(pk=licence.pk)
    if locked.status not in allowed_from:
        raise Conflict(_("The licence is %(status)s; that cannot change this way.")
                       % {"status": locked.get_status_display()})
    key = SealKey.objects.filter(seal__department_id=locked.issuer_id, use=SealKey.Use.JWT,
                                 retired_at__isnull=True).first()
    if key is None:
        raise Conflict(_("The department has no e-seal to sign with."))
    previous = locked.status
    locked.status, locked.status_reason, locked.status_changed_at = to, reason, timezone.now()
    locked.save(update_fields=["status", "status_reason", "status_changed_at"])
    lists = _status_lists(locked.issuer)
    length = lists[StatusList.Purpose.REVOCATION].next_index
    for status_list in lists.values():
        _sign_status_list(status_list, key, length=length)
    audit.record(action, actor=actor, target=f"licence:{locked.id}",
                 details={"from": previous, "to": to, "reason": reason})
    return locked


@transaction.atomic
def revoke_licence(licence: Licence, *, actor: Any, reason: str) -> Licence:
    """Revoke a valid or suspended licence for good; the issuer's status lists say so at once.

    Raise PermissionDenied unless the actor signs for the issuer; InvalidInput
    without a reason; Conflict if the licence is revoked already.
    """
    return _change_status(licence, actor=actor, reason=reason, to=Licence.Status.REVOKED,
                          allowed_from=(Licence.Status.VALID, Licence.Status.SUSPENDED),
                          action="credentials.licence.revoked")


@transaction.atomic
def suspend_licence(licence: Licence, *, actor: Any, reason: str) -> Licence:
    """Suspend a valid licence until it is reinstated (or revoked); errors as ``revoke_licence``."""
    return _change_status(licence, actor=actor, reason=reason, to=Licence.Status.SUSPENDED,
                          allowed_from=(Licence.Status.VALID,), action="credentials.licence.suspended")


@transaction.atomic
def reinstate_licence(licence: Licence, *, actor: Any, reason: str) -> Licence:
    """Make a suspended licence valid again (a revoked one stays revoked); errors as ``revoke_licence``."""
    return _change_status(licence, actor=actor, reason=reason, to=Licence.Status.VALID,
                          allowed_from=(Licence.Status.SUSPENDED,), action="credentials.licence.reinstated")


# -- verification ---------------------------------------------------------------------------------


def _fetch_status_list(url: str) -> str:
    """Return the signed status list published at ``url``, read from the database; raise ValueError if none."""
    prefix = f"{settings.PUBLIC_BASE_URL.rstrip('/')}/api/v1/credentials/status/"
    issuer_uscc, _, purpose = str(url).removeprefix(prefix).partition("/")
    credential = status_list_credential(issuer_uscc, purpose) if str(url).startswith(prefix) else None
    if credential is None:
        raise ValueError("not a status list of this platform")
    return credential


def verify_licence_credential(token: str, *, at: datetime | None = None) -> verify.Verdict:
    """Verify a licence credential against this platform's keys, CA and status lists; return the verdict.

    What a relying party would do offline with the published material, done
    for it (the verification API): the status lists are read from the
    database rather than fetched. Writes nothing.
    """
    jwks, trusted_ca_pem = published_keys(), ca_certificates_pem()
    status_of = verify.status_from_lists(_fetch_status_list, jwks=jwks, trusted_ca_pem=trusted_ca_pem, at=at)
    return verify.verify_credential(str(token or "").strip(), jwks=jwks, trusted_ca_pem=trusted_ca_pem, at=at,
                                    status_of=status_of)


# -- importing legacy licences --------------------------------------------------------------------

# Columns of an import file besides the type's fields.
IMPORT_COLUMNS = ("holder", "reference", "valid_from")


def _row_error(row: int, field: str, message: str) -> dict[str, Any]:
    return {"row": row, "field": field, "message": str(message)}


def _import_holder(licence_type: LicenceType, key: Any) -> Person | LegalEntity | None:
    text = str(key or "").strip()
    if licence_type.holder_type == LicenceType.HolderType.PERSON:
        return registries.find_person_by_id_number(registries.normalize_id_number(text)) if text else None
    return registries.find_entity_by_uscc(registries.normalize_uscc(text)) if text else None


def _import_start(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


@transaction.atomic
def import_licences(rows: Iterable[Mapping[str, Any]], *, actor: Any, licence_type: LicenceType | str,
                    issuer: Department) -> tuple[int, int]:
    """Issue legacy licences from rows, all or nothing; return (issued, already imported).

    Each row has ``holder`` (the holder's ID number or USCC), ``reference``
    (the licence's number in the old system: a row whose reference this
    issuer already imported for the type is left out, so a re-run adds
    nothing), optionally ``valid_from`` (a date), and the type's fields by
    name. Every row is checked before anything is issued; if any is bad, raise
    InvalidInput whose ``errors`` list gives ``row`` (from 1), ``field`` and
    ``message``. One audit record covers the batch. Other errors as
    ``issue_licence``.
    """
    licence_type = _issuable(actor, licence_type, issuer)
    key = _signing_key(issuer)
    names = set(licence_type.schema.get("properties", {}))
    rows = list(rows)
    errors: list[dict[str, Any]] = []
    accepted: list[tuple[Person | LegalEntity, dict[str, Any], datetime | None, str]] = []
    first_row_of: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        reference = " ".join(str(row.get("reference") or "").split())
        if not reference or len(reference) > 200:
            errors.append(_row_error(number, "reference", _("Give the licence's number in the old system.")))
            continue
        if reference in first_row_of:
            errors.append(_row_error(number, "reference", _("The same number is in row %(row)d.")
                                     % {"row": first_row_of[reference]}))
            continue
        first_row_of[reference] = number
        unknown = sorted(set(row) - names - set(IMPORT_COLUMNS))
        if unknown:
            errors.append(_row_error(number, unknown[0], _("Unknown column.")))
            continue
        holder = _import_holder(licence_type, row.get("holder"))
        if holder is None:
            errors.append(_row_error(number, "holder", _("No registered holder has this number.")))
            continue
        try:
            start = _import_start(row.get("valid_from"))
        except (TypeError, ValueError):
            errors.append(_row_error(number, "valid_from", _("Give the date as YYYY-MM-DD.")))
            continue
        fields = {name: value.isoformat() if isinstance(value, date) else value
                  for name, value in row.items() if name in names and value not in (None, "")}
        problem = _fields_error(licence_type, fields)
        if problem:
            errors.append(_row_error(number, "fields", problem))
            continue
        accepted.append((holder, fields, start, reference))
    if errors:
        raise InvalidInput(_("%(count)d of %(total)d rows are not valid; nothing was imported.")
                           % {"count": len(errors), "total": len(rows)}, errors=errors[:500],
                           error_count=len(errors))
    done = set(Licence.objects.filter(issuer=issuer, licence_type=licence_type,
                                      reference__in=[entry[3] for entry in accepted])
               .values_list("reference", flat=True))
    issued = [_sign_and_save(licence_type, holder, fields, issuer, key, start, reference)
              for holder, fields, start, reference in accepted if reference not in done]
    if issued:
        audit.record("credentials.licences.imported", actor=actor, target=f"licence-type:{licence_type.code}",
                     details={"issuer": issuer.pk, "count": len(issued), "skipped": len(done),
                              "key": key.key_id})
    return len(issued), len(done)


# -- shares (亮证) ----------------------------------------------------------------------------------

# How long a holder may let a link show a licence.
SHARE_DURATIONS = {"10m": timedelta(minutes=10), "1h": timedelta(hours=1), "1d": timedelta(days=1),
                   "7d": timedelta(days=7)}


def holds(actor: Any, licence: Licence) -> bool:
    """Return True if ``actor`` is the licence's holder, or acts for the entity that holds it."""
    if licence.holder_person_id is not None:
        return getattr(actor, "person_id", None) == licence.holder_person_id
    entity_id = licence.holder_entity_id
    return (isinstance(actor, Account) and entity_id is not None
            and identity.acting_entities(actor).filter(pk=entity_id).exists())


@transaction.atomic
def share_licence(licence: Licence, *, actor: Any, fields: Iterable[str], duration: str) -> tuple[Share, str]:
    """Let a link show ``licence`` with the disclosable ``fields`` for ``duration``; return the share and its token.

    Fields the type does not let a holder disclose are refused, as is a
    revoked licence. Raise PermissionDenied unless the actor holds the
    licence; InvalidInput for an unknown field or duration; Conflict for a
    revoked licence.
    """
    if not holds(actor, licence):
        raise PermissionDenied(_("Only the holder may share a licence."))
    shown = sorted(set(fields))
    allowed = set(licence.licence_type.disclosable)
    if set(shown) - allowed:
        raise InvalidInput(_("These fields cannot be shown selectively: %(fields)s.")
                           % {"fields": ", ".join(sorted(set(shown) - allowed))}, field="fields")
    if duration not in SHARE_DURATIONS:
        raise InvalidInput(_("Choose how long the link works."), field="duration")
    if licence.status == Licence.Status.REVOKED:
        raise Conflict(_("A revoked licence cannot be shown."))
    token = secrets.token_urlsafe(24)
    now = timezone.now()
    share = Share.objects.create(licence=licence, token=token, token_digest=share_digest(token),
                                 shown_fields=shown, created_at=now, expires_at=now + SHARE_DURATIONS[duration])
    audit.record("credentials.licence.shared", actor=actor, target=f"licence:{licence.id}",
                 details={"share": share.pk, "fields": shown, "expires_at": share.expires_at.isoformat()})
    return share, token


def share_url(token: str) -> str:
    """Return the public page a share's link (or a PDF's QR code) opens: the portal's ``/v/<token>/``."""
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/v/{token}/"


@transaction.atomic
def withdraw_share(share: Share, *, actor: Any) -> Share:
    """End a share at once; withdrawing it again changes nothing. Raise PermissionDenied unless the holder."""
    if not holds(actor, share.licence):
        raise PermissionDenied(_("Only the holder may withdraw a share."))
    locked = Share.objects.select_for_update().get(pk=share.pk)
    if locked.withdrawn_at is None:
        locked.withdrawn_at = timezone.now()
        locked.save(update_fields=["withdrawn_at"])
        audit.record("credentials.licence.share_withdrawn", actor=actor, target=f"licence:{locked.licence_id}",
                     details={"share": locked.pk})
    return locked



@dataclass(frozen=True)
class SharedField:
    """One field as a share shows it: its name, its titles and its value."""

    name: str
    title: str
    title_en: str
    value: Any


@dataclass(frozen=True)
class SharedLicence:
    """What a share link shows: the verdict on the presented credential and only the fields it discloses.

    ``outcome`` is a verification outcome (``valid``, ``expired``, ``revoked``,
    ``suspended``, ``forged``, …) or ``share_ended`` (withdrawn or past its
    time: nothing of the licence is shown).
    """

    outcome: str
    licence_type: LicenceType
    issuer_name: str
    fields: list[SharedField]
    expires_at: datetime
    # A link the holder made, or the QR code of the licence's PDF (``Share.Kind``).
    kind: str = Share.Kind.LINK


@transaction.atomic
def open_share(token: str, *, actor: Any = None) -> SharedLicence | None:
    """Verify what the share ``token`` shows and return it; None for a token that names no share.

    The holder's SD-JWT is presented with the share's fields only and
    verified like any relying party would (published keys, the CA, the
    issuer's Token Status List), and the licence's status is also taken from
    the issuer's records. Each opening of an open
    share is audited, as it discloses personal data.
    """
    share = share_by_token(token)
    if share is None:
        return None
    licence, now = share.licence, timezone.now()
    if not share.is_open(now):
        return SharedLicence(outcome="share_ended", licence_type=licence.licence_type, issuer_name="", fields=[],
                             expires_at=share.expires_at, kind=share.kind)
    presentation = sdjwt.present(licence.sd_jwt, share.shown_fields)
    jwks, trusted_ca_pem = published_keys(), ca_certificates_pem()
    token_status = verify.token_status_from_lists(_fetch_status_list, jwks=jwks, trusted_ca_pem=trusted_ca_pem,
                                                  at=now)

    def status_of(claims: Mapping[str, Any]) -> str | None:
        # Licences issued before SD-JWT VCs carried a status claim rely on the records below.
        return token_status(claims) if "status" in claims else None

    verdict = sdjwt.verify(presentation, jwks=jwks, trusted_ca_pem=trusted_ca_pem, at=now, status_of=status_of)
    outcome = verdict.outcome
    if outcome == "valid" and licence.status != Licence.Status.VALID:
        outcome = licence.status
    properties = licence.licence_type.schema.get("properties", {})
    claims = verdict.claims or {}
    fields = [
        SharedField(name=name, title=properties[name].get("title", name),
                    title_en=properties[name].get("x-title-en", name), value=claims[name])
        for name in licence.licence_type.field_order() if name in claims
    ] if outcome != "forged" else []
    audit.record("credentials.licence.share_opened", actor=actor, target=f"licence:{licence.id}",
                 details={"share": share.pk, "outcome": outcome})
    return SharedLicence(outcome=outcome, licence_type=licence.licence_type, issuer_name=verdict.issuer_name,
                         fields=fields, expires_at=share.expires_at, kind=share.kind)


# -- reuse by cases (一证通用) ----------------------------------------------------------------------


@dataclass(frozen=True)
class LicenceUse:
    """A holder's valid licence as a case reads it instead of an upload, verified, with its call number."""

    licence_id: uuid.UUID
    licence_type: LicenceType
    issuer_name: str
    fields: dict[str, Any]
    valid_until: datetime | None
    call: int


def use_licence(
    holder: Person | LegalEntity,
    *,
    actor: Any,
    department: Department,
    licence_type: LicenceType | str,
    purpose: str,
    case_id: str,
    fields: Iterable[str] | None = None,
) -> LicenceUse | None:
    """Find the holder's valid licence of a type for a case of ``department``; return it, or None.

    The newest licence of the type that is valid now and whose signed
    credential verifies (signature, chain, validity, status list) is read, and
    only ``fields`` of it (all by default). ``actor`` is an officer of
    ``department`` or its system. Every use, found or not, is written to the
    exchange call log with the purpose and case id, so it shows on the
    holder's "who used my data" page.

    Raise PermissionDenied for an actor who does not act for ``department``;
    InvalidInput for a missing purpose or case id, an unknown licence type, a
    holder of the wrong kind or a field the type does not have (nothing is
    logged then).
    """
    if not acts_for(actor, department.pk):
        raise PermissionDenied(_("Only an officer or a system of the department may use a licence for its case."))
    purpose, case_id = " ".join(str(purpose or "").split()), " ".join(str(case_id or "").split())
    if not purpose or not case_id:
        raise InvalidInput(_("Name the purpose and the case the licence is used for."))
    kind = _licence_type(licence_type)
    is_person = isinstance(holder, Person)
    if kind.holder_type != (LicenceType.HolderType.PERSON if is_person else LicenceType.HolderType.LEGAL_ENTITY):
        raise InvalidInput(_("Licences of this type are not held by this kind of holder."))
    known = kind.field_order()
    wanted = list(dict.fromkeys(fields)) if fields is not None else known
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise InvalidInput(_("The licence type has no field %(field)s.") % {"field": unknown[0]})
    now = timezone.now()
    held = licences_held_by(**({"person_id": holder.pk} if is_person else {"entity_id": holder.pk}))
    candidates = held.filter(licence_type=kind, status=Licence.Status.VALID, valid_from__lte=now).exclude(
        valid_until__lte=now)
    found: Licence | None = None
    verdict: verify.Verdict | None = None
    for licence in candidates:
        verdict = verify_licence_credential(licence.credential, at=now)
        if verdict.is_valid:
            found = licence
            break
    answer = None
    if found is not None and verdict is not None:
        subject = dict((verdict.claims or {}).get("credentialSubject") or {})
        answer = {name: subject.get(name) for name in wanted}
    call = exchange.log_licence_use(
        actor=actor, department_id=department.pk, licence_type_code=kind.code,
        person_id=holder.pk if is_person else None, entity_id=None if is_person else holder.pk,
        fields=wanted if answer is not None else [], purpose=purpose, case_id=case_id, answer=answer,
    )
    if found is None or answer is None or verdict is None:
        return None
    return LicenceUse(licence_id=found.id, licence_type=kind, issuer_name=verdict.issuer_name, fields=answer,
                      valid_until=found.valid_until, call=call)


def licence_type_names(codes: Iterable[str]) -> dict[str, str]:
    """Return the names of the licence types that ``codes`` (call-log resource codes) name, by code.

    A licence use is logged as ``licence:<type code>``; other codes are ignored.
    """
    prefix = exchange.LICENCE_RESOURCE_PREFIX
    wanted = {code.removeprefix(prefix): code for code in codes if str(code).startswith(prefix)}
    return {wanted[code]: name for code, name in
            LicenceType.objects.filter(code__in=wanted).values_list("code", "name")}


# -- signed PDFs ----------------------------------------------------------------------------------

# A PDF's QR code verifies until the licence expires, and for ten years at most (a licence valid until
# revoked included): a later download makes a new code.
DOCUMENT_SHARE_LIMIT = timedelta(days=3653)
PDF_SIGNATURE_REASON = "电子证照签发 Electronic licence issued"


def _document_share(licence: Licence, now: datetime) -> tuple[Share, bool]:
    """Return the licence's open document share, or a new one; and whether it is new (the licence is locked)."""
    share = (licence.shares.filter(kind=Share.Kind.DOCUMENT, withdrawn_at__isnull=True, expires_at__gt=now)
             .order_by("-created_at").first())
    if share is not None:
        return share, False
    until = now + DOCUMENT_SHARE_LIMIT
    if licence.valid_until is not None:
        until = min(until, licence.valid_until)
    token = secrets.token_urlsafe(24)
    # Every field the licence discloses selectively: the page shows all that the PDF prints.
    shown = sorted(sdjwt.disclosed_names(licence.sd_jwt))
    share = Share.objects.create(licence=licence, kind=Share.Kind.DOCUMENT, token=token,
                                 token_digest=share_digest(token), shown_fields=shown, created_at=now,
                                 expires_at=until)
    return share, True


def _printable(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _licence_document(licence: Licence, share: Share) -> pdf.LicenceDocument:
    licence_type = licence.licence_type
    properties = licence_type.schema.get("properties", {})
    values = json.loads(licence.fields)
    printed = tuple(
        pdf.PrintedField(title=properties[name].get("title") or name, title_en=properties[name].get("x-title-en", ""),
                         value=_printable(values[name]))
        for name in licence_type.field_order() if name in values
    )
    layout = licence_type.layout or {}
    return pdf.LicenceDocument(
        title=layout.get("title") or licence_type.name, title_en=layout.get("title_en") or licence_type.name_en,
        fields=printed, issuer_name=licence.issuer.name, seal_name=licence.issuer.name,
        reference=licence.reference, licence_id=str(licence.id),
        issued_on=timezone.localdate(licence.issued_at), valid_from=timezone.localdate(licence.valid_from),
        valid_until=timezone.localdate(licence.valid_until) if licence.valid_until else None,
        verify_url=share_url(share.token), landscape=layout.get("orientation") == "landscape",
    )


@transaction.atomic
def licence_pdf(licence: Licence, *, actor: Any) -> bytes:
    """Return ``licence`` as a PDF signed with its issuer's e-seal (PAdES B-B), with a QR code to verify it.

    The QR code opens the public verification page of the licence's document
    share: made by the first download (it shows every field the PDF prints
    and ends when the licence expires, ten years at most) and reused by later
    ones, so that every copy carries the same code; once the holder withdraws
    it, the next download makes a new one. The signature is made by the
    issuer's active PDF seal key through the CryptoProvider. Raise
    PermissionDenied unless the actor holds the licence, acts for its issuer
    or is the platform; Conflict for a revoked or expired licence or an issuer
    without a PDF seal key; ImproperlyConfigured when the PDF font is missing.
    """
    if not (holds(actor, licence) or acts_for(actor, licence.issuer_id)):
        raise PermissionDenied(_("Only the holder or the issuing department may download the licence."))
    locked = Licence.objects.select_for_update().select_related("licence_type", "issuer").get(pk=licence.pk)
    now = timezone.now()
    if locked.status == Licence.Status.REVOKED:
        raise Conflict(_("A revoked licence cannot be downloaded."))
    if locked.valid_until is not None and locked.valid_until <= now:
        raise Conflict(_("The licence has expired; it cannot be downloaded."))
    key = (SealKey.objects.select_related("issuer")
           .filter(seal__department_id=locked.issuer_id, use=SealKey.Use.PDF, retired_at__isnull=True).first())
    if key is None:
        raise Conflict(_("The department has no e-seal to sign with."))
    share, created = _document_share(locked, now)
    signer = pdf.ProviderSigner(provider=get_crypto_provider(), handle=key.key_handle, purpose=SEAL_PURPOSE,
                                certificate_pem=key.certificate_pem, chain_pem=key.issuer.certificate_pem)
    document = pdf.sign(pdf.render(_licence_document(locked, share)), signer=signer, reason=PDF_SIGNATURE_REASON)
    audit.record("credentials.licence.pdf_downloaded", actor=actor, target=f"licence:{locked.id}",
                 details={"share": share.pk, "share_created": created, "key": key.key_id,
                          "expires_at": share.expires_at.isoformat()})
    return document
