"""Request middleware: the client address and the Content-Security-Policy."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from tongban.kernel.context import current_source_address
from tongban.kernel.middleware import (
    ClientAddressMiddleware,
    ContentSecurityPolicyMiddleware,
    client_address,
)

factory = RequestFactory()


def request_from(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return factory.get("/", **extra)


def test_without_trusted_proxies_forwarded_for_is_ignored(settings):
    settings.TRUSTED_PROXIES = []

    assert client_address(request_from("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


def test_forwarded_for_from_an_untrusted_peer_is_ignored(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]

    assert client_address(request_from("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


def test_a_trusted_proxy_names_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]

    assert client_address(request_from("10.0.0.1", "203.0.113.1")) == "203.0.113.1"


def test_an_address_forged_by_the_client_is_not_believed(settings):
    # given a client that sends its own X-Forwarded-For, which the proxy appends to
    settings.TRUSTED_PROXIES = ["10.0.0.1"]

    address = client_address(request_from("10.0.0.1", "1.2.3.4, 203.0.113.1"))

    # then the address the trusted proxy saw wins, not the forged one
    assert address == "203.0.113.1"


def test_a_chain_of_trusted_proxies_is_walked_back_to_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1", "10.0.0.2"]

    assert client_address(request_from("10.0.0.1", "9.9.9.9, 203.0.113.1, 10.0.0.2")) == "203.0.113.1"


def test_a_trusted_proxy_without_forwarded_for_is_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]

    assert client_address(request_from("10.0.0.1")) == "10.0.0.1"
    assert client_address(request_from("10.0.0.1", " , ")) == "10.0.0.1"


def test_the_address_is_available_to_the_audit_chain_during_the_request_only(settings):
    settings.TRUSTED_PROXIES = []
    seen: list[str | None] = []

    def view(request):
        seen.append(current_source_address.get())
        return HttpResponse()

    ClientAddressMiddleware(view)(request_from("198.51.100.7"))

    assert seen == ["198.51.100.7"]
    assert current_source_address.get() is None


def test_the_address_is_reset_when_the_view_fails(settings):
    def view(request):
        raise RuntimeError

    with pytest.raises(RuntimeError):
        ClientAddressMiddleware(view)(request_from("198.51.100.7"))

    assert current_source_address.get() is None


def test_the_csp_middleware_adds_the_policy_without_replacing_a_view_s_own(settings):
    settings.CONTENT_SECURITY_POLICY = "default-src 'self'"

    plain = ContentSecurityPolicyMiddleware(lambda request: HttpResponse())(request_from("x"))

    def own(request):
        response = HttpResponse()
        response["Content-Security-Policy"] = "default-src 'none'"
        return response

    assert plain["Content-Security-Policy"] == "default-src 'self'"
    assert ContentSecurityPolicyMiddleware(own)(request_from("x"))["Content-Security-Policy"] == (
        "default-src 'none'"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/account/sign-in/", "/api/v1/kernel/health", "/no-such-page/"])
def test_every_response_carries_a_csp_without_inline_code(client, path):
    response = client.get(path)

    policy = response["Content-Security-Policy"]
    directives = {
        part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()
    }
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
