"""Small helpers shared by every block's page views."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from tongban.kernel.problems import Problem, RateLimited


def too_many_requests(request: HttpRequest, error: RateLimited) -> HttpResponse:
    """Render the readable 429 page with a Retry-After header."""
    response = render(request, "rate_limited.html", {"retry_after": error.retry_after}, status=429)
    response["Retry-After"] = str(error.retry_after)
    return response


def apply_problem(form: Any, problem: Problem) -> None:
    """Show a service's refusal on the form field it names (or on the whole form)."""
    field = problem.extensions.get("field")
    form.add_error(field if field in form.fields else None, problem.detail)


def safe_next(request: HttpRequest, default: str) -> str:
    """Return the ``next`` target if it stays on this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default
