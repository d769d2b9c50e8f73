"""The HTTP API at /api/v1: one NinjaAPI, one router per block, problem+json errors."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from tongban.identity.api import router as identity_router
from tongban.identity.api_auth import api_auth
from tongban.kernel.api import router as kernel_router
from tongban.kernel.problems import (
    InvalidInput,
    NotAuthenticated,
    Problem,
    problem_response,
)
from tongban.registries.api import router as registries_router

api = NinjaAPI(
    title="Tongban API",
    version="1",
    description="The Tongban digital-government platform API. Errors are RFC 9457 problem details.",
    urls_namespace="api",
    auth=api_auth,
)


@api.exception_handler(Problem)
def _problem(request: HttpRequest, exc: Problem) -> HttpResponse:
    return problem_response(request, exc)


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return problem_response(request, InvalidInput("The request does not match the schema.", errors=exc.errors))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = problem_response(request, NotAuthenticated("Send a valid bearer token or sign in."))
    response["WWW-Authenticate"] = 'Bearer realm="tongban"'
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    problem = Problem(str(exc))
    problem.status = exc.status_code
    problem.title = "Request failed"
    return problem_response(request, problem)


api.add_router("/kernel", kernel_router)
api.add_router("/registries", registries_router)
api.add_router("/identity", identity_router)
