"""API authentication: a signed-in session, or an OAuth2 bearer token.

A bearer token from the client-credentials grant acts as its department system
(``SystemPrincipal``); a token obtained through the authorization-code flow acts
as the account that granted it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth
from oauth2_provider.oauth2_backends import get_oauthlib_core

from tongban.identity.models import Account, DepartmentSystem
from tongban.kernel.models import Department


@dataclass(frozen=True)
class SystemPrincipal:
    """A department business system calling with its client-credentials token."""

    system: DepartmentSystem
    department: Department
    client_id: str
    scopes: frozenset[str]

    @property
    def audit_name(self) -> str:
        return f"client:{self.client_id}"


class BearerToken(HttpBearer):
    """Accept access tokens issued by this platform's OAuth2 server."""

    def authenticate(self, request: HttpRequest, token: str) -> Account | SystemPrincipal | None:
        valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
        if not valid:
            return None
        access_token: Any = oauth_request.access_token
        if access_token.user is not None:
            account: Account = access_token.user
            return account if account.is_active else None
        system = (
            DepartmentSystem.objects.select_related("department", "application")
            .filter(application=access_token.application)
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
