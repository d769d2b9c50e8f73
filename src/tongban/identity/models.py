"""Unified identity: accounts, officers' appointments, delegations, department systems."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import Application

from tongban.kernel.fields import EncryptedTextField
from tongban.kernel.models import Department, Position
from tongban.registries.models import LegalEntity, Person

TOTP_PURPOSE = "identity.account.totp_secret"


def new_security_stamp() -> str:
    return secrets.token_hex(16)


class Account(AbstractUser):
    """A sign-in identity: a citizen, an officer or a platform operator.

    A citizen's account becomes real-name verified when it is bound to a person
    in the population registry. ``assurance_level`` records how strongly the
    account holder has been identified; relying parties receive it in the ID
    token. ``security_stamp`` is part of the session hash, so replacing it signs
    the account out everywhere.
    """

    class Kind(models.TextChoices):
        CITIZEN = "citizen", _("Citizen")
        OFFICER = "officer", _("Officer")

    class Assurance(models.IntegerChoices):
        PASSWORD = 1, _("Password only")
        REAL_NAME = 2, _("Real-name verified")
        SECOND_FACTOR = 3, _("Real-name verified with a second factor")

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CITIZEN)
    person = models.OneToOneField(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="account"
    )
    assurance_level = models.PositiveSmallIntegerField(
        choices=Assurance.choices, default=Assurance.PASSWORD
    )
    real_name_verified_at = models.DateTimeField(null=True, blank=True)
    totp_secret = EncryptedTextField(purpose=TOTP_PURPOSE, blank=True, null=True)
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last accepted TOTP time step: a code is never accepted twice.
    totp_last_step = models.BigIntegerField(default=0)
    failed_sign_ins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    security_stamp = models.CharField(max_length=32, default=new_security_stamp)

    @property
    def audit_name(self) -> str:
        return f"account:{self.pk}"

    @property
    def is_real_name_verified(self) -> bool:
        return self.person_id is not None and self.real_name_verified_at is not None

    @property
    def display_name(self) -> str:
        """Return the real name when verified, else the username."""
        return self.person.name if self.is_real_name_verified and self.person else self.username

    def _appointments(self) -> list[tuple[int, str]]:
        # Cached on the instance (one request), never in a module global.
        cached: list[tuple[int, str]] | None = getattr(self, "_appointments_cache", None)
        if cached is None:
            cached = list(self.appointments.values_list("department_id", "role")) if self.pk else []
            self._appointments_cache = cached
        return cached

    def roles(self) -> frozenset[str]:
        """Return every role the account holds in any department."""
        return frozenset(role for _, role in self._appointments())

    def department_ids(self, *roles: str) -> frozenset[int]:
        """Return the departments the account acts for (in any of ``roles``, if given)."""
        return frozenset(
            department_id for department_id, role in self._appointments() if not roles or role in roles
        )

    def has_perm(self, perm: str, obj: models.Model | None = None) -> bool:
        """Grant what the account's roles imply, then Django's own permissions."""
        if self.is_active and any(perm in ROLE_PERMISSIONS.get(role, ()) for role in self.roles()):
            return True
        return super().has_perm(perm, obj)

    @property
    def is_officer(self) -> bool:
        return self.kind == self.Kind.OFFICER

    def get_session_auth_hash(self) -> str:
        from django.utils.crypto import salted_hmac

        return salted_hmac(
            "tongban.identity.Account.session",
            f"{self.password}:{self.security_stamp}",
            algorithm="sha256",
        ).hexdigest()


class Role(models.TextChoices):
    """What an officer may do in their department."""

    WINDOW_OFFICER = "window_officer", _("Window officer")
    REVIEWER = "reviewer", _("Reviewer")
    DEPARTMENT_ADMIN = "department_admin", _("Department administrator")
    DATA_OFFICER = "data_officer", _("Data officer")
    PLATFORM_ADMIN = "platform_admin", _("Platform administrator")


# What each role may do beyond its own department's work. Window officers and
# reviewers check applicants' identities, so they see whole ID numbers; data
# officers and administrators see them masked.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.WINDOW_OFFICER: frozenset({"registries.view_full_id_number"}),
    Role.REVIEWER: frozenset({"registries.view_full_id_number"}),
    Role.DEPARTMENT_ADMIN: frozenset({"identity.add_appointment", "identity.delete_appointment"}),
    Role.DATA_OFFICER: frozenset(),
    Role.PLATFORM_ADMIN: frozenset(
        {
            "identity.add_appointment",
            "identity.delete_appointment",
            "identity.add_departmentsystem",
            "identity.change_departmentsystem",
            "identity.view_account",
            "kernel.view_auditrecord",
            # The notices' outbox in the admin: see failed deliveries and send them again.
            "notices.view_delivery",
            "notices.retry_delivery",
            "kernel.view_calendarday",
            "kernel.add_calendarday",
            "kernel.delete_calendarday",
        }
    ),
}


class Appointment(models.Model):
    """An officer's role in a department (任职), optionally at a named position."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="appointments")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="appointments")
    role = models.CharField(max_length=20, choices=Role.choices)
    position = models.ForeignKey(Position, null=True, blank=True, on_delete=models.SET_NULL)
    appointed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "department", "role"], name="unique_appointment")
        ]

    def __str__(self) -> str:
        return f"{self.account} · {self.department} · {self.role}"


class Delegation(models.Model):
    """A legal representative's permission for another person to act for the entity.

    Valid from creation until ``valid_until`` unless revoked earlier.
    """

    entity = models.ForeignKey(LegalEntity, on_delete=models.CASCADE, related_name="delegations")
    delegate = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="delegations")
    granted_by = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="granted_delegations")
    valid_until = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["delegate", "valid_until"])]

    def __str__(self) -> str:
        return f"{self.delegate} for {self.entity} until {self.valid_until:%Y-%m-%d}"


class DepartmentSystem(models.Model):
    """A department business system registered as an OAuth2 / OIDC client.

    Tokens it obtains by client credentials act for ``department`` and nothing else.
    """

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="department_system")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="systems")
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set once, for good: a disabled system's client can no longer authorize,
    # authenticate or present a token.
    disabled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
