"""The provider accepts only the authorization-code flow with PKCE S256 and refuses the rest."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tongban.identity.models import Account
from tongban.identity.oidc import pairwise_subject
from tongban.identity.services import clients
from tongban.kernel.models import AuditRecord, Department

from .oidc_helpers import (
    PASSWORD,
    PLATFORM,
    REDIRECT_URI,
    authorize,
    authorize_params,
    basic_auth,
    make_account,
    pkce_pair,
    redirect_params,
    sign_in_client,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def department(org) -> Department:
    return org.department("330100", Department.Kind.MARKET_REGULATION)


@pytest.fixture
def browser() -> Client:
    client = Client()
    client.force_login(make_account("browser-user"))
    return client


def exchange(web: Client, registered, code: str, verifier: str | None, **extra: str):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, **extra}
    if verifier is not None:
        data["code_verifier"] = verifier
    return web.post("/o/token/", data, HTTP_AUTHORIZATION=basic_auth(registered.client_id, registered.secret))


def test_a_code_is_issued_only_for_a_s256_challenge_and_redeemed_once(browser, department):
    # given
    registered = sign_in_client(department)
    verifier, challenge = pkce_pair()
    # when
    response = authorize(browser, authorize_params(registered.client_id, code_challenge=challenge))
    code = redirect_params(response)["code"]
    first = exchange(Client(), registered, code, verifier)
    replay = exchange(Client(), registered, code, verifier)
    # then
    assert first.status_code == 200 and "id_token" in first.json()
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_an_authorization_request_without_pkce_is_refused(browser, department):
    registered = sign_in_client(department)
    response = authorize(browser, authorize_params(registered.client_id, code_challenge=None,
                                                   code_challenge_method=None))
    assert response.status_code == 302
    params = redirect_params(response)
    assert params["error"] == "invalid_request" and "code" not in params


def test_a_plain_pkce_challenge_is_refused(browser, department):
    registered = sign_in_client(department)
    verifier, _ = pkce_pair()
    response = authorize(browser, authorize_params(registered.client_id, code_challenge=verifier,
                                                   code_challenge_method="plain"))
    params = redirect_params(response)
    assert params["error"] == "invalid_request" and "code" not in params
    assert "S256" in params["error_description"]


def test_a_wrong_code_verifier_is_refused(browser, department):
    registered = sign_in_client(department)
    code = redirect_params(authorize(browser, authorize_params(registered.client_id)))["code"]
    other_verifier, _ = pkce_pair()
    response = exchange(Client(), registered, code, other_verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("response_type", ["token", "id_token", "id_token token", "code id_token", "code token"])
def test_implicit_and_hybrid_responses_are_refused(browser, department, response_type):
    registered = sign_in_client(department)
    response = authorize(browser, authorize_params(registered.client_id, response_type=response_type))
    params = redirect_params(response)
    assert params["error"] == "unauthorized_client"
    assert not {"access_token", "id_token", "code"} & params.keys()
    assert not AuditRecord.objects.filter(action="identity.oidc.token_issued").exists()


@pytest.mark.parametrize(
    "redirect_uri",
    ["https://attacker.example/callback", REDIRECT_URI + "/extra", REDIRECT_URI.replace("https", "http")],
)
def test_an_unregistered_redirect_uri_is_refused_without_redirecting(browser, department, redirect_uri):
    registered = sign_in_client(department)
    response = authorize(browser, authorize_params(registered.client_id, redirect_uri=redirect_uri))
    assert response.status_code == 400
    assert "Location" not in response


def test_an_anonymous_browser_is_sent_to_sign_in_first(department):
    registered = sign_in_client(department)
    response = authorize(Client(), authorize_params(registered.client_id))
    assert response.status_code == 302
    assert response["Location"].startswith("/account/sign-in/")


def test_the_password_grant_is_refused(department):
    # given a person with a known password and a confidential sign-in client
    make_account("password-user")
    registered = sign_in_client(department)
    # when the client tries to trade the password for a token
    response = Client().post(
        "/o/token/",
        {"grant_type": "password", "username": "password-user", "password": PASSWORD, "scope": "openid"},
        HTTP_AUTHORIZATION=basic_auth(registered.client_id, registered.secret),
    )
    # then
    assert response.status_code == 400
    assert response.json() == {"error": "unauthorized_client"}


def test_a_sign_in_client_cannot_use_client_credentials(department):
    registered = sign_in_client(department)
    response = Client().post(
        "/o/token/", {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(registered.client_id, registered.secret),
    )
    assert response.status_code == 400
    assert response.json() == {"error": "unauthorized_client"}


def test_a_sign_in_client_cannot_ask_for_the_api_scope(browser, department):
    registered = sign_in_client(department)
    response = authorize(browser, authorize_params(registered.client_id, scope="openid api"))
    assert redirect_params(response)["error"] == "invalid_scope"


def test_a_public_client_signs_in_with_pkce_and_no_secret(browser, department):
    # given a mobile app, which cannot keep a secret
    system, secret = clients.register_department_system(
        actor=PLATFORM, department=department, name="Mobile app", redirect_uris=[REDIRECT_URI],
        confidential=False,
    )
    client_id = system.application.client_id
    verifier, challenge = pkce_pair()
    code = redirect_params(authorize(browser, authorize_params(client_id, code_challenge=challenge)))["code"]
    # when
    response = Client().post("/o/token/", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
        "client_id": client_id, "code_verifier": verifier,
    })
    # then
    assert secret == ""
    assert response.status_code == 200 and "id_token" in response.json()


def test_a_disabled_sign_in_system_can_no_longer_authorize_or_redeem(browser, department):
    # given a code issued just before the system is disabled
    registered = sign_in_client(department)
    verifier, challenge = pkce_pair()
    code = redirect_params(authorize(browser, authorize_params(registered.client_id, code_challenge=challenge)))["code"]
    clients.disable_department_system(registered.system, actor=PLATFORM)
    # when
    again = authorize(browser, authorize_params(registered.client_id))
    redeemed = exchange(Client(), registered, code, verifier)
    # then
    assert again.status_code == 400 and "Location" not in again
    assert redeemed.status_code == 401 and redeemed.json()["error"] == "invalid_client"


def test_userinfo_refuses_an_outsider(department):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer not-a-token"}):
        response = Client().get("/o/userinfo/", **headers)
        assert response.status_code in (401, 403)
        assert "sub" not in response.content.decode()


def test_the_pairwise_subject_hides_the_account_and_depends_on_the_client():
    subject = pairwise_subject(42, "client-a")
    assert subject == pairwise_subject(42, "client-a")
    assert subject != pairwise_subject(42, "client-b")
    assert subject != pairwise_subject(43, "client-a")
    assert len(subject) == 40 and int(subject, 16) >= 0


def test_discovery_is_open_to_any_origin_and_lists_the_assurance_levels(department):
    response = Client().get("/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    document = json.loads(response.content)
    assert document["acr_values_supported"] == [f"urn:tongban:loa:{level}" for level in Account.Assurance.values]
