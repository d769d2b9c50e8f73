"""RFC 9457 problem details: the one shape of every API error."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://tongban.example/problems/"


class Problem(Exception):
    """An error a client can act on; rendered as problem+json by the API.

    Subclasses set ``status``, ``slug`` and ``title``; ``detail`` says what went
    wrong in this occurrence. Services raise these, and nothing is written.
    """

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str = "", **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extensions = extensions

    def as_dict(self, instance: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


class InvalidInput(Problem):
    status = 422
    slug = "invalid-input"
    title = "The input is not valid"


class NotAuthenticated(Problem):
    status = 401
    slug = "not-authenticated"
    title = "Authentication required"


class PermissionDenied(Problem):
    status = 403
    slug = "permission-denied"
    title = "You may not do this"


class NotFound(Problem):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(Problem):
    status = 409
    slug = "conflict"
    title = "The request conflicts with the current state"


class RateLimited(Problem):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"

    def __init__(self, retry_after: int, detail: str = "") -> None:
        super().__init__(detail or f"Try again in {retry_after} seconds.")
        self.retry_after = retry_after


def problem_response(request: HttpRequest | None, problem: Problem) -> JsonResponse:
    """Return ``problem`` as an application/problem+json response."""
    instance = request.path if request is not None else ""
    response = JsonResponse(
        problem.as_dict(instance), status=problem.status, content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )
    if isinstance(problem, RateLimited):
        response["Retry-After"] = str(problem.retry_after)
    return response
