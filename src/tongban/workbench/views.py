"""Workbench pages for officers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tongban.identity.decorators import officer_required
from tongban.identity.models import Account


@officer_required
def home(request: HttpRequest) -> HttpResponse:
    account: Account = request.user  # type: ignore[assignment]
    appointments = account.appointments.select_related("department__region", "position").order_by(
        "department__region__code", "department__kind", "role"
    )
    return render(request, "workbench/home.html", {"appointments": appointments})
