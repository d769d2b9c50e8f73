"""Read-only admin views of the call log and its checkpoints (append-only, never edited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tongban.exchange.models import CallLogRecord, Checkpoint


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


@admin.register(CallLogRecord)
class CallLogRecordAdmin(ReadOnlyAdmin):
    list_display = ["seq", "occurred_at", "client_id", "department", "resource_code", "outcome", "reason"]
    list_filter = ["outcome", "reason", "resource_code"]
    list_select_related = ["department"]
    search_fields = ["client_id", "case_id"]
    fields = readonly_fields = (
        "seq", "occurred_at", "client_id", "department", "resource_code", "grant_id", "subject_index",
        "person_id", "entity_id", "purpose", "case_id", "fields_returned", "request_digest",
        "response_digest", "outcome", "reason", "prev_hash", "record_hash",
    )


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["seq", "created_at", "first_seq", "last_seq", "merkle_root", "key_id"]
    fields = readonly_fields = (
        "seq", "created_at", "first_seq", "last_seq", "last_record_hash", "merkle_root",
        "prev_checkpoint_hash", "checkpoint_hash", "key_id", "signature",
    )
