"""Kernel API: health and the public org tree."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

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
