"""Every write of the catalog: publishing resources, requests, decisions, grants.

Each write checks the actor, validates, writes and appends one audit record in
one transaction; refusals raise a ``kernel.problems`` error and write nothing.
The reads the exchange gateway needs (``grant_in_force``, ``find_resource``,
``find_grant``, ``grant_refusal_reason``) and ``apply_masking`` are exported
here as well.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.catalog.access import (
    DATA_OFFICER,
    acting_departments,
    deciding_departments,
    is_platform_admin,
    role_departments,
)
from tongban.catalog.models import AccessRequest, CatalogResource, Grant, ResourceField
from tongban.catalog.selectors import (
    GrantInForce,
    department_grant,
    find_grant,
    find_resource,
    grant_in_force,
    grant_refusal_reason,
    grants_visible_to,
    requests_visible_to,
    resource_names,
    resources_visible_to,
    visible_grant,
    visible_request,
    visible_resource,
)
from tongban.identity.models import Account, DepartmentSystem
from tongban.kernel import audit
from tongban.kernel.actors import is_system
from tongban.kernel.masking import mask_id_number, mask_name, mask_phone
from tongban.kernel.models import Department
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied
from tongban.registries import services as registries
from tongban.registries.models import Registry

__all__ = [
    "MASKS",
    "GrantInForce",
    "acting_departments",
    "apply_masking",
    "approve_request",
    "department_grant",
    "find_grant",
    "find_resource",
    "grant_in_force",
    "grant_refusal_reason",
    "grants_visible_to",
    "is_platform_admin",
    "publish_registry",
    "publish_resource",
    "refuse_request",
    "request_access",
    "requests_visible_to",
    "resource_names",
    "resources_visible_to",
    "revoke_grant",
    "visible_grant",
    "visible_request",
    "visible_resource",
]


def _redact(value: str) -> str:
    return "*" * len(value)


# The conditions an owner may attach to a field of a grant.
MASKS: dict[str, Callable[[str], str]] = {
    "id_number": mask_id_number,
    "name": mask_name,
    "phone": mask_phone,
    "redact": _redact,
}


def apply_masking(kind: str, value: Any) -> Any:
    """Return ``value`` masked as ``kind`` says (None stays None)."""
    if value is None:
        return None
    return MASKS[kind](str(value))


def _clean_text(field: str, value: Any, *, max_length: int) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise InvalidInput(_("This field is required."), field=field)
    if len(text) > max_length:
        raise InvalidInput(_("Keep this under %(count)d characters.") % {"count": max_length}, field=field)
    return text


def _clean_choice(field: str, value: Any, choices: Sequence[str]) -> str:
    if value not in choices:
        raise InvalidInput(_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}, field=field)
    return str(value)


def _clean_future(field: str, value: Any, now: datetime) -> datetime:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise InvalidInput(_("Give a date and time with a time zone."), field=field)
    if value <= now:
        raise InvalidInput(_("The date must be in the future."), field=field)
    return value


def _clean_fields(resource: CatalogResource, fields: Sequence[str]) -> list[str]:
    names = [field.name for field in resource.fields.all()]
    wanted = list(dict.fromkeys(str(name).strip() for name in fields or []))
    if not wanted:
        raise InvalidInput(_("Name at least one field."), field="fields")
    unknown = [name for name in wanted if name not in names]
    if unknown:
        raise InvalidInput(_("The resource has no field %(field)s.") % {"field": unknown[0]}, field="fields")
    return [name for name in names if name in wanted]


def _clean_field_definitions(definitions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for position, definition in enumerate(definitions):
        name = str(definition.get("name", "")).strip()
        if not name or not name.replace("_", "").isalnum() or not name.isascii() or len(name) > 64:
            raise InvalidInput(_("Name each field with letters, digits and underscores."), field="fields")
        if name in seen:
            raise InvalidInput(_("The field %(field)s is listed twice.") % {"field": name}, field="fields")
        seen.add(name)
        sensitive = bool(definition.get("sensitive_personal", False))
        cleaned.append({
            "name": name,
            "type": _clean_choice("fields", definition.get("type", "string"), ResourceField.FieldType.values),
            "description": str(definition.get("description", ""))[:300],
            "personal": bool(definition.get("personal", False)) or sensitive,
            "sensitive_personal": sensitive,
            "position": position,
        })
    if not cleaned:
        raise InvalidInput(_("A resource has at least one field."), field="fields")
    return cleaned


# -- resources ------------------------------------------------------------------------------------


@transaction.atomic
def publish_resource(
    *,
    actor: Any,
    code: str,
    name: str,
    name_en: str = "",
    description: str = "",
    owner: Department,
    registry: Registry | None = None,
    record_kind: str = CatalogResource.RecordKind.OTHER,
    classification: str,
    sharing_type: str,
    open_type: str,
    update_cycle: str,
    version: str = "1.0",
    fields: Sequence[Mapping[str, Any]],
) -> CatalogResource:
    """Publish the resource ``code`` in the catalog, or bring it up to date, and return it.

    ``fields`` lists the field definitions (name, type, description, personal,
    sensitive_personal); fields no longer listed are removed. Writes (and
    audits) nothing when the resource is already as described. Raise
    PermissionDenied unless the actor is the platform or a data officer or
    department administrator of ``owner``; InvalidInput for a bad value or a
    registry that ``owner`` does not own.
    """
    if not (is_system(actor) or owner.pk in deciding_departments(actor)):
        raise PermissionDenied(_("Only the owner department's data officers may publish its resources."))
    values: dict[str, Any] = {
        "name": _clean_text("name", name, max_length=200),
        "name_en": " ".join(str(name_en or "").split())[:200],
        "description": str(description or "").strip(),
        "owner": owner,
        "registry": registry,
        "record_kind": _clean_choice("record_kind", record_kind, CatalogResource.RecordKind.values),
        "classification": _clean_choice("classification", classification,
                                        CatalogResource.Classification.values),
        "sharing_type": _clean_choice("sharing_type", sharing_type, CatalogResource.SharingType.values),
        "open_type": _clean_choice("open_type", open_type, CatalogResource.OpenType.values),
        "update_cycle": _clean_choice("update_cycle", update_cycle, CatalogResource.UpdateCycle.values),
        "version": _clean_text("version", version, max_length=20),
    }
    code = _clean_text("code", code, max_length=80)
    if registry is not None and registry.owner_id != owner.pk:
        raise InvalidInput(_("A registry is published by the department that owns it."), field="registry")
    defined_without_code = registry is not None and registries.definition_of(registry.pk) is not None
    if (values["record_kind"] == CatalogResource.RecordKind.RECORD) != defined_without_code:
        raise InvalidInput(_("Records of a registry defined without code are published as such, "
                             "and only they."), field="record_kind")
    definitions = _clean_field_definitions(fields)
    now = timezone.now()
    resource = CatalogResource.objects.select_for_update().filter(code=code).first()
    if resource is None:
        resource = CatalogResource.objects.create(code=code, published_at=now, updated_at=now, **values)
        ResourceField.objects.bulk_create([ResourceField(resource=resource, **d) for d in definitions])
        audit.record("catalog.resource.published", actor=actor, target=f"resource:{code}",
                     details={"owner": owner.pk, "fields": [d["name"] for d in definitions]})
        return resource
    changed = sorted(key for key, value in values.items() if getattr(resource, key) != value)
    current = {
        field.name: {key: getattr(field, key) for key in definitions[0]}
        for field in resource.fields.all()
    }
    wanted = {d["name"]: d for d in definitions}
    fields_changed = current != wanted
    if not changed and not fields_changed:
        return resource
    for key in changed:
        setattr(resource, key, values[key])
    resource.updated_at = now
    resource.save()
    if fields_changed:
        resource.fields.exclude(name__in=list(wanted)).delete()
        for definition in definitions:
            ResourceField.objects.update_or_create(resource=resource, name=definition["name"],
                                                   defaults=definition)
    audit.record("catalog.resource.updated", actor=actor, target=f"resource:{code}",
                 details={"changed": changed, "fields_changed": fields_changed})
    return resource


# The JSON Schema keywords a registry defined without code may put on a
# property to say how the catalog describes it ("x-" keywords are ignored by
# validators, so the schema stays standard).
PERSONAL_KEYWORD = "x-personal"
SENSITIVE_KEYWORD = "x-sensitive-personal"


def _field_type(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if kind == "string" and schema.get("format") == "date":
        return ResourceField.FieldType.DATE
    return {
        "integer": ResourceField.FieldType.INTEGER,
        "number": ResourceField.FieldType.DECIMAL,
        "boolean": ResourceField.FieldType.BOOLEAN,
    }.get(str(kind), ResourceField.FieldType.STRING)


def registry_fields(schema: Mapping[str, Any], key_field: str) -> list[dict[str, Any]]:
    """Return the catalog field definitions of a registry schema, one per property.

    The order is the key field, then the required properties as ``required``
    lists them, then the others by name: a schema's own property order cannot be
    relied on, since PostgreSQL's jsonb does not keep it.
    """
    properties = {name: definition for name, definition in (schema.get("properties") or {}).items()
                  if isinstance(definition, Mapping)}
    required = [name for name in schema.get("required") or [] if name in properties]
    order = list(dict.fromkeys([key_field, *required, *sorted(properties)]))
    return [
        {
            "name": name,
            "type": _field_type(properties[name]),
            "description": str(properties[name].get("title") or properties[name].get("description") or ""),
            "personal": bool(properties[name].get(PERSONAL_KEYWORD)),
            "sensitive_personal": bool(properties[name].get(SENSITIVE_KEYWORD)),
        }
        for name in order
        if name in properties
    ]


@transaction.atomic
def publish_registry(
    *,
    actor: Any,
    registry_code: str,
    code: str = "",
    description: str = "",
    classification: str,
    sharing_type: str,
    open_type: str,
    update_cycle: str,
) -> CatalogResource:
    """Publish a registry defined without code in the catalog (or bring it up to date) and return it.

    Name, owner and fields come from the registry's definition: one field per
    schema property, typed from the schema, personal when the property says
    ``"x-personal": true`` (sensitive with ``"x-sensitive-personal": true``).
    The resource's version is the schema's, so republishing after the registry
    is redefined brings the fields up to date. Raise NotFound for an unknown
    registry, and what ``publish_resource`` raises.
    """
    definition = registries.dynamic_registry(registry_code)
    registry = definition.registry
    return publish_resource(
        actor=actor, code=code or registry.code, name=registry.name, name_en=registry.name_en,
        description=description, owner=registry.owner, registry=registry,
        record_kind=CatalogResource.RecordKind.RECORD, classification=classification,
        sharing_type=sharing_type, open_type=open_type, update_cycle=update_cycle,
        version=f"{definition.version}.0", fields=registry_fields(definition.schema, definition.key_field),
    )


# -- requests and grants --------------------------------------------------------------------------


def _new_grant(request: AccessRequest, *, masking: Mapping[str, str], valid_until: datetime,
               now: datetime) -> Grant:
    return Grant.objects.create(
        request=request, resource=request.resource, consumer=request.requesting_department,
        system=request.system, fields=list(request.fields), masking=dict(masking), purpose=request.purpose,
        valid_from=now, valid_until=valid_until, created_at=now,
    )


@transaction.atomic
def request_access(
    *,
    actor: Any,
    resource: CatalogResource,
    fields: Sequence[str],
    purpose: str,
    legal_basis: str,
    valid_until: datetime,
    system: DepartmentSystem,
) -> AccessRequest:
    """Request ``fields`` of ``resource`` for ``system`` and return the request.

    The requesting department is the system's department; the actor must be one
    of its data officers. An unconditionally shared resource is granted at once
    (the request comes back approved, with its grant). Raise PermissionDenied
    unless the actor is a data officer of the system's department, or if the
    resource is not shared; InvalidInput for an unknown field, an empty purpose
    or legal basis, or a period that has already ended; Conflict if the system
    is disabled.
    """
    department_id = system.department_id
    if department_id not in role_departments(actor, DATA_OFFICER):
        raise PermissionDenied(_("Only a data officer of the system's department may request data for it."))
    if resource.sharing_type == CatalogResource.SharingType.NOT_SHARED:
        raise PermissionDenied(_("This resource is not shared with other departments."), reason="not_shared")
    if system.disabled_at is not None:
        raise Conflict(_("This system is disabled."), field="system")
    now = timezone.now()
    chosen = _clean_fields(resource, fields)
    request = AccessRequest.objects.create(
        resource=resource, requesting_department_id=department_id,
        requested_by=actor if isinstance(actor, Account) else None,
        system=system, fields=chosen, purpose=_clean_text("purpose", purpose, max_length=200),
        legal_basis=_clean_text("legal_basis", legal_basis, max_length=500),
        valid_until=_clean_future("valid_until", valid_until, now), created_at=now,
    )
    unconditional = resource.sharing_type == CatalogResource.SharingType.UNCONDITIONAL
    if unconditional:
        request.status = AccessRequest.Status.APPROVED
        request.decided_by = "system:catalog"
        request.decided_at = now
        request.save(update_fields=["status", "decided_by", "decided_at"])
        _new_grant(request, masking={}, valid_until=request.valid_until, now=now)
    audit.record(
        "catalog.access.granted_at_once" if unconditional else "catalog.access.requested",
        actor=actor, target=f"request:{request.pk}",
        details={"resource": resource.code, "department": department_id, "system": system.pk,
                 "fields": chosen},
    )
    return request


def _pending_for_decision(request: AccessRequest, actor: Any) -> AccessRequest:
    current = (
        AccessRequest.objects.select_for_update()
        .select_related("resource", "requesting_department", "system")
        .get(pk=request.pk)
    )
    if not (is_system(actor) or current.resource.owner_id in deciding_departments(actor)):
        raise PermissionDenied(
            _("Only data officers or administrators of the owner department may decide this request.")
        )
    if current.status != AccessRequest.Status.PENDING:
        raise Conflict(_("This request has already been decided."))
    return current


@transaction.atomic
def approve_request(
    request: AccessRequest,
    *,
    actor: Any,
    masking: Mapping[str, str] | None = None,
    valid_until: datetime | None = None,
) -> Grant:
    """Approve a pending request and return the grant it creates.

    ``masking`` maps requested fields to a kind in ``MASKS``; ``valid_until``
    may shorten (never lengthen) the requested period. Raise PermissionDenied
    unless the actor is a data officer or department administrator of the
    resource's owner; Conflict if the request was already decided; InvalidInput
    for a masking of a field not requested, an unknown masking or a bad period.
    """
    current = _pending_for_decision(request, actor)
    now = timezone.now()
    masking = dict(masking or {})
    for field, kind in masking.items():
        if field not in current.fields:
            raise InvalidInput(_("Only requested fields can be masked."), field="masking")
        if kind not in MASKS:
            raise InvalidInput(_("Choose one of: %(choices)s.") % {"choices": ", ".join(MASKS)},
                               field="masking")
    until = current.valid_until
    if valid_until is not None:
        until = _clean_future("valid_until", valid_until, now)
        if until > current.valid_until:
            raise InvalidInput(_("A grant cannot last longer than was requested."), field="valid_until")
    if until <= now:
        raise InvalidInput(_("The requested period has already ended."), field="valid_until")
    current.status = AccessRequest.Status.APPROVED
    current.decided_by = audit.describe_actor(actor)
    current.decided_at = now
    current.save(update_fields=["status", "decided_by", "decided_at"])
    grant = _new_grant(current, masking=masking, valid_until=until, now=now)
    audit.record("catalog.access.approved", actor=actor, target=f"request:{current.pk}",
                 details={"grant": grant.pk, "masking": masking, "valid_until": until.isoformat()})
    request.status, request.decided_by, request.decided_at = current.status, current.decided_by, now
    return grant


@transaction.atomic
def refuse_request(request: AccessRequest, *, actor: Any, reason: str) -> AccessRequest:
    """Refuse a pending request with a reason and return it.

    Raise PermissionDenied unless the actor is a data officer or department
    administrator of the resource's owner; Conflict if already decided;
    InvalidInput for an empty reason.
    """
    current = _pending_for_decision(request, actor)
    current.reason = _clean_text("reason", reason, max_length=500)
    current.status = AccessRequest.Status.REFUSED
    current.decided_by = audit.describe_actor(actor)
    current.decided_at = timezone.now()
    current.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    audit.record("catalog.access.refused", actor=actor, target=f"request:{current.pk}",
                 details={"resource": current.resource.code})
    return current


@transaction.atomic
def revoke_grant(grant: Grant, *, actor: Any, reason: str) -> Grant:
    """Revoke a grant for good and return it; the next gateway call under it is refused.

    The owner department's data officers and administrators may revoke, and so
    may the consumer department's data officers (giving the grant up). Raise
    PermissionDenied otherwise; Conflict if already revoked; InvalidInput for an
    empty reason.
    """
    current = Grant.objects.select_for_update().select_related("resource").get(pk=grant.pk)
    allowed = (
        is_system(actor)
        or current.resource.owner_id in deciding_departments(actor)
        or current.consumer_id in role_departments(actor, DATA_OFFICER)
    )
    if not allowed:
        raise PermissionDenied(_("Only the owner or the holder of this grant may revoke it."))
    if current.revoked_at is not None:
        raise Conflict(_("This grant has already been revoked."))
    current.revoke_reason = _clean_text("reason", reason, max_length=500)
    current.revoked_at = timezone.now()
    current.revoked_by = audit.describe_actor(actor)
    current.save(update_fields=["revoke_reason", "revoked_at", "revoked_by"])
    audit.record("catalog.grant.revoked", actor=actor, target=f"grant:{current.pk}",
                 details={"resource": current.resource.code, "consumer": current.consumer_id})
    grant.revoked_at, grant.revoked_by, grant.revoke_reason = (
        current.revoked_at, current.revoked_by, current.revoke_reason,
    )
    return current

