"""Read-only admin views of the call log and its checkpoints (append-only, never edited)."""

from __future__ import annotations

from django.contrib import admin

from tongban.exchange.models import CallLogRecord, Checkpoint
from tongban.kernel.admin import ReadOnlyAdmin


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
