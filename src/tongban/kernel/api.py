"""Kernel API: health, the public org tree and the working-day calendar."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import HttpRequest
from ninja import Path, Router, Schema

from tongban.kernel import selectors

router = Router(tags=["kernel"])


class HealthOut(Schema):
    status: str
    database: str


class RegionOut(Schema):
    code: str
    name: str
    name_en: str
    level: str
    parent_code: str | None


class DepartmentOut(Schema):
    uscc: str
    name: str
    name_en: str
    kind: str
    region_code: str


@router.get("/health", response=HealthOut, auth=None, summary="Liveness and database check")
def health(request: HttpRequest) -> HealthOut:
    return HealthOut(status="ok", database=selectors.database_vendor_if_reachable())


@router.get("/regions", response=list[RegionOut], auth=None, summary="The region tree (public)")
def regions(request: HttpRequest) -> list[RegionOut]:
    return [
        RegionOut(code=r.code, name=r.name, name_en=r.name_en, level=r.level,
                  parent_code=r.parent.code if r.parent else None)
        for r in selectors.regions()
    ]


@router.get("/departments", response=list[DepartmentOut], auth=None, summary="Departments (public)")
def departments(request: HttpRequest, region: str | None = None) -> list[DepartmentOut]:
    return [
        DepartmentOut(uscc=d.uscc, name=d.name, name_en=d.name_en, kind=d.kind, region_code=d.region.code)
        for d in selectors.departments(region_code=region)
    ]


class CalendarDayOut(Schema):
    date: dt.date
    kind: str
    name: str
    name_en: str
    region_code: str | None
    source: str


class CalendarNoticeOut(Schema):
    notice: str
    document_number: str
    published_on: dt.date


class CalendarYearOut(Schema):
    year: int
    loaded: bool
    notice: CalendarNoticeOut | None
    days: list[CalendarDayOut]


@router.get(
    "/calendar/{year}", response=CalendarYearOut, auth=None,
    summary="A year's holidays and adjusted working days (public)",
    description="The days that break the Monday-to-Friday rule in the year, nationally or in a region "
                "(`region`: a 6-digit division code; its own and its parents' days apply, the nearest "
                "first). `loaded` is false until the year's State Council notice is loaded: the "
                "platform then counts working days by the weekend rule alone.",
)
def calendar_year(
    request: HttpRequest, year: Annotated[int, Path(ge=1949, le=2999)], region: str | None = None
) -> CalendarYearOut:
    result = selectors.calendar_year(year, region_code=region)
    notice = result.notice
    return CalendarYearOut(
        year=result.year,
        loaded=notice is not None,
        notice=CalendarNoticeOut(notice=notice.notice, document_number=notice.document_number,
                                 published_on=notice.published_on) if notice is not None else None,
        days=[
            CalendarDayOut(date=day.date, kind=day.kind, name=day.name, name_en=day.name_en,
                           region_code=day.region.code if day.region is not None else None, source=day.source)
            for day in result.days
        ],
    )
