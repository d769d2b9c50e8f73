"""Reads of the org tree (public information: no personal data here)."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from tongban.kernel.models import Department, Region


def regions() -> QuerySet[Region]:
    return Region.objects.select_related("parent").order_by("code")


def departments(*, region_code: str | None = None) -> QuerySet[Department]:
    queryset = Department.objects.select_related("region").order_by("region__code", "kind")
    if region_code:
        queryset = queryset.filter(region__code=region_code)
    return queryset


def database_vendor_if_reachable() -> str:
    """Return the database vendor after a trivial query (raises if unreachable)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return connection.vendor
