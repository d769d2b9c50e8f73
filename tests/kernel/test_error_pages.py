"""Errors read as problem+json under /api/ and as readable pages elsewhere."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_an_unknown_api_route_is_a_problem(client):
    response = client.get("/api/v1/no-such-route")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_an_unknown_page_is_a_readable_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]
    assert "页面不存在" in response.content.decode()


def test_a_form_without_its_csrf_token_gets_a_readable_refusal():
    response = Client(enforce_csrf_checks=True).post("/account/sign-in/", {"username": "a", "password": "b"})
    assert response.status_code == 403
    assert "表单已过期" in response.content.decode()
