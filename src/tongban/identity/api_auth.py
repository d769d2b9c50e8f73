"""API authentication: a signed-in session, or an OAuth2 bearer token.

A bearer token is accepted only with the ``api`` scope. Only machine clients
may ask for it, so in practice a bearer token is a department system's
client-credentials token and acts as that system (``SystemPrincipal``), for
its department and nothing else. Tokens that relying parties obtain when
people sign in to them (``openid profile``) are for the userinfo endpoint,
not for the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth
from oauth2_provider.oauth2_backends import get_oauthlib_core

from tongban.identity.models import Account, DepartmentSystem
from tongban.identity.oidc import PERMISSION_SCOPE_PREFIX, SYSTEM_API_SCOPE
from tongban.kernel.models import Department


@dataclass(frozen=True)
class SystemPrincipal:
    """A department business system calling with its client-credentials token.

    It implements ``kernel.actors.Actor``: it acts for its department only and
    holds no permission unless its token carries a ``perm:<permission>`` scope.
    It is not the platform (``is_system`` is false).
    """

    system: DepartmentSystem
    department: Department
    client_id: str
    scopes: frozenset[str]

    @property
    def audit_name(self) -> str:
        return f"client:{self.client_id}"

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        """Return True only if the token was granted the scope ``perm:<perm>``."""
        return f"{PERMISSION_SCOPE_PREFIX}{perm}" in self.scopes

    def department_ids(self, *roles: str) -> frozenset[int]:
        """Return the system's own department, whatever the roles asked for."""
        return frozenset({self.department.id})


class BearerToken(HttpBearer):
    """Accept access tokens issued by this platform's OAuth2 server with the ``api`` scope."""

    def authenticate(self, request: HttpRequest, token: str) -> Account | SystemPrincipal | None:
        # DOT's validator refuses unknown, expired and revoked tokens, tokens of
        # disabled clients and tokens without the scope.
        valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[SYSTEM_API_SCOPE])
        if not valid or oauth_request is None:
            return None
        access_token: Any = oauth_request.access_token
        if access_token.user is not None:
            account: Account = access_token.user
            return account if account.is_active else None
        system = (
            DepartmentSystem.objects.select_related("department", "application")
            .filter(application_id=access_token.application_id)
            .first()
        )
        if system is None:
            return None
        return SystemPrincipal(
            system=system,
            department=system.department,
            client_id=system.application.client_id,
            scopes=frozenset(access_token.scope.split()),
        )


class AccountSession(SessionAuth):
    """A signed-in browser session (CSRF-checked on unsafe methods)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Account | None:
        user = getattr(request, "user", None)
        if isinstance(user, Account) and user.is_authenticated and user.is_active:
            return user
        return None


api_auth = [BearerToken(), AccountSession()]
