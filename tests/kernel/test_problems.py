"""Every API error is an RFC 9457 problem (application/problem+json)."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory
from ninja.errors import AuthenticationError, HttpError, ValidationError

from tongban.api import api
from tongban.kernel.problems import (
    PROBLEM_TYPE_BASE,
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    Problem,
    RateLimited,
    problem_response,
)

factory = RequestFactory()


def body(response) -> dict:
    assert response["Content-Type"] == "application/problem+json"
    return json.loads(response.content)


@pytest.mark.parametrize(
    ("problem", "status", "slug"),
    [
        (Problem("x"), 400, "bad-request"),
        (InvalidInput("x"), 422, "invalid-input"),
        (NotAuthenticated("x"), 401, "not-authenticated"),
        (PermissionDenied("x"), 403, "permission-denied"),
        (NotFound("x"), 404, "not-found"),
        (Conflict("x"), 409, "conflict"),
        (RateLimited(5, "x"), 429, "rate-limited"),
    ],
)
def test_each_problem_has_the_rfc_9457_members(problem, status, slug):
    response = problem_response(factory.get("/api/v1/things/7"), problem)

    assert response.status_code == status
    assert body(response) == {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": problem.title,
        "status": status,
        "detail": "x",
        "instance": "/api/v1/things/7",
    }


def test_extensions_are_added_as_members_and_text_stays_readable():
    problem = InvalidInput("身份证号码无效", field="id_number")

    data = body(problem_response(None, problem))

    assert data["field"] == "id_number"
    assert data["detail"] == "身份证号码无效"
    assert "instance" not in data
    assert "身份证号码无效".encode() in problem_response(None, problem).content


def test_a_problem_without_detail_repeats_its_title():
    assert NotFound().detail == "Not found"
    assert RateLimited(30).detail == "Try again in 30 seconds."


@pytest.mark.parametrize(
    ("error", "status", "slug"),
    [
        (NotFound("no such person"), 404, "not-found"),
        (ValidationError([{"loc": ["query", "region"], "msg": "bad", "type": "value_error"}]), 422, "invalid-input"),
        (AuthenticationError(), 401, "not-authenticated"),
        (HttpError(405, "Method not allowed"), 405, "bad-request"),
    ],
)
def test_the_api_renders_its_errors_as_problems(error, status, slug):
    request = factory.get("/api/v1/x")

    response = api.on_exception(request, error)

    data = body(response)
    assert response.status_code == status
    assert data["status"] == status
    assert data["type"] == PROBLEM_TYPE_BASE + slug
    assert data["instance"] == "/api/v1/x"


def test_validation_problems_list_the_errors():
    errors = [{"loc": ["query", "region"], "msg": "bad", "type": "value_error"}]

    data = body(api.on_exception(factory.get("/api/v1/x"), ValidationError(errors)))

    assert data["errors"] == errors


def test_an_unauthenticated_api_call_is_told_how_to_authenticate():
    response = api.on_exception(factory.get("/api/v1/x"), AuthenticationError())

    assert response["WWW-Authenticate"] == 'Bearer realm="tongban"'


@pytest.mark.django_db
def test_an_unknown_api_path_is_not_found(client):
    response = client.get("/api/v1/no-such-route")

    assert response.status_code == 404
