"""Accounts, real-name binding, sign-in, second factors, officers and delegations.

Every write here runs in one transaction and leaves one audit record. Failures
that must be remembered even though the caller is refused (failed sign-ins,
lockouts) are committed before the refusal is raised.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.identity.models import Account, Appointment, Delegation, Role, new_security_stamp
from tongban.kernel import audit
from tongban.kernel.actors import acts_for, is_system
from tongban.kernel.models import AuditRecord, Department, Position
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied, Problem
from tongban.registries import services as registries
from tongban.registries.models import LegalEntity, Person

__all__ = [
    "SignInFailed",
    "acting_entities",
    "appoint_officer",
    "bind_real_name",
    "can_act_for",
    "change_password",
    "confirm_totp",
    "create_officer",
    "delegate_entity",
    "enroll_totp",
    "provisioning_uri",
    "register_citizen",
    "revoke_appointment",
    "revoke_delegation",
    "sign_in",
    "sign_out_everywhere",
    "verify_second_factor",
]

TOTP_ISSUER = "Tongban"


class SignInFailed(Problem):
    """Sign-in refused. The message is the same whether or not the account exists."""

    status = 401
    slug = "sign-in-failed"
    title = "Sign-in failed"

    def __init__(self) -> None:
        super().__init__(
            _("The username or password is wrong, or sign-in is temporarily locked. Try again later.")
        )


def _validated_password(password: str, account: Account | None = None) -> str:
    try:
        validate_password(password, account)
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages), field="password") from error
    return password


def _real_name_match(name: str, id_number: str) -> Person:
    person = registries.match_real_name(name=name.strip(), id_number=id_number.strip())
    if person is None:
        raise InvalidInput(
            _("The name and ID number do not match the population registry."), field="id_number"
        )
    if Account.objects.filter(person=person).exists():
        raise Conflict(_("This identity is already bound to another account."), field="id_number")
    return person


@transaction.atomic
def register_citizen(
    *, actor: Any = None, username: str, password: str, name: str, id_number: str, email: str = ""
) -> Account:
    """Create a citizen account bound to a person in the registry (实名注册).

    Raise InvalidInput when the username is malformed, the password too weak or
    the name and ID number match no living person; Conflict when the username is
    taken or the person already has an account. Nothing is created on refusal.
    """
    username = username.strip()
    if not username or len(username) > 150 or not all(c.isalnum() or c in "._-@" for c in username):
        raise InvalidInput(_("Choose a username of letters, digits and . _ - @ only."), field="username")
    candidate = Account(username=username, email=email)
    _validated_password(password, candidate)
    person = _real_name_match(name, id_number)
    if Account.objects.filter(username__iexact=username).exists():
        raise Conflict(_("This username is taken. Choose another."), field="username")
    now = timezone.now()
    try:
        with transaction.atomic():
            account = Account.objects.create(
                username=username,
                email=email,
                password=make_password(password),
                kind=Account.Kind.CITIZEN,
                person=person,
                real_name_verified_at=now,
                assurance_level=Account.Assurance.REAL_NAME,
            )
    except IntegrityError as error:  # a concurrent registration won the race
        raise Conflict(_("This username or identity is already registered.")) from error
    audit.record("identity.account.registered", actor=actor or account, target=account.audit_name,
                 details={"assurance_level": account.assurance_level})
    return account


@transaction.atomic
def bind_real_name(account: Account, *, actor: Account, name: str, id_number: str) -> Account:
    """Bind an existing account to its person in the registry; raise as register_citizen does."""
    if actor.pk != account.pk:
        raise PermissionDenied(_("Only the account holder can bind their real name."))
    if account.is_real_name_verified:
        raise Conflict(_("This account is already real-name verified."))
    person = _real_name_match(name, id_number)
    account.person = person
    account.real_name_verified_at = timezone.now()
    account.assurance_level = max(account.assurance_level, Account.Assurance.REAL_NAME)
    account.save(update_fields=["person", "real_name_verified_at", "assurance_level"])
    audit.record("identity.account.real_name_bound", actor=actor, target=account.audit_name)
    return account


def _record_failure(account: Account | None, *, reason: str) -> None:
    """Count a failed attempt and lock the account at the limit (committed on its own)."""
    with transaction.atomic():
        details: dict[str, Any] = {"reason": reason}
        if account is not None:
            Account.objects.filter(pk=account.pk).update(failed_sign_ins=F("failed_sign_ins") + 1)
            failures = Account.objects.values_list("failed_sign_ins", flat=True).get(pk=account.pk)
            details["failures"] = failures
            if failures >= settings.SIGN_IN_MAX_FAILURES:
                locked_until = timezone.now() + timedelta(seconds=settings.SIGN_IN_LOCK_SECONDS)
                Account.objects.filter(pk=account.pk).update(locked_until=locked_until, failed_sign_ins=0)
                details["locked"] = True
        audit.record(
            "identity.sign_in",
            actor=account if account is not None else "anonymous",
            target=account.audit_name if account is not None else "account:unknown",
            result=AuditRecord.Result.FAILURE,
            details=details,
        )


def _is_locked(account: Account, now: datetime) -> bool:
    return account.locked_until is not None and account.locked_until > now


def sign_in(*, username: str, password: str, kind: str = Account.Kind.CITIZEN) -> Account:
    """Check a username and password and return the account.

    Officers must then pass ``verify_second_factor`` before a session starts.
    Raise SignInFailed (one message for every cause) when the account is
    unknown, of another kind, inactive, locked, or the password is wrong.
    """
    account = Account.objects.filter(username__iexact=username.strip()).first()
    now = timezone.now()
    if account is None or not account.is_active or account.kind != kind:
        # Hash anyway so that timing does not tell whether the account exists.
        make_password(password)
        _record_failure(account, reason="no such account or not allowed here")
        raise SignInFailed()
    if _is_locked(account, now):
        make_password(password)
        _record_failure(account, reason="locked")
        raise SignInFailed()
    if not account.check_password(password):
        _record_failure(account, reason="wrong password")
        raise SignInFailed()
    if kind == Account.Kind.CITIZEN:
        _record_success(account, factor="password")
    return account


def _record_success(account: Account, *, factor: str) -> None:
    with transaction.atomic():
        Account.objects.filter(pk=account.pk).update(failed_sign_ins=0, last_login=timezone.now())
        audit.record("identity.sign_in", actor=account, target=account.audit_name, details={"factor": factor})


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, issuer=TOTP_ISSUER)


def verify_second_factor(account: Account, *, code: str) -> Account:
    """Accept a TOTP code for an account that passed its password; return the account.

    A code is accepted once only (replay refused) and within one 30-second step
    of the clock. Failures count towards the lockout like wrong passwords.
    """
    now = timezone.now()
    account.refresh_from_db()
    secret = account.totp_secret
    if _is_locked(account, now) or not secret:
        _record_failure(account, reason="locked" if secret else "no second factor")
        raise SignInFailed()
    totp = _totp(secret)
    code = code.strip().replace(" ", "")
    matched_step = None
    for offset in (-1, 0, 1):
        step = int(now.timestamp()) // totp.interval + offset
        if code.isdigit() and totp.at(step * totp.interval) == code:
            matched_step = step
            break
    # Compare-and-set on the last step so a replayed or concurrent code fails.
    if matched_step is None or not Account.objects.filter(
        pk=account.pk, totp_last_step__lt=matched_step
    ).update(totp_last_step=matched_step):
        _record_failure(account, reason="wrong second factor")
        raise SignInFailed()
    _record_success(account, factor="totp")
    account.refresh_from_db()
    return account


@transaction.atomic
def enroll_totp(account: Account, *, actor: Any, secret: str | None = None) -> str:
    """Give the account a new TOTP secret (unconfirmed for citizens) and return it."""
    if not is_system(actor) and getattr(actor, "pk", None) != account.pk:
        raise PermissionDenied(_("Only the account holder can enroll a second factor."))
    secret = secret or pyotp.random_base32()
    account.totp_secret = secret
    account.totp_confirmed_at = timezone.now() if account.is_officer else None
    account.totp_last_step = 0
    account.save(update_fields=["totp_secret", "totp_confirmed_at", "totp_last_step"])
    audit.record("identity.totp.enrolled", actor=actor, target=account.audit_name)
    return secret


@transaction.atomic
def confirm_totp(account: Account, *, actor: Account, code: str) -> Account:
    """Confirm a citizen's TOTP enrolment with a first code; raise assurance to level 3."""
    if actor.pk != account.pk:
        raise PermissionDenied(_("Only the account holder can confirm a second factor."))
    if not account.totp_secret or not _totp(account.totp_secret).verify(code.strip(), valid_window=1):
        raise InvalidInput(_("The code is not valid. Check your authenticator app's clock."), field="code")
    account.totp_confirmed_at = timezone.now()
    if account.is_real_name_verified:
        account.assurance_level = Account.Assurance.SECOND_FACTOR
    account.save(update_fields=["totp_confirmed_at", "assurance_level"])
    audit.record("identity.totp.confirmed", actor=actor, target=account.audit_name,
                 details={"assurance_level": account.assurance_level})
    return account


def provisioning_uri(account: Account) -> str:
    """Return the otpauth:// URI an authenticator app scans to enroll."""
    return _totp(account.totp_secret or "").provisioning_uri(name=account.username, issuer_name=TOTP_ISSUER)


def _may_appoint(actor: Any, department: Department, role: str) -> bool:
    if is_system(actor):
        return True
    roles = actor.roles() if callable(getattr(actor, "roles", None)) else frozenset()
    if Role.PLATFORM_ADMIN in roles:
        return True
    # Department administrators appoint within their department, never platform admins.
    return role != Role.PLATFORM_ADMIN and acts_for(actor, department.pk, Role.DEPARTMENT_ADMIN)


@transaction.atomic
def create_officer(
    *,
    actor: Any,
    username: str,
    password: str,
    department: Department,
    roles: list[str],
    totp_secret: str | None = None,
    position: Position | None = None,
) -> Account:
    """Create an officer account with its roles and a TOTP secret (mandatory for officers).

    Raise PermissionDenied unless the actor may appoint to ``department``,
    InvalidInput for a weak password or unknown role, Conflict for a taken username.
    """
    if not roles or any(role not in Role.values for role in roles):
        raise InvalidInput(_("Give at least one known role."), field="roles")
    for role in roles:
        if not _may_appoint(actor, department, role):
            raise PermissionDenied(_("You may not appoint officers to this department."))
    if Account.objects.filter(username__iexact=username).exists():
        raise Conflict(_("This username is taken. Choose another."), field="username")
    candidate = Account(username=username)
    _validated_password(password, candidate)
    account = Account.objects.create(
        username=username,
        password=make_password(password),
        kind=Account.Kind.OFFICER,
        is_staff=Role.PLATFORM_ADMIN in roles,
        totp_secret=totp_secret or pyotp.random_base32(),
        totp_confirmed_at=timezone.now(),
        assurance_level=Account.Assurance.SECOND_FACTOR,
    )
    for role in roles:
        Appointment.objects.create(account=account, department=department, role=role, position=position)
    audit.record(
        "identity.officer.created",
        actor=actor,
        target=account.audit_name,
        details={"department": department.pk, "roles": sorted(roles)},
    )
    return account


@transaction.atomic
def appoint_officer(
    account: Account, *, actor: Any, department: Department, role: str, position: Position | None = None
) -> Appointment:
    """Give an officer a role in a department; raise PermissionDenied or Conflict."""
    if role not in Role.values:
        raise InvalidInput(_("Unknown role."), field="role")
    if not account.is_officer:
        raise InvalidInput(_("Only officer accounts hold roles."))
    if not _may_appoint(actor, department, role):
        raise PermissionDenied(_("You may not appoint officers to this department."))
    appointment, created = Appointment.objects.get_or_create(
        account=account, department=department, role=role, defaults={"position": position}
    )
    if not created:
        raise Conflict(_("The officer already holds this role."))
    if role == Role.PLATFORM_ADMIN and not account.is_staff:
        Account.objects.filter(pk=account.pk).update(is_staff=True)
    audit.record("identity.role.granted", actor=actor, target=account.audit_name,
                 details={"department": department.pk, "role": role})
    return appointment


@transaction.atomic
def revoke_appointment(appointment: Appointment, *, actor: Any) -> None:
    """Take a role away from an officer; raise PermissionDenied."""
    if not _may_appoint(actor, appointment.department, appointment.role):
        raise PermissionDenied(_("You may not change this department's officers."))
    account = appointment.account
    details = {"department": appointment.department_id, "role": appointment.role}
    appointment.delete()
    if details["role"] == Role.PLATFORM_ADMIN and not account.appointments.filter(role=Role.PLATFORM_ADMIN).exists():
        Account.objects.filter(pk=account.pk).update(is_staff=False)
    audit.record("identity.role.revoked", actor=actor, target=account.audit_name, details=details)


@transaction.atomic
def change_password(account: Account, *, actor: Account, old_password: str, new_password: str) -> Account:
    """Change the password and end every other session of the account.

    Raise InvalidInput when the old password is wrong or the new one is weak.
    """
    if actor.pk != account.pk:
        raise PermissionDenied(_("Only the account holder can change the password."))
    if not account.check_password(old_password):
        raise InvalidInput(_("The current password is wrong."), field="old_password")
    _validated_password(new_password, account)
    account.set_password(new_password)
    account.security_stamp = new_security_stamp()
    account.save(update_fields=["password", "security_stamp"])
    audit.record("identity.password.changed", actor=actor, target=account.audit_name)
    return account


@transaction.atomic
def sign_out_everywhere(account: Account, *, actor: Account) -> Account:
    """End every session of the account, on every device, including this one."""
    if actor.pk != account.pk and not actor.has_perm("identity.view_account"):
        raise PermissionDenied(_("You may not sign this account out."))
    account.security_stamp = new_security_stamp()
    account.save(update_fields=["security_stamp"])
    audit.record("identity.sessions.ended", actor=actor, target=account.audit_name)
    return account


def acting_entities(account: Account) -> QuerySet[LegalEntity]:
    """Return the entities the account may act for: as legal representative or by delegation."""
    if account.person_id is None:
        return LegalEntity.objects.none()
    now = timezone.now()
    return (
        LegalEntity.objects.filter(
            Q(legal_representative_id=account.person_id)
            | Q(delegations__delegate=account, delegations__revoked_at__isnull=True,
                delegations__valid_until__gt=now)
        )
        .filter(status=LegalEntity.Status.ACTIVE)
        .distinct()
        .order_by("name")
    )


def can_act_for(account: Account, entity_id: int) -> bool:
    return acting_entities(account).filter(pk=entity_id).exists()


@transaction.atomic
def delegate_entity(
    entity: LegalEntity, *, actor: Account, delegate: Account, valid_until: datetime
) -> Delegation:
    """Let another real-name verified person act for the entity until ``valid_until``.

    Only the entity's legal representative may delegate. Raise PermissionDenied
    or InvalidInput (expiry in the past or more than a year ahead, unverified delegate).
    """
    if actor.person_id is None or entity.legal_representative_id != actor.person_id:
        raise PermissionDenied(_("Only the legal representative can delegate."))
    if not delegate.is_real_name_verified or delegate.pk == actor.pk:
        raise InvalidInput(_("The delegate must be another real-name verified person."), field="delegate")
    now = timezone.now()
    if valid_until <= now or valid_until > now + timedelta(days=366):
        raise InvalidInput(_("A delegation ends in the future and within one year."), field="valid_until")
    delegation = Delegation.objects.create(
        entity=entity, delegate=delegate, granted_by=actor, valid_until=valid_until
    )
    audit.record(
        "identity.delegation.granted",
        actor=actor,
        target=f"entity:{entity.pk}",
        details={"delegate": delegate.audit_name, "valid_until": valid_until.isoformat()},
    )
    return delegation


@transaction.atomic
def revoke_delegation(delegation: Delegation, *, actor: Account) -> Delegation:
    """End a delegation now; the legal representative or the delegate may do it."""
    if actor.pk not in (delegation.granted_by_id, delegation.delegate_id) and (
        actor.person_id != delegation.entity.legal_representative_id
    ):
        raise PermissionDenied(_("You may not revoke this delegation."))
    if delegation.revoked_at is not None:
        raise Conflict(_("The delegation is already revoked."))
    delegation.revoked_at = timezone.now()
    delegation.save(update_fields=["revoked_at"])
    audit.record("identity.delegation.revoked", actor=actor, target=f"entity:{delegation.entity_id}",
                 details={"delegate": f"account:{delegation.delegate_id}"})
    return delegation
