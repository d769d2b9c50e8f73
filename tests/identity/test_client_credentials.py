"""Department systems call the API with client-credentials tokens bound to their department."""

from __future__ import annotations

import pytest
from django.test import Client

from tongban.identity.api_auth import SystemPrincipal
from tongban.identity.services import clients
from tongban.kernel.actors import Actor, acts_for
from tongban.kernel.models import AuditRecord, Department
from tongban.kernel.problems import PROBLEM_CONTENT_TYPE

from .oidc_helpers import (
    PLATFORM,
    authorize,
    authorize_params,
    basic_auth,
    client_credentials_token,
    machine_client,
    make_account,
    pkce_pair,
    redirect_params,
    sign_in_client,
)

pytestmark = pytest.mark.django_db

WHOAMI = "/api/v1/identity/whoami"


@pytest.fixture
def market(org) -> Department:
    return org.department("330100", Department.Kind.MARKET_REGULATION)


@pytest.fixture
def tax(org) -> Department:
    return org.department("330200", Department.Kind.TAX)


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def token_for(registered) -> str:
    response = client_credentials_token(Client(), registered)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def assert_refused_as_problem(response) -> None:
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["status"] == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_machine_clients_token_acts_for_its_own_department(market, tax):
    # given two systems of two departments
    market_system, tax_system = machine_client(market), machine_client(tax, name="Tax system")
    # when each asks who it is
    market_view = Client().get(WHOAMI, **bearer(token_for(market_system))).json()
    tax_view = Client().get(WHOAMI, **bearer(token_for(tax_system))).json()
    # then each sees itself and its own department only
    assert market_view == {
        "kind": "system",
        "username": None,
        "client_id": market_system.client_id,
        "departments": [{"uscc": market.uscc, "name": market.name}],
        "assurance_level": None,
    }
    assert tax_view["client_id"] == tax_system.client_id
    assert tax_view["departments"] == [{"uscc": tax.uscc, "name": tax.name}]


def test_a_machine_client_gets_the_api_scope_by_default_and_nothing_else(market):
    registered = machine_client(market)
    default = client_credentials_token(Client(), registered, scope=None)
    sign_in_scopes = client_credentials_token(Client(), registered, scope="openid profile")
    assert default.status_code == 200 and default.json()["scope"] == "api"
    assert sign_in_scopes.status_code == 400 and sign_in_scopes.json()["error"] == "invalid_scope"


def test_a_wrong_secret_gets_no_token(market):
    registered = machine_client(market)
    # Change the last character to another one (it may already be an "x").
    wrong = registered.secret[:-1] + ("y" if registered.secret.endswith("x") else "x")
    response = Client().post(
        "/o/token/", {"grant_type": "client_credentials", "scope": "api"},
        HTTP_AUTHORIZATION=basic_auth(registered.client_id, wrong),
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_AUTHORIZATION": "Bearer garbage-token"}, {"HTTP_AUTHORIZATION": "Basic Zm9vOmJhcg=="}],
    ids=["no-token", "garbage-token", "basic-credentials"],
)
def test_an_outsider_gets_a_problem_401(headers):
    assert_refused_as_problem(Client().get(WHOAMI, **headers))


def test_a_token_in_the_query_string_is_refused(market):
    token = token_for(machine_client(market))
    assert_refused_as_problem(Client().get(f"{WHOAMI}?access_token={token}"))


def test_a_disabled_systems_token_stops_working_and_it_gets_no_new_one(market):
    # given a system holding a valid token
    registered = machine_client(market)
    token = token_for(registered)
    assert Client().get(WHOAMI, **bearer(token)).status_code == 200
    # when the platform disables it
    clients.disable_department_system(registered.system, actor=PLATFORM, reason="decommissioned")
    # then its token is refused and it cannot get another
    assert_refused_as_problem(Client().get(WHOAMI, **bearer(token)))
    again = client_credentials_token(Client(), registered)
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"
    entry = AuditRecord.objects.get(action="identity.client.disabled")
    assert entry.target == f"client:{registered.client_id}" and entry.details["tokens_revoked"] == 1


def test_rotating_the_secret_revokes_tokens_and_the_old_secret(market):
    # given
    registered = machine_client(market)
    old_token = token_for(registered)
    # when
    new_secret = clients.rotate_client_secret(registered.system, actor=PLATFORM)
    # then
    assert_refused_as_problem(Client().get(WHOAMI, **bearer(old_token)))
    assert client_credentials_token(Client(), registered).status_code == 401
    rotated = type(registered)(registered.system, registered.client_id, new_secret)
    assert Client().get(WHOAMI, **bearer(token_for(rotated))).status_code == 200
    entry = AuditRecord.objects.get(action="identity.client.secret_rotated")
    assert entry.details == {"tokens_revoked": 1}


def test_a_sign_in_token_is_not_an_api_credential(market):
    # given a relying party holding a person's access token from signing them in
    registered = sign_in_client(market)
    browser = Client()
    browser.force_login(make_account("sso-user"))
    verifier, challenge = pkce_pair()
    code = redirect_params(authorize(browser, authorize_params(registered.client_id, code_challenge=challenge)))["code"]
    token = Client().post(
        "/o/token/",
        {"grant_type": "authorization_code", "code": code, "redirect_uri": registered.system.application.redirect_uris,
         "code_verifier": verifier},
        HTTP_AUTHORIZATION=basic_auth(registered.client_id, registered.secret),
    ).json()["access_token"]
    # when it calls the API with it
    response = Client().get(WHOAMI, **bearer(token))
    # then it is refused: the token is for userinfo only
    assert_refused_as_problem(response)
    assert Client().get("/o/userinfo/", **bearer(token)).status_code == 200


def test_a_system_principal_is_an_actor_of_its_department_only(market, tax):
    # given
    registered = machine_client(market)
    principal = SystemPrincipal(
        system=registered.system, department=market, client_id=registered.client_id, scopes=frozenset({"api"})
    )
    # then
    assert isinstance(principal, Actor)
    assert principal.audit_name == f"client:{registered.client_id}"
    assert principal.department_ids() == principal.department_ids("reviewer") == frozenset({market.id})
    assert acts_for(principal, market.id) and not acts_for(principal, tax.id)
    assert not principal.has_perm("identity.add_departmentsystem")
    assert not principal.has_perm("registries.view_full_id_number")
    scoped = SystemPrincipal(
        system=registered.system, department=market, client_id=registered.client_id,
        scopes=frozenset({"api", "perm:registries.view_person"}),
    )
    assert scoped.has_perm("registries.view_person") and not scoped.has_perm("registries.change_person")


@pytest.mark.parametrize(
    "spoil",
    ["expired", "without-api-scope", "for-another-audience", "system-disabled-behind-its-back"],
)
def test_a_system_token_that_no_longer_qualifies_is_refused(market, spoil):
    # given a system whose valid token works
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import AccessToken

    from tongban.identity.models import DepartmentSystem

    registered = machine_client(market)
    token = token_for(registered)
    assert Client().get(WHOAMI, **bearer(token)).status_code == 200
    # when the token (or its system) stops qualifying without the services' help
    stored = AccessToken.objects.get(application__client_id=registered.client_id)
    if spoil == "expired":
        AccessToken.objects.filter(pk=stored.pk).update(expires=timezone.now() - timedelta(seconds=1))
    elif spoil == "without-api-scope":
        AccessToken.objects.filter(pk=stored.pk).update(scope="openid")
    elif spoil == "for-another-audience":
        AccessToken.objects.filter(pk=stored.pk).update(resource=["https://elsewhere.example/api"])
    else:
        DepartmentSystem.objects.filter(pk=registered.system.pk).update(disabled_at=timezone.now())
    # then the token is refused
    assert_refused_as_problem(Client().get(WHOAMI, **bearer(token)))
