"""Builders and small protocol helpers for the OpenID Connect and client tests."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.test import Client

from tongban.identity.models import Account, Appointment, DepartmentSystem, Role
from tongban.identity.services import clients
from tongban.kernel.actors import SystemActor
from tongban.kernel.models import Department

PLATFORM = SystemActor("tests")
PASSWORD = "Oidc-Test-Pass-2024"
REDIRECT_URI = "https://rp.example/callback"


@dataclass(frozen=True)
class RegisteredClient:
    system: DepartmentSystem
    client_id: str
    secret: str


def make_account(username: str, *, assurance_level: int = Account.Assurance.PASSWORD) -> Account:
    """Create a plain (not real-name verified) account."""
    account = Account.objects.create_user(username=username, password=PASSWORD)
    if assurance_level != account.assurance_level:
        account.assurance_level = assurance_level
        account.save(update_fields=["assurance_level"])
    return account


def make_platform_admin(department: Department, username: str = "platform-admin") -> Account:
    account = Account.objects.create_user(username=username, password=PASSWORD, kind=Account.Kind.OFFICER)
    Appointment.objects.create(account=account, department=department, role=Role.PLATFORM_ADMIN)
    return account


def sign_in_client(
    department: Department, *, name: str = "Permit system", redirect_uri: str = REDIRECT_URI,
    confidential: bool = True,
) -> RegisteredClient:
    system, secret = clients.register_department_system(
        actor=PLATFORM, department=department, name=name, redirect_uris=[redirect_uri],
        confidential=confidential,
    )
    return RegisteredClient(system, system.application.client_id, secret)


def machine_client(department: Department, *, name: str = "Case system") -> RegisteredClient:
    system, secret = clients.register_department_system(
        actor=PLATFORM, department=department, name=name, redirect_uris=None
    )
    return RegisteredClient(system, system.application.client_id, secret)


def basic_auth(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def pkce_pair() -> tuple[str, str]:
    """Return a code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    return verifier, create_s256_code_challenge(verifier)


def authorize_params(client_id: str, **overrides: Any) -> dict[str, str]:
    """Return authorization request parameters (with a fresh S256 challenge unless overridden)."""
    _, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile",
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {key: value for key, value in params.items() if value is not None}


def authorize(browser: Client, params: dict[str, str]) -> Any:
    """Send a signed-in browser to the authorization endpoint; return the response unfollowed."""
    return browser.get("/o/authorize/?" + urlencode(params))


def redirect_params(response: Any) -> dict[str, str]:
    """Return the query and fragment parameters of a redirect response."""
    location = urlsplit(response["Location"])
    found = parse_qs(location.query) | parse_qs(location.fragment)
    return {key: values[0] for key, values in found.items()}


def client_credentials_token(web: Client, registered: RegisteredClient, scope: str | None = "api") -> Any:
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    return web.post(
        "/o/token/", data, HTTP_AUTHORIZATION=basic_auth(registered.client_id, registered.secret)
    )
