"""Read-only admin views of the catalog: every write goes through ``catalog.services``."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tongban.catalog.models import AccessRequest, CatalogResource, Grant, ResourceField
from tongban.kernel.admin import ReadOnlyAdmin


class ResourceFieldInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ResourceField
    fields = readonly_fields = ("name", "type", "description", "personal", "sensitive_personal")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CatalogResource)
class CatalogResourceAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "owner", "classification", "sharing_type", "open_type", "version"]
    list_filter = ["classification", "sharing_type", "open_type", "record_kind"]
    list_select_related = ["owner"]
    search_fields = ["code", "name", "name_en"]
    inlines = [ResourceFieldInline]
    fields = readonly_fields = (
        "code", "name", "name_en", "description", "owner", "registry", "record_kind", "classification",
        "sharing_type", "open_type", "update_cycle", "version", "published_at", "updated_at",
    )


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyAdmin):
    list_display = ["pk", "resource", "requesting_department", "status", "created_at", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["resource", "requesting_department"]
    fields = readonly_fields = (
        "resource", "requesting_department", "requested_by", "system", "fields", "purpose", "legal_basis",
        "valid_until", "status", "reason", "decided_by", "decided_at", "created_at",
    )


@admin.register(Grant)
class GrantAdmin(ReadOnlyAdmin):
    list_display = ["pk", "resource", "consumer", "system", "valid_from", "valid_until", "revoked_at"]
    list_select_related = ["resource", "consumer", "system"]
    fields = readonly_fields = (
        "request", "resource", "consumer", "system", "fields", "masking", "purpose", "valid_from",
        "valid_until", "revoked_at", "revoked_by", "revoke_reason", "created_at",
    )
