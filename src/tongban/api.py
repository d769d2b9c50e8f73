"""The HTTP APIs, both speaking RFC 9457 problem+json:

- ``/api/v1``: the platform API, one router per block (``api``);
- ``/exchange/v1``: the data-exchange gateway, the one entry for every
  cross-department data call (``gateway_api``), with its own OpenAPI description.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from tongban.cases.api import router as cases_router
from tongban.catalog.api import router as catalog_router
from tongban.credentials.api import router as credentials_router
from tongban.exchange.api import log_router as exchange_log_router
from tongban.exchange.api import router as exchange_router
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
from tongban.services.api import router as services_router


def _speak_problems(target: NinjaAPI) -> NinjaAPI:
    """Render every error of ``target`` as application/problem+json."""

    @target.exception_handler(Problem)
    def _problem(request: HttpRequest, exc: Problem) -> HttpResponse:
        return problem_response(request, exc)

    @target.exception_handler(ValidationError)
    def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return problem_response(
            request, InvalidInput("The request does not match the schema.", errors=exc.errors)
        )

    @target.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = problem_response(request, NotAuthenticated("Send a valid bearer token or sign in."))
        response["WWW-Authenticate"] = 'Bearer realm="tongban"'
        return response

    @target.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        problem = Problem(str(exc))
        problem.status = exc.status_code
        problem.title = "Request failed"
        return problem_response(request, problem)

    return target


api = _speak_problems(NinjaAPI(
    title="Tongban API",
    version="1",
    description="The Tongban digital-government platform API. Errors are RFC 9457 problem details.",
    urls_namespace="api",
    auth=api_auth,
))
api.add_router("/kernel", kernel_router)
api.add_router("/registries", registries_router)
api.add_router("/identity", identity_router)
api.add_router("/catalog", catalog_router)
api.add_router("/credentials", credentials_router)
api.add_router("/services", services_router)
api.add_router("/cases", cases_router)

gateway_api = _speak_problems(NinjaAPI(
    title="Tongban data-exchange gateway",
    version="1",
    description=(
        "The one entry for cross-department data calls. Department systems call it with their "
        "client-credentials token; the gateway checks the grant, returns only granted fields and "
        "writes every call, answered or refused, to the signed call log."
    ),
    urls_namespace="exchange-api",
))
# The log's routes first: the gateway's /{resource_code}/{key} would take any two-segment path.
gateway_api.add_router("", exchange_log_router)
gateway_api.add_router("", exchange_router)
