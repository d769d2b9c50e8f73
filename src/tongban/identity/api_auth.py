"""API authentication: a signed-in session, or an OAuth2 bearer token.

A bearer token is accepted only with the ``api`` scope. Only machine clients
may ask for it, so in practice a bearer token is a department system's
client-credentials token and acts as that system (``SystemPrincipal``), for
its department and nothing else. Tokens that relying parties obtain when
people sign in to them (``openid profile``) are for the userinfo endpoint,
not for the API.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth
from oauth2_provider.models import get_access_token_model
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


# DOT's access tokens with their application and our department system (tables of
# oauth2_provider.AccessToken, oauth2_provider.Application and DepartmentSystem).
_SYSTEM_TOKEN = """
    SELECT t.scope, t.resource, a.client_id, s.id, s.department_id, s.disabled_at
    FROM oauth2_provider_accesstoken t
    JOIN oauth2_provider_application a ON a.id = t.application_id
    JOIN identity_departmentsystem s ON s.application_id = a.id
    WHERE t.token_checksum = %s AND t.user_id IS NULL AND t.expires > %s
"""


def system_for_token(token: str) -> SystemPrincipal | None:
    """Return the department system a client-credentials ``token`` with the ``api`` scope acts as, or None.

    One indexed query instead of DOT's three, because every gateway call runs
    it: the token is found by its checksum (as DOT stores it) and refused when
    expired, without the ``api`` scope, bound to an audience (RFC 8707) or of a
    disabled system. Tokens of people (``user`` set) are not system tokens.
    The department and the system are loaded only when read.
    """
    tokens = get_access_token_model()._meta
    checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
    now = tokens.get_field("expires").get_db_prep_save(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(_SYSTEM_TOKEN, [checksum, now])
        row = cursor.fetchone()
    if row is None:
        return None
    scope, resource, client_id, system_id, department_id, disabled_at = row
    scopes = frozenset(str(scope).split())
    # The audience list (RFC 8707) is JSON: decoded by PostgreSQL, text from SQLite.
    audiences = json.loads(resource) if isinstance(resource, str) else resource
    if SYSTEM_API_SCOPE not in scopes or audiences or disabled_at is not None:
        return None
    # Deferred instances: their other fields load on first access, as a queryset's .only() would.
    system = DepartmentSystem.from_db(connection.alias, ["id", "department_id"], [system_id, department_id])
    department = Department.from_db(connection.alias, ["id"], [department_id])
    return SystemPrincipal(system=system, department=department, client_id=client_id, scopes=scopes)


class BearerToken(HttpBearer):
    """Accept access tokens issued by this platform's OAuth2 server with the ``api`` scope."""

    def authenticate(self, request: HttpRequest, token: str) -> Account | SystemPrincipal | None:
        # Department systems first, in one query (system_for_token); then DOT's
        # validator for the rest, which refuses unknown, expired and revoked
        # tokens, tokens of disabled clients and tokens without the scope.
        principal = system_for_token(token)
        if principal is not None:
            return principal
        valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[SYSTEM_API_SCOPE])
        if not valid or oauth_request is None:
            return None
        access_token: Any = oauth_request.access_token
        if access_token.user is not None:
            account: Account = access_token.user
            return account if account.is_active else None
        return None


class AccountSession(SessionAuth):
    """A signed-in browser session (CSRF-checked on unsafe methods)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Account | None:
        user = getattr(request, "user", None)
        if isinstance(user, Account) and user.is_authenticated and user.is_active:
            return user
        return None


api_auth = [BearerToken(), AccountSession()]
