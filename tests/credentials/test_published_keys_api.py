"""Verifiers fetch the platform CA and the seals' JWKS without credentials, and get nothing secret."""

from __future__ import annotations

import pytest
from cryptography import x509
from django.test import Client

from tongban.credentials import services as credentials
from tongban.kernel.actors import SystemActor
from tongban.kernel.models import Department

pytestmark = pytest.mark.django_db

PLATFORM = SystemActor("test")


@pytest.fixture
def seal(org):
    credentials.ensure_platform_ca(actor=PLATFORM)
    return credentials.create_seal(org.department("330100", Department.Kind.CIVIL_AFFAIRS), actor=PLATFORM)


def test_anyone_gets_the_root_ca_certificate_as_pem(seal):
    response = Client().get("/api/v1/credentials/ca")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pem-certificate-chain"
    assert "max-age" in response["Cache-Control"]
    root = x509.load_pem_x509_certificate(response.content)
    for key in seal.keys.all():
        x509.load_pem_x509_certificate(key.certificate_pem.encode()).verify_directly_issued_by(root)


def test_anyone_gets_the_seal_keys_without_private_parts(seal):
    response = Client().get("/api/v1/credentials/jwks")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert {key["kid"] for key in keys} == set(seal.keys.values_list("key_id", flat=True))
    assert {key["alg"] for key in keys} == {"EdDSA", "ES256"}
    assert not any("d" in key for key in keys)
    assert b"sw1:" not in response.content


def test_before_the_ca_is_set_up_both_are_empty_not_an_error():
    assert Client().get("/api/v1/credentials/ca").content == b""
    assert Client().get("/api/v1/credentials/jwks").json() == {"keys": []}
