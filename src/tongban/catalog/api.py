"""Catalog API: browse resources, request access, decide requests, revoke grants.

``request.auth`` is the acting account or department system. Reads go through
the scoped selectors (what the caller may not see is a 404); writes go through
the services (what the caller may not do is a 403).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from tongban.catalog import selectors, services
from tongban.catalog.models import AccessRequest, CatalogResource, Grant
from tongban.identity.models import DepartmentSystem

router = Router(tags=["catalog"])

PAGE_SIZE = 50


def _actor(request: HttpRequest) -> Any:
    return getattr(request, "auth", None)


class FieldOut(Schema):
    name: str
    type: str
    description: str
    personal: bool
    sensitive_personal: bool


class ResourceOut(Schema):
    code: str
    name: str
    name_en: str
    owner_uscc: str
    owner_name: str
    record_kind: str
    classification: str
    sharing_type: str
    open_type: str
    update_cycle: str
    version: str
    updated_at: datetime

    @staticmethod
    def resolve_owner_uscc(obj: CatalogResource) -> str:
        return obj.owner.uscc

    @staticmethod
    def resolve_owner_name(obj: CatalogResource) -> str:
        return obj.owner.name


class ResourceDetailOut(ResourceOut):
    description: str
    fields: list[FieldOut]

    @staticmethod
    def resolve_fields(obj: CatalogResource) -> list[Any]:
        return list(obj.fields.all())


class PublishRegistryIn(Schema):
    registry: str
    code: str = ""
    description: str = ""
    classification: str
    sharing_type: str
    open_type: str
    update_cycle: str


class RequestIn(Schema):
    resource: str
    fields: list[str]
    purpose: str
    legal_basis: str
    valid_until: datetime
    system_id: int


class RequestOut(Schema):
    id: int
    resource: str
    requesting_department: str
    system_id: int
    fields: list[str]
    purpose: str
    legal_basis: str
    valid_until: datetime
    status: str
    reason: str
    created_at: datetime
    decided_at: datetime | None
    grant_id: int | None

    @staticmethod
    def resolve_resource(obj: AccessRequest) -> str:
        return obj.resource.code

    @staticmethod
    def resolve_requesting_department(obj: AccessRequest) -> str:
        return obj.requesting_department.uscc

    @staticmethod
    def resolve_grant_id(obj: AccessRequest) -> int | None:
        grant = getattr(obj, "grant", None) if obj.status == AccessRequest.Status.APPROVED else None
        return grant.pk if grant is not None else None


class ApproveIn(Schema):
    masking: dict[str, str] | None = None
    valid_until: datetime | None = None


class ReasonIn(Schema):
    reason: str


class GrantOut(Schema):
    id: int
    request_id: int
    resource: str
    consumer: str
    system_id: int
    fields: list[str]
    masking: dict[str, str]
    purpose: str
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None
    revoke_reason: str

    @staticmethod
    def resolve_resource(obj: Grant) -> str:
        return obj.resource.code

    @staticmethod
    def resolve_consumer(obj: Grant) -> str:
        return obj.consumer.uscc


@router.get("/resources", response=list[ResourceOut], summary="Browse and search the resource catalog")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def list_resources(request: HttpRequest, q: str | None = None) -> Any:
    return selectors.resources_visible_to(_actor(request), query=q)


@router.post("/resources/from-registry", response={201: ResourceDetailOut},
             summary="Publish a registry defined without code, its fields taken from its schema")
def publish_registry(request: HttpRequest, payload: PublishRegistryIn) -> Status[CatalogResource]:
    published = services.publish_registry(
        actor=_actor(request), registry_code=payload.registry, code=payload.code,
        description=payload.description, classification=payload.classification,
        sharing_type=payload.sharing_type, open_type=payload.open_type, update_cycle=payload.update_cycle,
    )
    return Status(201, published)


# Declared after /resources/from-registry: its path would otherwise take that one and refuse POST.
@router.get("/resources/{code}", response=ResourceDetailOut, summary="One resource with its fields")
def get_resource(request: HttpRequest, code: str) -> CatalogResource:
    return selectors.visible_resource(_actor(request), code)


@router.post("/requests", response={201: RequestOut}, summary="Request fields of a resource for a system")
def create_request(request: HttpRequest, payload: RequestIn) -> Status[AccessRequest]:
    actor = _actor(request)
    resource = selectors.visible_resource(actor, payload.resource)
    system = get_object_or_404(DepartmentSystem, pk=payload.system_id)
    created = services.request_access(
        actor=actor, resource=resource, fields=payload.fields, purpose=payload.purpose,
        legal_basis=payload.legal_basis, valid_until=payload.valid_until, system=system,
    )
    return Status(201, created)


@router.get("/requests", response=list[RequestOut], summary="Requests made by or to my departments")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def list_requests(request: HttpRequest, status: str | None = None) -> Any:
    return selectors.requests_visible_to(_actor(request), status=status).select_related("grant")


@router.post("/requests/{request_id}/approve", response={201: GrantOut}, summary="Approve a request")
def approve(request: HttpRequest, request_id: int, payload: ApproveIn) -> Status[Grant]:
    actor = _actor(request)
    access_request = selectors.visible_request(actor, request_id)
    grant = services.approve_request(access_request, actor=actor, masking=payload.masking,
                                     valid_until=payload.valid_until)
    return Status(201, grant)


@router.post("/requests/{request_id}/refuse", response=RequestOut, summary="Refuse a request with a reason")
def refuse(request: HttpRequest, request_id: int, payload: ReasonIn) -> AccessRequest:
    actor = _actor(request)
    return services.refuse_request(selectors.visible_request(actor, request_id), actor=actor,
                                   reason=payload.reason)


@router.get("/grants", response=list[GrantOut], summary="Grants held or given by my departments")
@paginate(PageNumberPagination, page_size=PAGE_SIZE)
def list_grants(request: HttpRequest) -> Any:
    return selectors.grants_visible_to(_actor(request))


@router.post("/grants/{grant_id}/revoke", response=GrantOut, summary="Revoke a grant")
def revoke(request: HttpRequest, grant_id: int, payload: ReasonIn) -> Grant:
    actor = _actor(request)
    return services.revoke_grant(selectors.visible_grant(actor, grant_id), actor=actor, reason=payload.reason)
