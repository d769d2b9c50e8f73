"""Error pages: problem+json under /api/, readable bilingual pages elsewhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tongban.kernel.problems import NotFound, PermissionDenied, Problem, problem_response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return problem_response(request, NotFound("There is no such API route."))
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        problem = Problem("Something went wrong on our side. The error was logged; try again later.")
        problem.status, problem.slug, problem.title = 500, "server-error", "Server error"
        return problem_response(request, problem)
    return render(request, "500.html", status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if _is_api(request):
        return problem_response(request, PermissionDenied("The CSRF check failed: send the CSRF token."))
    return render(request, "403_csrf.html", status=403)
