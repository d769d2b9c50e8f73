"""A real OpenID Connect client (Authlib) signs people in through the platform.

The relying party runs the whole authorization-code flow with PKCE S256
against a live server: discovery, the browser's trip through the authorization
endpoint (signed in by a session cookie), the token exchange, ID token
validation against the published keys, and userinfo.
"""

from __future__ import annotations

import secrets
import warnings
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.db import connection
from django.test import Client

from tongban.identity.models import Account
from tongban.kernel.models import AuditRecord, Department

from .oidc_helpers import REDIRECT_URI, RegisteredClient, make_account, sign_in_client

with warnings.catch_warnings():
    # authlib.jose still works; its successor (joserfc) is not what relying parties use yet.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebToken

pytestmark = pytest.mark.django_db(transaction=True)

CITY = "330100"


@dataclass(frozen=True)
class SignIn:
    token: dict[str, Any]
    claims: dict[str, Any]
    location: str
    session: OAuth2Session


def loopback(session: requests.Session) -> requests.Session:
    """Prepare an HTTP session for calls to the live server, and return it."""
    session.trust_env = False  # never through a proxy from the environment
    # One request per connection: an idle keep-alive connection would hold a
    # server thread (and its shared database connection) past the test's end.
    session.headers["Connection"] = "close"
    return session


def http() -> requests.Session:
    return loopback(requests.Session())


def discover(base_url: str) -> dict[str, Any]:
    response = http().get(f"{base_url}/.well-known/openid-configuration", timeout=10)
    assert response.status_code == 200
    return response.json()


def browser_signed_in_as(account: Account) -> requests.Session:
    """Return an HTTP session carrying the cookie of a signed-in browser."""
    django_client = Client()
    django_client.force_login(account)
    browser = http()
    browser.cookies.set(settings.SESSION_COOKIE_NAME, django_client.cookies[settings.SESSION_COOKIE_NAME].value)
    return browser


def relying_party(registered: RegisteredClient, *, secret: str | None = None) -> OAuth2Session:
    session = OAuth2Session(
        client_id=registered.client_id,
        client_secret=registered.secret if secret is None else secret,
        scope="openid profile",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
    )
    loopback(session)
    return session


def verified_id_token(id_token: str, discovery: dict[str, Any], *, client_id: str, nonce: str) -> dict[str, Any]:
    keys = JsonWebKey.import_key_set(http().get(discovery["jwks_uri"], timeout=10).json())
    claims = JsonWebToken(["RS256"]).decode(
        id_token,
        keys,
        claims_options={
            "iss": {"essential": True, "value": discovery["issuer"]},
            "aud": {"essential": True, "value": client_id},
            "nonce": {"essential": True, "value": nonce},
            "sub": {"essential": True},
            "exp": {"essential": True},
        },
    )
    claims.validate()
    return dict(claims)


def sign_in(base_url: str, account: Account, registered: RegisteredClient) -> SignIn:
    """Run the authorization-code flow with PKCE as a relying party would; return what it gets."""
    discovery = discover(base_url)
    session = relying_party(registered)
    nonce = secrets.token_urlsafe(16)
    verifier = secrets.token_urlsafe(48)
    url, state = session.create_authorization_url(
        discovery["authorization_endpoint"], nonce=nonce, code_verifier=verifier
    )
    # The browser part: follow the authorization endpoint's redirect only as far
    # as the relying party's redirect URI.
    response = browser_signed_in_as(account).get(url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[:500]
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    token = session.fetch_token(
        discovery["token_endpoint"], authorization_response=location, state=state, code_verifier=verifier
    )
    claims = verified_id_token(token["id_token"], discovery, client_id=registered.client_id, nonce=nonce)
    return SignIn(token=dict(token), claims=claims, location=location, session=session)


@pytest.fixture(scope="module", autouse=True)
def audit_table_truncatable(django_db_setup, django_db_blocker):
    """Let the flush after each test truncate the append-only audit table (PostgreSQL).

    On PostgreSQL a trigger refuses TRUNCATE on the audit table, and a
    transactional test ends with a flush, which truncates every table. The
    trigger is off while this module runs and on again afterwards.
    """

    def switch(enabled: bool) -> None:
        with django_db_blocker.unblock():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"ALTER TABLE kernel_auditrecord {'ENABLE' if enabled else 'DISABLE'} "
                        "TRIGGER kernel_auditrecord_no_truncate"
                    )

    switch(enabled=False)
    yield
    switch(enabled=True)


@pytest.fixture
def city_departments(org) -> tuple[Department, Department]:
    return (
        org.department(CITY, Department.Kind.MARKET_REGULATION),
        org.department(CITY, Department.Kind.HEALTH),
    )


def test_discovery_names_an_issuer_whose_discovery_url_it_is(live_server, org):
    # when
    discovery = discover(live_server.url)
    under_o = http().get(f"{live_server.url}/o/.well-known/openid-configuration", timeout=10).json()
    metadata = http().get(f"{live_server.url}/.well-known/oauth-authorization-server", timeout=10).json()
    # then
    assert discovery["issuer"] == live_server.url
    assert under_o["issuer"] == metadata["issuer"] == discovery["issuer"]
    assert discovery["response_types_supported"] == ["code"]
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert discovery["subject_types_supported"] == ["pairwise"]
    assert "implicit" not in discovery["grant_types_supported"]
    assert "password" not in discovery["grant_types_supported"]
    assert {"sub", "name", "assurance_level", "acr"} <= set(discovery["claims_supported"])
    for endpoint in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert discovery[endpoint].startswith(live_server.url + "/o/")


def test_a_citizen_signs_in_to_a_department_system_with_authlib(live_server, city_departments, citizen):
    # given a real-name verified citizen and a department's sign-in client
    registered = sign_in_client(city_departments[0])
    # when
    result = sign_in(live_server.url, citizen, registered)
    # then the ID token (already verified against the JWKS) says who signed in, how strongly
    claims = result.claims
    assert claims["name"] == citizen.person.name
    assert claims["assurance_level"] == Account.Assurance.REAL_NAME == 2
    assert claims["acr"] == "urn:tongban:loa:2"
    assert str(citizen.pk) != claims["sub"] and len(claims["sub"]) >= 32
    # and the RFC 9207 issuer came with the code
    assert f"iss={requests.utils.quote(live_server.url, safe='')}" in result.location
    # and userinfo agrees on the subject
    userinfo = result.session.get(f"{live_server.url}/o/userinfo/", timeout=10).json()
    assert userinfo["sub"] == claims["sub"]
    assert userinfo["name"] == citizen.person.name
    assert userinfo["assurance_level"] == 2
    # and the sign-in is audited, without any token
    entry = AuditRecord.objects.get(action="identity.oidc.token_issued")
    assert entry.actor == citizen.audit_name
    assert entry.target == f"client:{registered.client_id}"
    for secret in (result.token["access_token"], result.token["id_token"], result.token.get("refresh_token")):
        assert secret is None or secret not in str(entry.details)


def test_the_subject_is_stable_per_system_and_differs_between_systems(live_server, city_departments):
    # given one account and two systems of two departments
    account = make_account("pairwise-user")
    first, second = (sign_in_client(department) for department in city_departments)
    # when
    once = sign_in(live_server.url, account, first).claims
    again = sign_in(live_server.url, account, first).claims
    elsewhere = sign_in(live_server.url, account, second).claims
    # then
    assert once["sub"] == again["sub"]
    assert elsewhere["sub"] != once["sub"]
    assert once["name"] == "pairwise-user"  # not real-name verified: the username
    assert once["assurance_level"] == 1 and once["acr"] == "urn:tongban:loa:1"


def test_a_relying_party_with_a_wrong_secret_gets_no_token(live_server, city_departments):
    # given
    account = make_account("victim")
    registered = sign_in_client(city_departments[0])
    discovery = discover(live_server.url)
    impostor = relying_party(registered, secret="not-the-secret")
    verifier = secrets.token_urlsafe(48)
    url, state = impostor.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier)
    location = browser_signed_in_as(account).get(url, allow_redirects=False, timeout=10).headers["Location"]
    # when / then
    with pytest.raises(AuthlibBaseError) as refused:
        impostor.fetch_token(
            discovery["token_endpoint"], authorization_response=location, state=state, code_verifier=verifier
        )
    assert refused.value.error == "invalid_client"
    assert not AuditRecord.objects.filter(action="identity.oidc.token_issued").exists()
