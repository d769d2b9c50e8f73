"""Department systems as OAuth2 / OpenID Connect clients.

One ``DepartmentSystem`` wraps one django-oauth-toolkit ``Application`` of one
of two kinds:

- a *sign-in* client (authorization code + PKCE, ID tokens signed RS256), when
  redirect URIs are given: the department's system signs people in through the
  platform (SSO). Department systems are trusted, so people are not asked to
  consent;
- a *machine* client (client credentials) otherwise: the system calls the API
  and acts for its department only.

A system that needs both is registered twice. Client secrets are stored hashed:
the plaintext is returned once, by ``register_department_system`` and
``rotate_client_secret``, and never kept.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import (
    AbstractApplication,
    AccessToken,
    Application,
    Grant,
    IDToken,
    RefreshToken,
)

from tongban.identity.models import DepartmentSystem
from tongban.identity.oidc import UNUSABLE_SECRET_PREFIX, client_is_disabled
from tongban.kernel import audit
from tongban.kernel.actors import Actor
from tongban.kernel.models import Department
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied

__all__ = [
    "disable_department_system",
    "is_department_system_disabled",
    "register_department_system",
    "rotate_client_secret",
]

REGISTER_PERMISSION = "identity.add_departmentsystem"
CHANGE_PERMISSION = "identity.change_departmentsystem"


def _require(actor: Actor, permission: str) -> None:
    # SystemActor holds every permission; accounts hold it through the
    # platform-administrator role or Django's own permissions.
    if not actor.has_perm(permission):
        raise PermissionDenied("Only a platform administrator may manage department systems.")


def is_department_system_disabled(system: DepartmentSystem) -> bool:
    """Return True if the system was disabled and its client can no longer be used."""
    return client_is_disabled(system.application)


def _revoke_tokens(application: Any) -> int:
    """Delete every grant and token issued to ``application``; return how many tokens went."""
    Grant.objects.filter(application=application).delete()
    refresh_tokens, _ = RefreshToken.objects.filter(application=application).delete()
    access_tokens, _ = AccessToken.objects.filter(application=application).delete()
    IDToken.objects.filter(application=application).delete()
    return int(refresh_tokens) + int(access_tokens)


@transaction.atomic
def register_department_system(
    *,
    actor: Actor,
    department: Department,
    name: str,
    redirect_uris: list[str] | None,
    confidential: bool = True,
) -> tuple[DepartmentSystem, str]:
    """Register a department's business system as a client; return it and its secret.

    With ``redirect_uris`` the system becomes a sign-in client (authorization
    code + PKCE); without, a machine client (client credentials). The secret is
    returned in plaintext this once and stored only hashed; a public sign-in
    client (``confidential=False``, e.g. a mobile app) gets no secret and ``""``
    is returned.

    Raise PermissionDenied unless the actor is a platform administrator or the
    platform itself; InvalidInput for an empty name, a malformed or disallowed
    redirect URI, or a public machine client.
    """
    _require(actor, REGISTER_PERMISSION)
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("Name the system in 1 to 200 characters.", field="name")
    uris = [uri.strip() for uri in redirect_uris or [] if uri.strip()]
    sign_in = bool(uris)
    if not sign_in and not confidential:
        raise InvalidInput(
            "A machine client authenticates with its secret, so it must be confidential.",
            field="confidential",
        )
    secret = generate_client_secret() if confidential else ""
    application = Application(
        name=name,
        client_type=AbstractApplication.CLIENT_CONFIDENTIAL
        if confidential
        else AbstractApplication.CLIENT_PUBLIC,
        authorization_grant_type=AbstractApplication.GRANT_AUTHORIZATION_CODE
        if sign_in
        else AbstractApplication.GRANT_CLIENT_CREDENTIALS,
        redirect_uris=" ".join(uris),
        client_secret=secret,
        hash_client_secret=True,
        skip_authorization=True,
        algorithm=AbstractApplication.RS256_ALGORITHM if sign_in else AbstractApplication.NO_ALGORITHM,
    )
    try:
        application.clean()
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages), field="redirect_uris") from error
    application.save()
    system = DepartmentSystem.objects.create(application=application, department=department, name=name)
    audit.record(
        "identity.client.registered",
        actor=actor,
        target=f"client:{application.client_id}",
        details={
            "department": department.uscc,
            "name": name,
            "grant_type": application.authorization_grant_type,
            "client_type": application.client_type,
            "redirect_uris": uris,
        },
    )
    return system, secret


@transaction.atomic
def rotate_client_secret(system: DepartmentSystem, *, actor: Actor) -> str:
    """Give a confidential client a new secret and return it (once, in plaintext).

    Every token issued under the old secret is revoked at once.
    Raise PermissionDenied unless the actor is a platform administrator or the
    platform; Conflict if the system is disabled or is a public client.
    """
    _require(actor, CHANGE_PERMISSION)
    application = Application.objects.select_for_update().get(pk=system.application_id)
    if client_is_disabled(application):
        raise Conflict("This system is disabled; register it again instead.")
    if application.client_type != AbstractApplication.CLIENT_CONFIDENTIAL:
        raise Conflict("A public client has no secret to rotate.")
    secret = generate_client_secret()
    application.client_secret = secret
    application.hash_client_secret = True
    application.save(update_fields=["client_secret", "hash_client_secret", "updated"])
    revoked = _revoke_tokens(application)
    system.application = application
    audit.record(
        "identity.client.secret_rotated",
        actor=actor,
        target=f"client:{application.client_id}",
        details={"tokens_revoked": revoked},
    )
    return secret


@transaction.atomic
def disable_department_system(system: DepartmentSystem, *, actor: Actor, reason: str = "") -> DepartmentSystem:
    """Disable a department system for good and return it.

    Its tokens are revoked at once and its client can no longer authorize,
    authenticate or present a token; the record stays for the audit trail.
    Raise PermissionDenied unless the actor is a platform administrator or the
    platform; Conflict if it is already disabled.
    """
    _require(actor, CHANGE_PERMISSION)
    application = Application.objects.select_for_update().get(pk=system.application_id)
    if client_is_disabled(application):
        raise Conflict("This system is already disabled.")
    # An unusable secret nobody knows, stored as is (not hashed) so that the
    # marker stays readable; it never matches what a client sends.
    application.client_type = AbstractApplication.CLIENT_CONFIDENTIAL
    application.client_secret = UNUSABLE_SECRET_PREFIX + secrets.token_urlsafe(48)
    application.hash_client_secret = False
    application.save(update_fields=["client_type", "client_secret", "hash_client_secret", "updated"])
    revoked = _revoke_tokens(application)
    system.disabled_at = timezone.now()
    system.save(update_fields=["disabled_at"])
    system.application = application
    audit.record(
        "identity.client.disabled",
        actor=actor,
        target=f"client:{application.client_id}",
        details={"tokens_revoked": revoked, "reason": reason},
    )
    return system
