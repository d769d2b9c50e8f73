"""Read-only admin views of cases: every change goes through the services (and is audited).

No personal data in the lists: the applicant is shown by account, the form not at all.
"""

from __future__ import annotations

from django.contrib import admin

from tongban.cases.models import Case, CaseEvent, CaseTask, ProcessSnapshot
from tongban.kernel.admin import ReadOnlyAdmin


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["number", "item", "department", "status", "submitted_at", "accepted_at", "deadline_at",
                    "completed_at"]
    list_filter = ["status", "department"]
    list_select_related = ["item", "department"]
    search_fields = ["number"]
    fields = readonly_fields = (
        "number", "item", "item_version", "department", "region", "applicant", "status", "outcome", "decided_by",
        "reason", "supplement_items", "promised_days", "submitted_at", "accepted_at", "deadline_at", "pauses",
        "completed_at", "result_licence_id", "process",
    )


@admin.register(CaseTask)
class CaseTaskAdmin(ReadOnlyAdmin):
    list_display = ["case", "element_id", "lane", "department", "claimed_by", "created_at", "completed_at",
                    "action"]
    list_filter = ["lane", "element_id", "department"]
    list_select_related = ["case", "department", "claimed_by"]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["case", "at", "kind", "actor"]
    list_filter = ["kind"]
    list_select_related = ["case"]


@admin.register(ProcessSnapshot)
class ProcessSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["source", "fingerprint", "created_at"]
    fields = readonly_fields = ("source", "fingerprint", "created_at", "process_xml", "rules_xml")
