"""Read-only admin views of the registries.

Every write goes through ``registries.services`` (validation, history, audit),
so the admin can neither add, change nor delete; ID numbers show masked.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tongban.registries.models import LegalEntity, Person, RecordChange, Registry


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """An admin that shows records and never writes them."""

    show_full_result_count = False
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}


@admin.register(Registry)
class RegistryAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "name_en", "owner"]
    list_select_related = ["owner"]
    fields = ["code", "name", "name_en", "owner"]


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ["pk", "masked_id_number", "name", "sex", "birth_date", "address_region", "status"]
    list_filter = ["status", "sex", "registry"]
    list_select_related = ["address_region"]
    search_fields = ["name"]
    # The whole number and its blind index are never shown here.
    fields = readonly_fields = (
        "registry", "masked_id_number", "name", "sex", "birth_date", "nationality",
        "address_region", "status", "created_at", "updated_at",
    )

    @admin.display(description=_("ID number"))
    def masked_id_number(self, obj: Person) -> str:
        return obj.masked_id_number


@admin.register(LegalEntity)
class LegalEntityAdmin(ReadOnlyAdmin):
    list_display = ["uscc", "name", "entity_type", "representative", "registered_region", "status"]
    list_filter = ["status", "entity_type", "registry"]
    list_select_related = ["legal_representative", "registered_region"]
    search_fields = ["uscc", "name"]
    fields = readonly_fields = (
        "registry", "uscc", "name", "entity_type", "representative", "registered_region",
        "status", "established_on", "created_at", "updated_at",
    )

    @admin.display(description=_("legal representative"))
    def representative(self, obj: LegalEntity) -> str:
        return str(obj.legal_representative)


@admin.register(RecordChange)
class RecordChangeAdmin(ReadOnlyAdmin):
    list_display = ["changed_at", "registry", "record_key", "kind", "changed_by", "reason"]
    list_filter = ["kind", "registry"]
    list_select_related = ["registry"]
    search_fields = ["record_key", "changed_by"]
    fields = readonly_fields = (
        "registry", "record_key", "kind", "before", "after", "reason", "changed_by", "changed_at",
    )
