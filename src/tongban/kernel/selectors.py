"""Reads of the org tree and the working-day calendar (public information: no personal data here)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet

from tongban.kernel.calendar import (
    CalendarNotLoaded,
    Deadline,
    DeadlineState,
    Pause,
    TimeLimit,
    WorkingCalendar,
    add_working_days,
    deadline_state,
    is_working_day,
    load_calendar,
    missing_calendar_years,
    region_codes,
    working_days_between,
    years_loaded,
)
from tongban.kernel.models import CalendarDay, CalendarYear, Department, Region
from tongban.kernel.problems import NotFound

__all__ = [
    "CalendarNotLoaded",
    "Deadline",
    "DeadlineState",
    "Pause",
    "TimeLimit",
    "WorkingCalendar",
    "YearCalendar",
    "add_working_days",
    "calendar_year",
    "database_vendor_if_reachable",
    "deadline_state",
    "departments",
    "is_working_day",
    "load_calendar",
    "missing_calendar_years",
    "regions",
    "working_days_between",
    "years_loaded",
]


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


@dataclass(frozen=True)
class YearCalendar:
    """One year's holidays and adjusted working days as they apply in a region (or nationally)."""

    year: int
    notice: CalendarYear | None
    days: list[CalendarDay]


def calendar_year(year: int, *, region_code: str | None = None) -> YearCalendar:
    """Return the days of ``year`` that apply in the region (nearest region first wins) or nationally.

    Raise NotFound for an unknown region code.
    """
    codes: tuple[str, ...] = ()
    if region_code is not None:
        if not Region.objects.filter(code=region_code).exists():
            raise NotFound(f"No region has the code {region_code!r}.")
        codes = region_codes(region_code)
    rows = CalendarDay.objects.select_related("region").filter(date__year=year).filter(
        Q(region__isnull=True) | Q(region__code__in=codes)
    )
    nearest = {code: rank for rank, code in enumerate(codes)}
    chosen: dict[object, tuple[int, CalendarDay]] = {}
    for row in rows:
        rank = nearest[row.region.code] if row.region is not None else len(codes)
        if row.date not in chosen or rank < chosen[row.date][0]:
            chosen[row.date] = (rank, row)
    days = [row for _, row in sorted(chosen.values(), key=lambda pair: pair[1].date)]
    return YearCalendar(year=year, notice=CalendarYear.objects.filter(year=year).first(), days=days)
