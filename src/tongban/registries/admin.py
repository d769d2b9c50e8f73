"""Admin views of the registries.

Every write goes through ``registries.services`` (validation, history, audit),
so the admin can neither add, change nor delete records; ID numbers show
masked. The one thing defined here is a registry without code (its JSON
Schema and key field), saved through ``services.define_registry``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tongban.kernel.admin import ReadOnlyAdmin
from tongban.kernel.models import Department
from tongban.registries import services
from tongban.registries.models import (
    DynamicRecord,
    DynamicRegistry,
    LegalEntity,
    OwnershipShare,
    Parcel,
    Person,
    RecordChange,
    Registry,
    RegistryImport,
    VitalEvent,
)


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


@admin.register(VitalEvent)
class VitalEventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_on", "kind", "certificate_number", "place", "department", "registered_at"]
    list_filter = ["kind", "registry"]
    list_select_related = ["place", "department"]
    search_fields = ["certificate_number"]
    # Persons show by their masked form (``Person.__str__``), never a whole ID number.
    fields = readonly_fields = (
        "registry", "kind", "occurred_on", "place", "subject", "spouse", "mother", "father", "department",
        "certificate_number", "reason", "registered_by", "registered_at",
    )


class OwnershipShareInline(admin.TabularInline):  # type: ignore[type-arg]
    model = OwnershipShare
    extra = 0
    can_delete = False
    fields = readonly_fields = ("holder_person", "holder_entity", "numerator", "denominator", "acquired_on", "ended_on")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Parcel)
class ParcelAdmin(ReadOnlyAdmin):
    list_display = ["location_code", "region", "area", "use"]
    list_filter = ["use", "region"]
    list_select_related = ["region"]
    search_fields = ["location_code"]
    fields = readonly_fields = ("registry", "location_code", "region", "area", "use", "created_at", "updated_at")
    inlines = [OwnershipShareInline]


class DynamicRegistryForm(forms.ModelForm):  # type: ignore[type-arg]
    """The definition of a registry without code: code, names, owner, JSON Schema and key field."""

    code = forms.SlugField(max_length=50, label=_("code"))
    name = forms.CharField(max_length=100, label=_("name"))
    name_en = forms.CharField(max_length=100, required=False, label=_("English name"))
    owner = forms.ModelChoiceField(queryset=Department.objects.order_by("pk"), label=_("owner department"))

    class Meta:
        model = DynamicRegistry
        fields = ["schema", "key_field"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            registry = self.instance.registry
            self.initial.update(code=registry.code, name=registry.name, name_en=registry.name_en,
                                owner=registry.owner_id)
            self.fields["code"].disabled = True

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "schema" in cleaned and "key_field" in cleaned:
            problem = services.registry_definition_error(cleaned["schema"], cleaned["key_field"])
            if problem:
                self.add_error("schema", problem)
        return cleaned


@admin.register(DynamicRegistry)
class DynamicRegistryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = DynamicRegistryForm
    list_display = ["registry", "key_field", "version", "updated_at"]
    list_select_related = ["registry"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}

    def save_model(self, request: HttpRequest, obj: DynamicRegistry, form: Any, change: bool) -> None:
        # The service validates, versions and audits; the admin only collects the fields.
        data = form.cleaned_data
        definition = services.define_registry(
            actor=request.user, code=data["code"], name=data["name"], name_en=data.get("name_en") or "",
            owner=data["owner"], schema=data["schema"], key_field=data["key_field"],
        )
        obj.pk, obj.registry_id, obj.version = definition.pk, definition.registry_id, definition.version


@admin.register(DynamicRecord)
class DynamicRecordAdmin(ReadOnlyAdmin):
    list_display = ["key", "registry", "version", "updated_at"]
    list_filter = ["registry"]
    search_fields = ["key"]
    fields = readonly_fields = ("registry", "key", "data", "version", "created_at", "updated_at")


@admin.register(RegistryImport)
class RegistryImportAdmin(ReadOnlyAdmin):
    """Imports of uploaded files, as officers see them in the workbench (the file itself is not shown)."""

    list_display = ["pk", "registry", "filename", "status", "rows_processed", "imported", "error_count",
                    "uploaded_by", "uploaded_at"]
    list_filter = ["status", "registry"]
    list_select_related = ["registry", "uploaded_by"]
    fields = readonly_fields = (
        "registry", "filename", "reason", "skip_registered", "status", "total_rows", "rows_processed",
        "imported", "error_count", "message", "errors", "uploaded_by", "uploaded_at", "started_at", "finished_at",
    )
