"""Admin for the service catalog: forms that collect an item's elements and call the services.

The admin never saves an item itself: the item form and its materials inline
are turned into a definition of the catalog format and given to
``services.create_item`` / ``update_item``, which check, version and audit.
Actions publish, withdraw and export the chosen items; "Import a catalog file"
runs ``services.import_catalog``. Each person sees and changes only the items
they manage (platform administrators: all; department administrators: their
departments').
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.kernel.problems import PermissionDenied, Problem
from tongban.services import definitions, selectors, services
from tongban.services.access import is_platform_admin, managed_departments
from tongban.services.models import LifeEvent, Material, ServiceItem, Topic

WITHDRAW_REASON = "Withdrawn through the admin"


def _may_manage_any(request: HttpRequest) -> bool:
    departments = managed_departments(request.user)
    return departments is None or bool(departments)


class ServiceItemForm(forms.ModelForm):  # type: ignore[type-arg]
    """An item's elements; ``clean`` checks them as the service will (materials are checked by the inline)."""

    topics = forms.MultipleChoiceField(choices=Topic.choices, required=False, label=gettext_lazy("topics"),
                                       widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ServiceItem
        fields = [
            "code", "name", "name_en", "item_type", "department", "region", "joint_departments", "audience",
            "legal_basis", "legal_basis_en", "conditions", "conditions_en", "statutory_days", "promised_days",
            "fees", "handling_mode", "in_person_trips", "instant_approval", "result_kind", "result_licence_type",
            "result_name", "result_name_en", "keywords", "form_schema", "form_ui", "process_xml", "rules_xml",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["code"].disabled = True
            self.initial["topics"] = list(self.instance.topics.values_list("topic", flat=True))

    def definition(self, materials: list[dict[str, Any]]) -> dict[str, Any]:
        """Return the item (with ``materials``) as a definition of the catalog format."""
        data = self.cleaned_data
        result: dict[str, Any] = {"kind": data.get("result_kind") or ServiceItem.ResultKind.NONE}
        if data.get("result_licence_type") is not None:
            result["licence_type"] = data["result_licence_type"].code
        if result["kind"] == ServiceItem.ResultKind.DOCUMENT:
            result.update(name=data.get("result_name") or "", name_en=data.get("result_name_en") or "")
        form: dict[str, Any] = {}
        if data.get("form_schema"):
            form = {"schema": data["form_schema"], "ui": data.get("form_ui") or {}}
        elif data.get("form_ui"):
            form = {"ui": data["form_ui"]}
        return {
            "code": data.get("code") or self.instance.code,
            "name": data.get("name") or "", "name_en": data.get("name_en") or "",
            "type": data.get("item_type") or "",
            "department": {"uscc": data["department"].uscc} if data.get("department") else {},
            "region": data["region"].code if data.get("region") else None,
            "joint_departments": [{"uscc": d.uscc} for d in data.get("joint_departments") or []],
            "legal_basis": data.get("legal_basis") or "", "legal_basis_en": data.get("legal_basis_en") or "",
            "conditions": data.get("conditions") or "", "conditions_en": data.get("conditions_en") or "",
            "statutory_days": data.get("statutory_days"), "promised_days": data.get("promised_days"),
            "fees": data.get("fees") or [],
            "handling_mode": data.get("handling_mode") or "", "in_person_trips": data.get("in_person_trips") or 0,
            "instant_approval": bool(data.get("instant_approval")),
            "result": result, "form": form,
            "process": {"bpmn": data.get("process_xml") or "", "dmn": data.get("rules_xml") or ""},
            "keywords": data.get("keywords") or [], "topics": list(data.get("topics") or []),
            "audience": data.get("audience") or "", "materials": materials,
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            definition = self.definition([])
            if definition["region"] is None:
                definition.pop("region")
            try:
                definitions.clean_item(definition)
            except Problem as problem:
                field = str(problem.extensions.get("field") or "")
                target = {"type": "item_type", "result": "result_kind", "process": "process_xml",
                          "rules": "rules_xml", "form.schema": "form_schema", "form.ui": "form_ui"}.get(field, field)
                self.add_error(target if target in self.fields else None, problem.detail)
        return cleaned


class MaterialForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Material
        fields = ["name", "name_en", "required", "source", "accepted_types", "max_size_mb", "licence_type",
                  "resource", "resource_fields", "description", "description_en"]

    def definition(self) -> dict[str, Any]:
        """Return the material as a definition of the catalog format."""
        data = self.cleaned_data
        source: dict[str, Any] = {"kind": data.get("source")}
        if data.get("source") == Material.Source.UPLOAD:
            source.update(accepted_types=data.get("accepted_types") or ["pdf", "jpg", "png"],
                          max_size_mb=data.get("max_size_mb") or 10)
        elif data.get("source") == Material.Source.LICENCE:
            source["licence_type"] = data["licence_type"].code if data.get("licence_type") else ""
        else:
            source.update(resource=data["resource"].code if data.get("resource") else "",
                          fields=data.get("resource_fields") or [])
        return {"name": data.get("name") or "", "name_en": data.get("name_en") or "",
                "required": bool(data.get("required")), "description": data.get("description") or "",
                "description_en": data.get("description_en") or "", "source": source}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and cleaned and not cleaned.get("DELETE"):
            problems = definitions.schema_errors(self.definition(), "material")
            if problems:
                self.add_error(None, problems[0]["message"])
            else:
                try:
                    definitions.clean_material(0, self.definition())
                except Problem as problem:
                    self.add_error(None, problem.detail)
        return cleaned


class MaterialInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Material
    form = MaterialForm
    extra = 1
    fields = ("name", "name_en", "required", "source", "accepted_types", "max_size_mb", "licence_type",
              "resource", "resource_fields", "description", "description_en")

    # The item's managers edit its materials (the service checks the department).
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_manage_any(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_manage_any(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_manage_any(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_manage_any(request)


def _materials(formset: Any) -> list[dict[str, Any]]:
    """Return the materials of the inline, in order, without the rows deleted or left empty."""
    return [form.definition() for form in formset.forms
            if (form.has_changed() or form.instance.pk is not None)
            and form.cleaned_data and not form.cleaned_data.get("DELETE")]


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = ServiceItemForm
    inlines = [MaterialInline]
    list_display = ["code", "name", "department", "item_type", "status", "version", "updated_at"]
    list_filter = ["status", "item_type", "handling_mode", "audience"]
    list_select_related = ["department"]
    search_fields = ["code", "name", "name_en"]
    filter_horizontal = ["joint_departments"]
    actions = ["publish_selected", "withdraw_selected", "export_selected"]
    change_list_template = "admin/services/serviceitem/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ServiceItem]:
        return selectors.items_managed_by(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_manage_any(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_manage_any(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _may_manage_any(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_manage_any(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ServiceItem, form: Any, change: bool) -> None:
        # Saved with its materials by save_related, through the services.
        pass

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        materials = [material for formset in formsets for material in _materials(formset)]
        definition = form.definition(materials)
        if definition["region"] is None:
            definition.pop("region")
        try:
            if change:
                item = services.update_item(form.instance, actor=request.user, definition=definition)
            else:
                item = services.create_item(actor=request.user, definition=definition)
        except PermissionDenied as refused:
            raise DjangoPermissionDenied(refused.detail) from None
        form.instance.pk = item.pk
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    @admin.action(description=gettext_lazy("Publish the selected items"))
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[ServiceItem]) -> None:
        self._each(request, queryset.exclude(status=ServiceItem.Status.PUBLISHED),
                   lambda item: services.publish_item(item, actor=request.user), _("published"))

    @admin.action(description=gettext_lazy("Withdraw the selected items"))
    def withdraw_selected(self, request: HttpRequest, queryset: QuerySet[ServiceItem]) -> None:
        self._each(request, queryset.filter(status=ServiceItem.Status.PUBLISHED),
                   lambda item: services.withdraw_item(item, actor=request.user, reason=WITHDRAW_REASON),
                   _("withdrawn"))

    def _each(self, request: HttpRequest, queryset: QuerySet[ServiceItem], act: Any, done: str) -> None:
        count = 0
        for item in queryset:
            try:
                act(item)
                count += 1
            except Problem as problem:
                self.message_user(request, f"{item.code}: {problem.detail}", messages.ERROR)
        self.message_user(request, _("%(count)d item(s) %(done)s.") % {"count": count, "done": done})

    @admin.action(description=gettext_lazy("Export the selected items as a catalog file"))
    def export_selected(self, request: HttpRequest, queryset: QuerySet[ServiceItem]) -> HttpResponse:
        regions = sorted(set(queryset.values_list("region__code", flat=True)))
        # One region's items are exported as that region's; items of several, as their province's.
        region = regions[0] if len(regions) == 1 else (regions or ["330000"])[0][:2] + "0000"
        document = selectors.export_catalog(request.user, region, codes=list(queryset.values_list("code", flat=True)))
        response = HttpResponse(json.dumps(document, ensure_ascii=False, indent=2),
                                content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="service-catalog-{region}.json"'
        return response

    def get_urls(self) -> list[URLPattern]:
        return [path("import/", self.admin_site.admin_view(self.import_view), name="services_serviceitem_import"),
                *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a catalog file and import it (all or nothing), showing every problem found."""
        if not _may_manage_any(request):
            raise DjangoPermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        errors: list[dict[str, Any]] = []
        if request.method == "POST" and form.is_valid():
            try:
                result = services.import_catalog(form.cleaned_data["file"].read(), actor=request.user)
            except Problem as problem:
                form.add_error("file", problem.detail)
                errors = list(problem.extensions.get("errors", []))
            else:
                self.message_user(request, _("Imported: %(created)d created, %(updated)d updated, %(unchanged)d "
                                             "unchanged, %(events)d life events defined.") % {
                    "created": len(result.created), "updated": len(result.updated),
                    "unchanged": len(result.unchanged), "events": len(result.life_events)})
                return redirect("admin:services_serviceitem_changelist")
        context = {**self.admin_site.each_context(request), "title": _("Import a catalog file"), "form": form,
                   "errors": errors, "opts": self.model._meta}
        return TemplateResponse(request, "admin/services/serviceitem/import.html", context)


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Catalog file (JSON)"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        return upload


IMPORT_MAX_BYTES = 20 * 1024 * 1024


class LifeEventForm(forms.ModelForm):  # type: ignore[type-arg]
    item_codes = forms.CharField(widget=forms.Textarea, label=gettext_lazy("item codes, one a line, in order"))

    class Meta:
        model = LifeEvent
        fields = ["code", "name", "name_en", "description", "description_en", "region", "audience"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["code"].disabled = True
            self.initial["item_codes"] = "\n".join(
                self.instance.entries.order_by("position").values_list("item__code", flat=True))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        codes = [code.strip() for code in cleaned.get("item_codes", "").splitlines() if code.strip()]
        region = cleaned.get("region")
        known = {item.code: item.region for item in ServiceItem.objects.select_related("region").filter(code__in=codes)}
        for code in codes:
            if code not in known or (region is not None and not definitions.contains(region, known[code])):
                self.add_error("item_codes", _("There is no service item %(code)s in the region.") % {"code": code})
        cleaned["items"] = codes
        return cleaned


@admin.register(LifeEvent)
class LifeEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = LifeEventForm
    list_display = ["code", "name", "region", "audience", "updated_at"]
    list_select_related = ["region"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: LifeEvent, form: Any, change: bool) -> None:
        data = form.cleaned_data
        definition = {
            "code": data.get("code") or obj.code, "name": data["name"], "name_en": data.get("name_en") or "",
            "description": data.get("description") or "", "description_en": data.get("description_en") or "",
            "audience": data["audience"], "items": data["items"],
        }
        try:
            event = services.define_life_event(actor=request.user, region=data["region"], definition=definition)
        except PermissionDenied as refused:
            raise DjangoPermissionDenied(refused.detail) from None
        obj.pk = event.pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass
