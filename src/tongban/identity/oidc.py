"""The OpenID Connect provider: strict grants, pairwise subjects, assurance claims.

Department systems are django-oauth-toolkit applications (see
``identity.services.clients``). This module narrows what DOT accepts to what
the platform allows:

- the authorization-code flow with PKCE S256 for signing people in (no
  implicit, hybrid or password grants), and client credentials for a
  department system calling the API;
- each kind of client may ask only for its own scopes: sign-in clients for
  ``openid`` and ``profile``, machine clients for ``api`` (and ``perm:*``
  scopes, when configured);
- a disabled client can neither authorize, authenticate nor use a token.

Every relying party sees the same person under a different subject (pairwise
``sub``), so two departments cannot join their records by it, and the account's
primary key is never revealed.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from oauth2_provider.models import AbstractApplication
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import ConnectDiscoveryInfoView

from tongban.identity.models import Account
from tongban.kernel import audit
from tongban.kernel.crypto import get_crypto_provider

ACR_PREFIX = "urn:tongban:loa:"
SIGN_IN_SCOPES = frozenset({"openid", "profile"})
# The scope a department system's client-credentials token needs to call the API.
SYSTEM_API_SCOPE = "api"
# A token scope ``perm:<app_label>.<codename>`` grants a department system that one
# permission; no other permission is ever implied for a machine.
PERMISSION_SCOPE_PREFIX = "perm:"
# A disabled client keeps its row (and its history) but its secret is replaced by
# one nobody knows, marked the way Django marks an unusable password.
UNUSABLE_SECRET_PREFIX = "!"

_GRANT_TYPES = frozenset({"authorization_code", "refresh_token", "client_credentials"})
_SUBJECT_LENGTH = 40  # hex characters: 160 bits of the keyed digest


def pairwise_subject(account_id: int, client_id: str) -> str:
    """Return the stable subject identifier of an account as seen by one client.

    The value is a keyed digest: the same for the same account and client,
    different across clients, and it does not reveal the account id.
    """
    digest = get_crypto_provider().blind_index(str(account_id), purpose=f"oidc.sub.{client_id}")
    return digest[:_SUBJECT_LENGTH]


def acr_for(assurance_level: int) -> str:
    """Return the authentication context class reference for an assurance level."""
    return f"{ACR_PREFIX}{int(assurance_level)}"


def client_is_disabled(application: Any) -> bool:
    """Return True if the application's department system was disabled.

    Disabling also replaces the secret with an unusable one, so a disabled
    confidential client could not authenticate even if this check were skipped.
    """
    system = getattr(application, "department_system", None)
    return system is not None and system.disabled_at is not None


def allowed_scopes(application: Any) -> frozenset[str]:
    """Return the scopes a client of this kind may ask for."""
    grant_type = application.authorization_grant_type
    if grant_type == AbstractApplication.GRANT_AUTHORIZATION_CODE:
        return SIGN_IN_SCOPES
    if grant_type == AbstractApplication.GRANT_CLIENT_CREDENTIALS:
        permission_scopes = {
            scope for scope in oauth2_settings.SCOPES if scope.startswith(PERMISSION_SCOPE_PREFIX)
        }
        return frozenset({SYSTEM_API_SCOPE, *permission_scopes})
    return frozenset()


class TongbanOAuth2Validator(OAuth2Validator):
    """Issue pairwise subjects, names and assurance levels; refuse everything else.

    DOT calls these hooks from oauthlib; each override keeps DOT's own checks and
    adds the platform's.
    """

    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "acr": "openid",
        "assurance_level": "profile",
    }

    # Clients -----------------------------------------------------------------

    def validate_client_id(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        return bool(super().validate_client_id(client_id, request, *args, **kwargs)) and not (
            client_is_disabled(request.client)
        )

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        authenticated = bool(super().authenticate_client(request, *args, **kwargs))
        return authenticated and not client_is_disabled(request.client)

    def authenticate_client_id(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        authenticated = bool(super().authenticate_client_id(client_id, request, *args, **kwargs))
        return authenticated and not client_is_disabled(request.client)

    # Grants and scopes -------------------------------------------------------

    def validate_response_type(
        self, client_id: str, response_type: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        # The authorization code flow only: implicit and hybrid responses put
        # tokens in the browser's address bar.
        return response_type == "code" and bool(
            client.allows_grant_type(AbstractApplication.GRANT_AUTHORIZATION_CODE)
        )

    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if grant_type not in _GRANT_TYPES:
            return False
        return bool(super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs))

    def validate_scopes(
        self, client_id: str, scopes: list[str], client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if not set(scopes) <= allowed_scopes(client):
            return False
        return bool(super().validate_scopes(client_id, scopes, client, request, *args, **kwargs))

    def get_default_scopes(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> list[str]:
        client = request.client
        if client is not None and client.authorization_grant_type == AbstractApplication.GRANT_CLIENT_CREDENTIALS:
            return [SYSTEM_API_SCOPE]
        scopes: list[str] = super().get_default_scopes(client_id, request, *args, **kwargs)
        return scopes

    def validate_bearer_token(self, token: str, scopes: list[str], request: Any) -> bool:
        if not super().validate_bearer_token(token, scopes, request):
            return False
        # Disabling deletes the client's tokens; this refuses any that raced it.
        return request.client is None or not client_is_disabled(request.client)

    # Tokens ------------------------------------------------------------------

    def save_bearer_token(self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any) -> Any:
        """Store the tokens; audit a person signing in to a client, in the same transaction."""
        with transaction.atomic():
            saved = super().save_bearer_token(token, request, *args, **kwargs)
            if request.grant_type == "authorization_code" and request.user is not None:
                audit.record(
                    "identity.oidc.token_issued",
                    actor=request.user,
                    target=f"client:{request.client.client_id}",
                    details={"scopes": sorted(request.scopes or [])},
                )
        return saved

    # Claims ------------------------------------------------------------------

    def get_claim_dict(self, request: Any) -> dict[str, Any]:
        """Return the claims about ``request.user`` as ``request.client`` may see them."""
        account: Account = request.user
        level = int(account.assurance_level)
        return {
            "sub": pairwise_subject(account.pk, request.client.client_id),
            "name": account.display_name,
            "assurance_level": level,
            "acr": acr_for(level),
        }

    def get_discovery_claims(self, request: Any) -> list[str]:
        return ["sub", "name", "assurance_level", "acr"]


class DiscoveryView(ConnectDiscoveryInfoView):
    """The OpenID provider metadata, stating exactly what this provider supports.

    OpenID Connect Discovery defaults ``grant_types_supported`` to the implicit
    grant and ``response_modes_supported`` to fragments when they are omitted,
    so both are spelled out.
    """

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        document = json.loads(response.content)
        document.update(
            {
                "grant_types_supported": sorted(_GRANT_TYPES),
                "response_modes_supported": ["query"],
                "code_challenge_methods_supported": ["S256"],
                "acr_values_supported": [acr_for(level) for level in Account.Assurance.values],
            }
        )
        patched = JsonResponse(document)
        patched["Access-Control-Allow-Origin"] = "*"
        return patched
