"""Service-catalog API: find published service items and read every standard element of one.

The published catalog is public information, so both routes are open to
anyone (listed in ``PUBLIC_API_OPERATIONS``); drafts and withdrawn items are
not served here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from tongban.services import selectors
from tongban.services.models import Material, ServiceItem

router = Router(tags=["services"])

PAGE_SIZE = 20


class ServiceDepartmentOut(Schema):
    uscc: str
    name: str
    name_en: str
    region: str


def _department(department: Any) -> ServiceDepartmentOut:
    return ServiceDepartmentOut(uscc=department.uscc, name=department.name, name_en=department.name_en,
                         region=department.region.code)


class ServiceItemSummaryOut(Schema):
    code: str
    version: int
    name: str
    name_en: str
    type: str
    department: ServiceDepartmentOut
    region: str
    audience: str
    handling_mode: str
    in_person_trips: int
    promised_days: int
    instant_approval: bool

    @staticmethod
    def resolve_type(obj: ServiceItem) -> str:
        return obj.item_type

    @staticmethod
    def resolve_department(obj: ServiceItem) -> ServiceDepartmentOut:
        return _department(obj.department)

    @staticmethod
    def resolve_region(obj: ServiceItem) -> str:
        return obj.region.code


class ServiceFeeOut(Schema):
    name: str
    name_en: str
    amount: str
    basis: str


class ServiceResultOut(Schema):
    kind: str
    licence_type: str | None
    name: str
    name_en: str


class ServiceMaterialSourceOut(Schema):
    kind: str
    accepted_types: list[str]
    max_size_mb: int | None
    licence_type: str | None
    licence_type_name: str | None
    resource: str | None
    resource_name: str | None
    fields: list[str]


class ServiceMaterialOut(Schema):
    name: str
    name_en: str
    required: bool
    description: str
    description_en: str
    source: ServiceMaterialSourceOut

    @staticmethod
    def resolve_source(obj: Material) -> ServiceMaterialSourceOut:
        return ServiceMaterialSourceOut(
            kind=obj.source, accepted_types=obj.accepted_types, max_size_mb=obj.max_size_mb,
            licence_type=obj.licence_type.code if obj.licence_type else None,
            licence_type_name=obj.licence_type.name if obj.licence_type else None,
            resource=obj.resource.code if obj.resource else None,
            resource_name=obj.resource.name if obj.resource else None,
            fields=obj.resource_fields,
        )


class ServiceLifeEventRefOut(Schema):
    code: str
    name: str
    name_en: str


class ServiceItemOut(ServiceItemSummaryOut):
    status: str
    joint_departments: list[ServiceDepartmentOut]
    legal_basis: str
    legal_basis_en: str
    conditions: str
    conditions_en: str
    statutory_days: int
    fees: list[ServiceFeeOut]
    result: ServiceResultOut
    materials: list[ServiceMaterialOut]
    form_schema: dict[str, Any]
    form_ui: dict[str, Any]
    has_process: bool
    has_rules: bool
    keywords: list[str]
    topics: list[str]
    life_events: list[ServiceLifeEventRefOut]
    published_at: datetime | None
    updated_at: datetime

    @staticmethod
    def resolve_joint_departments(obj: ServiceItem) -> list[ServiceDepartmentOut]:
        return [_department(department) for department in obj.joint_departments.all()]

    @staticmethod
    def resolve_result(obj: ServiceItem) -> ServiceResultOut:
        licence_type = obj.result_licence_type
        return ServiceResultOut(kind=obj.result_kind, licence_type=licence_type.code if licence_type else None,
                         name=obj.result_name, name_en=obj.result_name_en)

    @staticmethod
    def resolve_materials(obj: ServiceItem) -> list[Material]:
        return list(obj.materials.all())

    @staticmethod
    def resolve_has_process(obj: ServiceItem) -> bool:
        return bool(obj.process_xml)

    @staticmethod
    def resolve_has_rules(obj: ServiceItem) -> bool:
        return bool(obj.rules_xml)

    @staticmethod
    def resolve_topics(obj: ServiceItem) -> list[str]:
        return [entry.topic for entry in obj.topics.all()]

    @staticmethod
    def resolve_life_events(obj: ServiceItem) -> list[Any]:
        return list(obj.life_events.all())


@router.get("/items", response=list[ServiceItemSummaryOut], auth=None,
            summary="Find published service items (public): by keyword (Chinese-aware) and filters")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def list_items(request: HttpRequest, q: str = "", topic: str = "", life_event: str = "", department: str = "",
               region: str = "", audience: str = "") -> Any:
    """Published items, best match first when ``q`` is given, else by code.

    ``department`` is a USCC, ``region`` a division code (its districts
    included), ``audience`` citizen or business (items for both included).
    """
    return selectors.published_items(query=q, topic=topic, life_event=life_event, department=department,
                                     region=region, audience=audience)


@router.get("/items/{code}", response=ServiceItemOut, auth=None,
            summary="One published service item with every standard element (public)")
def get_item(request: HttpRequest, code: str) -> ServiceItem:
    return selectors.published_item(code)
