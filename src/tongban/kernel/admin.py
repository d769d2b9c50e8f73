"""Admin views of the org tree and the audit chain (read-only: writes go through services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.db.models.functions import ExtractYear
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tongban.kernel import services
from tongban.kernel.models import (
    AuditRecord,
    CalendarDay,
    CalendarYear,
    Department,
    Position,
    Region,
)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """An admin that shows records and never writes them: writes go through services."""

    # Counting a whole append-only table (the call log, the audit chain) on every page is slow.
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


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "name_en", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]


@admin.register(Department)
class DepartmentAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "region", "uscc"]
    list_filter = ["kind", "region"]
    list_select_related = ["region"]


@admin.register(Position)
class PositionAdmin(ReadOnlyAdmin):
    list_display = ["title", "department"]
    list_select_related = ["department"]


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ["seq", "occurred_at", "actor", "action", "target", "result", "source_address"]
    list_filter = ["result", "action"]
    search_fields = ["actor", "target", "action"]
    show_full_result_count = False


class YearFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        years = (CalendarDay.objects.annotate(year=ExtractYear("date"))
                 .values_list("year", flat=True).distinct().order_by("-year"))
        return [(str(year), str(year)) for year in years]

    def queryset(self, request: HttpRequest, queryset: QuerySet[CalendarDay]) -> QuerySet[CalendarDay]:
        value = self.value()
        return queryset.filter(date__year=int(value)) if value and value.isdigit() else queryset


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Platform administrators add and remove calendar days; both go through the audited services."""

    list_display = ["date", "kind", "name", "name_en", "region", "source"]
    list_filter = [YearFilter, "kind", ("region", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["region"]
    search_fields = ["name", "name_en", "source"]
    date_hierarchy = "date"
    fields = ["date", "kind", "name", "name_en", "region", "source"]
    list_per_page = 100

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A day is removed and added again, never edited in place.
        return False

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        day = services.add_calendar_day(
            actor=request.user, date=obj.date, kind=obj.kind, name=obj.name, name_en=obj.name_en,
            region=obj.region, source=obj.source,
        )
        obj.pk = day.pk

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        services.remove_calendar_day(obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarDay]) -> None:
        for day in queryset.select_related("region"):
            services.remove_calendar_day(day, actor=request.user)


@admin.register(CalendarYear)
class CalendarYearAdmin(ReadOnlyAdmin):
    """The years whose State Council notice is loaded (``tongban calendar load``)."""

    list_display = ["year", "document_number", "notice", "published_on", "loaded_at"]
