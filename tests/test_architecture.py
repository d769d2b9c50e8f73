"""Contracts of the whole platform: every route is authenticated unless it is
deliberately public, and the migrations match the models.

A new public route is a decision: add it to an allowlist below, with a reason.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.regex_helper import normalize
from ninja.operation import Operation

from tongban.api import api, gateway_api

# Each Ninja API and where it is mounted.
APIS = [(api, "/api/v1"), (gateway_api, "/exchange/v1")]

# API operations anyone may call, without a token or a session.
PUBLIC_API_OPERATIONS = {
    ("GET", "/api/v1/kernel/health"): "load balancers probe it",
    ("GET", "/api/v1/kernel/regions"): "the region tree is public information",
    ("GET", "/api/v1/kernel/departments"): "the list of departments is public information",
    ("GET", "/api/v1/kernel/calendar/{year}"): "the State Council's holiday arrangements are public information",
    ("GET", "/exchange/v1/log/checkpoints/latest"): "signed checkpoints hold hashes only; anyone may keep them",
    ("GET", "/api/v1/credentials/ca"): "verifiers trust the platform's root CA certificate",
    ("GET", "/api/v1/credentials/jwks"): "verifiers check licence signatures with the seals' public keys",
    ("GET", "/api/v1/credentials/status/{issuer_uscc}/{purpose}"): "status lists are bits by position, no personal data",
    ("POST", "/api/v1/credentials/verify"): "relying parties verify what a holder shows them (rate-limited)",
    ("GET", "/api/v1/services/items"): "the published service catalog is public information",
    ("GET", "/api/v1/services/items/{code}"): "a published item's standard elements are public information",
}

# Django URL names (namespace:name) of pages anyone may open.
PUBLIC_URL_NAMES = {
    "portal:home": "the front page",
    "portal:shared_licence": "a holder's share link shows a licence to whoever they give it to",
    "portal:services": "finding a service in the public catalog",
    "portal:service_guide": "a service's guide (办事指南) is public information",
    "portal:life_event": "a life event's list of services is public information",
    "identity:sign_up": "registering",
    "identity:sign_in": "signing in",
    "identity:sign_out": "signing out asks nothing of a signed-out visitor",
    "identity:officer_sign_in": "officers signing in",
    "identity:officer_second_factor": "the second step of an officer's sign-in",
    "set_language": "the language switch",
    "admin:login": "sends staff to the officer sign-in",
    "admin:logout": "sends a signed-out visitor to the admin index, which asks to sign in",
    "api:api-root": "the API root (Ninja)",
    "api:openapi-json": "the OpenAPI description of the API",
    "api:openapi-view": "the API documentation page",
    "exchange-api:api-root": "the gateway root (Ninja)",
    "exchange-api:openapi-json": "the OpenAPI description of the gateway",
    "exchange-api:openapi-view": "the gateway documentation page",
    "oauth2_provider:token": "OAuth2 clients authenticate in the request",
    "oauth2_provider:revoke-token": "OAuth2 clients authenticate in the request",
    "oauth2_provider:jwks-info": "OpenID Connect: relying parties fetch the public keys",
    "oauth2_provider:oidc-connect-discovery-info": "OpenID Connect discovery",
    "oauth2_provider:oidc-connect-discovery-info-under-o": "OpenID Connect discovery",
    "oauth2_provider:oauth-server-metadata": "OAuth2 server metadata (RFC 8414)",
}


# --- the API ------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiOperation:
    method: str
    path: str  # the full path, with {parameters}
    operation: Operation

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def api_operations() -> list[ApiOperation]:
    """Return every operation of every Ninja API with the auth it was bound with."""
    found = []
    for ninja_api, prefix in APIS:
        ninja_api.urls  # noqa: B018 - binds the routers (and their auth) as serving does
        for bound in ninja_api._get_bound_routers():
            for path, path_view in bound.path_operations.items():
                parts = (prefix, bound.prefix, path)
                full = "/" + "/".join(part.strip("/") for part in parts if part.strip("/"))
                for operation in path_view.operations:
                    for method in operation.methods:
                        found.append(ApiOperation(method.upper(), full, operation))
    return sorted(found, key=lambda op: (op.path, op.method))


OPERATIONS = api_operations()
PROTECTED_OPERATIONS = [op for op in OPERATIONS if (op.method, op.path) not in PUBLIC_API_OPERATIONS]


def test_the_api_has_operations():
    assert len(OPERATIONS) >= len(PUBLIC_API_OPERATIONS)


def test_every_public_api_operation_exists_and_is_really_public():
    public = {(op.method, op.path): op for op in OPERATIONS if (op.method, op.path) in PUBLIC_API_OPERATIONS}

    assert set(public) == set(PUBLIC_API_OPERATIONS), "remove allowlist entries for routes that are gone"
    for key, op in public.items():
        assert not op.operation.auth_callbacks, f"{key} is allowlisted as public but asks for auth"


@pytest.mark.parametrize("op", PROTECTED_OPERATIONS, ids=lambda op: op.id)
def test_every_api_operation_requires_the_platform_s_authentication(op):
    callbacks = op.operation.auth_callbacks

    assert callbacks, f"{op.id} has no authentication; add auth or allowlist it in PUBLIC_API_OPERATIONS"
    for callback in callbacks:
        # New ways to authenticate are reviewed in one place.
        assert type(callback).__module__ == "tongban.identity.api_auth", (
            f"{op.id} authenticates with {callback!r}, which is not defined in tongban.identity.api_auth"
        )


def example_api_path(path: str) -> str:
    # Authentication runs before parameters are parsed, so any value will do.
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.mark.django_db
@pytest.mark.parametrize("op", PROTECTED_OPERATIONS, ids=lambda op: op.id)
def test_every_protected_api_operation_refuses_an_anonymous_caller(client, op):
    # when called without a token or a session
    response = client.generic(op.method, example_api_path(op.path), data="{}", content_type="application/json")

    # then it answers 401 as a problem, saying how to authenticate
    assert response.status_code == 401, f"{op.id} answered {response.status_code}"
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["status"] == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
@pytest.mark.parametrize("op", PROTECTED_OPERATIONS, ids=lambda op: op.id)
def test_every_protected_api_operation_refuses_an_invalid_token(client, op):
    response = client.generic(
        op.method, example_api_path(op.path), data="{}", content_type="application/json",
        headers={"Authorization": "Bearer not-a-token"},
    )

    assert response.status_code == 401, f"{op.id} answered {response.status_code}"


# --- pages and every other Django route ------------------------------------------------


@dataclass(frozen=True)
class Route:
    route: str  # the pattern as written, prefixes included
    name: str | None  # namespace:name
    module: str  # where the view is defined
    example: str | None  # a path that resolves to it

    @property
    def id(self) -> str:
        return self.name or self.route


def _candidates() -> list[str]:
    return ["1", "x", "00000000-0000-4000-8000-000000000001", *(c.label for c in apps.get_app_configs())]


def _example_piece(pattern: Any) -> str | None:
    """Return a string that ``pattern`` matches entirely (for its parameters: 1, x, …)."""
    regex = pattern.regex
    for template, params in normalize(regex.pattern):
        for values in product(_candidates(), repeat=len(params)):
            candidate = template % dict(zip(params, values, strict=True))
            match = regex.match(candidate)
            if match and match.end() == len(candidate):
                return candidate
    return None


def _walk(patterns: list[Any], prefix: list[Any], namespace: str | None) -> Iterator[Route]:
    for entry in patterns:
        chain = [*prefix, entry.pattern]
        if isinstance(entry, URLResolver):
            inner = ":".join(n for n in (namespace, entry.namespace) if n) or None
            yield from _walk(entry.url_patterns, chain, inner)
        elif isinstance(entry, URLPattern):
            pieces = [_example_piece(pattern) for pattern in chain]
            callback = entry.callback
            module = getattr(callback, "__module__", "") or ""
            view_class = getattr(callback, "view_class", None)
            if view_class is not None:
                module = view_class.__module__
            yield Route(
                route="".join(str(pattern) for pattern in chain),
                name=(f"{namespace}:{entry.name}" if namespace else entry.name) if entry.name else None,
                module=module,
                example=None if None in pieces else "/" + "".join(p for p in pieces if p is not None),
            )


def django_routes() -> list[Route]:
    """Return every URL pattern except the API's operations (tested above)."""
    routes = []
    for route in _walk(get_resolver().url_patterns, [], None):
        in_api = route.name is not None and route.name.startswith(("api:", "exchange-api:"))
        if in_api and route.name not in PUBLIC_URL_NAMES:
            continue
        routes.append(route)
    return routes


ROUTES = django_routes()
PROTECTED_ROUTES = [route for route in ROUTES if route.name not in PUBLIC_URL_NAMES]


def sign_in_paths() -> set[str]:
    return {
        urlsplit(resolve_url(settings.LOGIN_URL)).path,
        reverse("identity:officer_sign_in"),
        reverse("admin:login"),
    }


def test_our_routes_are_named_so_that_they_can_be_allowlisted():
    unnamed = [route.route for route in ROUTES if route.module.startswith("tongban.") and not route.name]

    assert not unnamed


def test_every_public_url_name_exists():
    names = {route.name for route in ROUTES}

    assert set(PUBLIC_URL_NAMES) <= names, "remove allowlist entries for routes that are gone"


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_every_route_has_an_example_path(route):
    assert route.example is not None, f"cannot build a path for {route.route}: extend _candidates()"


def asks_to_sign_in(response) -> bool:
    if response.status_code in (401, 403):
        return True
    if response.status_code in (301, 302, 303, 307, 308):
        return urlsplit(response["Location"]).path in sign_in_paths()
    return False


@pytest.mark.django_db
@pytest.mark.parametrize("route", PROTECTED_ROUTES, ids=lambda route: route.id)
def test_every_other_route_asks_an_anonymous_visitor_to_sign_in(client, route):
    assert route.example is not None

    for method in ("get", "post"):
        # when an anonymous visitor opens it or posts to it
        response = getattr(client, method)(route.example)

        # then they are sent to a sign-in page or refused; a method the route does not
        # serve (405) serves nothing either
        assert asks_to_sign_in(response) or response.status_code == 405, (
            f"{method.upper()} {route.example} ({route.id}, {route.module}) answered "
            f"{response.status_code} {response.get('Location', '')} to an anonymous visitor; "
            "require sign-in or add it to PUBLIC_URL_NAMES"
        )


# --- no CDN at run time --------------------------------------------------------------

EXTERNAL_ASSET = re.compile(
    r"""<(?:script|img|iframe)\b[^>]*\bsrc\s*=\s*["']?(?:https?:)?//|<link\b[^>]*\bhref\s*=\s*["']?(?:https?:)?//""",
    re.I,
)
PUBLIC_PAGES = [name for name in PUBLIC_URL_NAMES if not name.endswith(":openapi-json")]


@pytest.mark.django_db
@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_pages_load_no_assets_from_other_hosts(client, name):
    route = next((route for route in ROUTES if route.name == name), None)
    assert route is not None and route.example is not None

    response = client.get(route.example, follow=True)

    if "text/html" in response.get("Content-Type", ""):
        html = response.content.decode()
        found = EXTERNAL_ASSET.findall(html)
        assert not found, f"{name} loads assets from another host (no CDN at run time): {found}"


# --- migrations ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_migrations_match_the_models():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_info:
        pytest.fail(f"models changed without a migration (run `tongban makemigrations`):\n{out.getvalue()}"
                    f" exit {exit_info.code}")
