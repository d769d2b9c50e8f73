"""Reads of the catalog, scoped by the actor.

Resources are browsable by every officer and department system (the catalog
itself holds no personal data). Requests and grants are visible to both sides
(the requesting and the owner department) and to platform administrators.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tongban.catalog.access import acting_departments, is_platform_admin, may_browse
from tongban.catalog.models import AccessRequest, CatalogResource, Grant
from tongban.kernel.problems import NotFound

__all__ = [
    "GrantInForce",
    "find_grant",
    "find_resource",
    "grant_in_force",
    "grant_refusal_reason",
    "grants_visible_to",
    "requests_visible_to",
    "resource_names",
    "resources_visible_to",
    "visible_grant",
    "visible_request",
    "visible_resource",
]


def resources_visible_to(actor: Any, *, query: str | None = None) -> QuerySet[CatalogResource]:
    """Return the resources ``actor`` may browse, optionally matching ``query`` (code or name)."""
    if not may_browse(actor):
        return CatalogResource.objects.none()
    queryset = CatalogResource.objects.select_related("owner").order_by("code")
    if query:
        queryset = queryset.filter(
            Q(code__icontains=query) | Q(name__icontains=query) | Q(name_en__icontains=query)
            | Q(fields__name__icontains=query) | Q(fields__description__icontains=query)
        ).distinct()
    return queryset


def visible_resource(actor: Any, code: str) -> CatalogResource:
    """Return the resource ``code`` with its fields prefetched; raise NotFound if absent or hidden."""
    resource = resources_visible_to(actor).prefetch_related("fields").filter(code=code).first()
    if resource is None:
        raise NotFound(_("There is no such resource in the catalog."))
    return resource


def _both_sides(actor: Any, consumer: str, owner: str) -> Q | None:
    if is_platform_admin(actor):
        return Q()
    departments = acting_departments(actor)
    if not departments:
        return None
    return Q(**{f"{consumer}__in": departments}) | Q(**{f"{owner}__in": departments})


def requests_visible_to(actor: Any, *, status: str | None = None) -> QuerySet[AccessRequest]:
    """Return the access requests made by or to the actor's departments (all for platform admins)."""
    scope = _both_sides(actor, "requesting_department_id", "resource__owner_id")
    if scope is None:
        return AccessRequest.objects.none()
    queryset = AccessRequest.objects.select_related(
        "resource", "resource__owner", "requesting_department", "system"
    ).filter(scope)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-id")


def visible_request(actor: Any, request_id: int) -> AccessRequest:
    """Return the request if the actor may see it; raise NotFound otherwise."""
    found = requests_visible_to(actor).filter(pk=request_id).first()
    if found is None:
        raise NotFound(_("There is no such request, or you may not see it."))
    return found


def grants_visible_to(actor: Any) -> QuerySet[Grant]:
    """Return the grants held by or given by the actor's departments (all for platform admins)."""
    scope = _both_sides(actor, "consumer_id", "resource__owner_id")
    if scope is None:
        return Grant.objects.none()
    return (
        Grant.objects.select_related("resource", "resource__owner", "consumer", "system")
        .filter(scope)
        .order_by("-created_at", "-id")
    )


def visible_grant(actor: Any, grant_id: int) -> Grant:
    """Return the grant if the actor may see it; raise NotFound otherwise."""
    found = grants_visible_to(actor).filter(pk=grant_id).first()
    if found is None:
        raise NotFound(_("There is no such grant, or you may not see it."))
    return found


# -- reads for the exchange gateway (it has identified the calling system) -------------------------


def find_resource(code: str) -> CatalogResource | None:
    """Return the resource ``code`` with its fields prefetched, or None."""
    return (
        CatalogResource.objects.select_related("owner", "registry")
        .prefetch_related("fields")
        .filter(code=code)
        .first()
    )


def resource_names(codes: Iterable[str]) -> dict[str, str]:
    """Return the names of the resources ``codes`` in the active language (one query), by code.

    Catalog entries are public to officers and hold no personal data, so pages
    naming the resources of calls (such as "who used my data") may show them.
    """
    english = (get_language() or "").startswith("en")
    rows = CatalogResource.objects.filter(code__in=set(codes)).values_list("code", "name", "name_en")
    return {code: (name_en if english and name_en else name) for code, name, name_en in rows}


def _normalize_purpose(purpose: str) -> str:
    return " ".join(str(purpose or "").split()).casefold()


def _candidates(system_id: int, resource_code: str) -> list[Grant]:
    return list(
        Grant.objects.select_related("resource")
        .filter(system_id=system_id, resource__code=resource_code)
        .order_by("-valid_until", "-id")
    )


def _covers(grant: Grant, fields: list[str], purpose: str, at: datetime) -> bool:
    return (
        grant.is_live(at)
        and set(fields) <= set(grant.fields)
        and _normalize_purpose(grant.purpose) == _normalize_purpose(purpose)
    )


def find_grant(*, system_id: int, resource_code: str, fields: list[str], purpose: str,
               at: datetime) -> Grant | None:
    """Return a grant that lets system ``system_id`` read ``fields`` of the resource for ``purpose`` at ``at``.

    The grant must be in force (started, not expired, not revoked), cover every
    field, and have been given for the same purpose (compared ignoring case and
    spacing). Read fresh on every call, so a revocation takes effect on the next call.
    """
    return next(
        (grant for grant in _candidates(system_id, resource_code) if _covers(grant, fields, purpose, at)),
        None,
    )


@dataclass(frozen=True)
class GrantInForce:
    """What the gateway needs of a grant in force and its resource, read in one query."""

    grant_id: int
    fields: list[str]
    masking: dict[str, str]
    resource_code: str
    record_kind: str
    registry_id: int | None
    registry_code: str | None


# Live grants of one system for one resource, newest first, with the resource, its
# registry and how many of the asked fields the resource has (tables of Grant,
# CatalogResource, ResourceField and registries.Registry). {fields}: one %s per field.
_GRANTS_IN_FORCE = """
    SELECT g.id, g.fields, g.masking, g.purpose, r.code, r.record_kind, r.registry_id, y.code,
           (SELECT COUNT(*) FROM catalog_resourcefield f WHERE f.resource_id = r.id AND f.name IN ({fields}))
    FROM catalog_grant g
    JOIN catalog_catalogresource r ON r.id = g.resource_id
    LEFT JOIN registries_registry y ON y.id = r.registry_id
    WHERE g.system_id = %s AND r.code = %s AND g.revoked_at IS NULL AND g.valid_from <= %s AND g.valid_until > %s
    ORDER BY g.valid_until DESC, g.id DESC
"""


def _json(value: Any) -> Any:
    # jsonb arrives decoded from PostgreSQL, as text from SQLite.
    return json.loads(value) if isinstance(value, str) else value


def grant_in_force(*, system_id: int, resource_code: str, fields: list[str], purpose: str,
                   at: datetime) -> GrantInForce | None:
    """Return what ``find_grant`` would find, with its resource, in one query; or None.

    The gateway's path for an answered call: the grant must be in force, cover
    every field (each of them a field of the resource) and name the same purpose.
    None says only that there is no such grant; ``find_resource``, ``find_grant``
    and ``grant_refusal_reason`` then say why. Read fresh on every call, so a
    revocation takes effect on the next call.
    """
    if not fields:
        return None
    stamp = Grant._meta.get_field("valid_from").get_db_prep_save(at, connection)
    with connection.cursor() as cursor:
        statement = _GRANTS_IN_FORCE.format(fields=", ".join(["%s"] * len(fields)))
        cursor.execute(statement, [*fields, system_id, resource_code, stamp, stamp])
        rows = cursor.fetchall()
    wanted, purpose_key = set(fields), _normalize_purpose(purpose)
    for grant_id, granted, masking, grant_purpose, code, record_kind, registry_id, registry_code, known in rows:
        granted = _json(granted)
        if known == len(wanted) and wanted <= set(granted) and _normalize_purpose(grant_purpose) == purpose_key:
            return GrantInForce(grant_id=grant_id, fields=list(granted), masking=dict(_json(masking) or {}),
                                resource_code=code, record_kind=record_kind, registry_id=registry_id,
                                registry_code=registry_code)
    return None


def grant_refusal_reason(*, system_id: int, resource_code: str, fields: list[str], purpose: str,
                         at: datetime) -> str:
    """Return why ``find_grant`` found nothing, as a reason code for the caller and the call log.

    One of ``no_grant``, ``revoked``, ``expired``, ``not_yet_valid``,
    ``purpose_not_granted`` or ``fields_not_granted``.
    """
    grants = _candidates(system_id, resource_code)
    if not grants:
        return "no_grant"
    purpose_key = _normalize_purpose(purpose)
    for_purpose = [grant for grant in grants if _normalize_purpose(grant.purpose) == purpose_key]
    if not for_purpose:
        return "purpose_not_granted"
    covering = [grant for grant in for_purpose if set(fields) <= set(grant.fields)]
    if not covering:
        return "fields_not_granted"
    if all(grant.revoked_at is not None for grant in covering):
        return "revoked"
    unrevoked = [grant for grant in covering if grant.revoked_at is None]
    if any(grant.valid_from > at for grant in unrevoked):
        return "not_yet_valid"
    return "expired"


def department_grant(*, department_id: int, resource_code: str, fields: list[str], at: datetime) -> Grant | None:
    """Return a live grant held by a system of department ``department_id`` that covers ``fields`` of the resource.

    For the platform handling a case for the department (materials read from a
    registry, 免提交): whichever of the department's systems holds the grant
    makes the call, under the grant's own purpose. Newest grant first; None if
    there is none (the applicant then provides the material).
    """
    grants = (Grant.objects.select_related("system__application", "resource")
              .filter(consumer_id=department_id, resource__code=resource_code, revoked_at__isnull=True,
                      valid_from__lte=at, valid_until__gt=at, system__disabled_at__isnull=True)
              .order_by("-valid_from", "-pk"))
    wanted = set(fields)
    return next((grant for grant in grants if wanted <= set(grant.fields)), None)
