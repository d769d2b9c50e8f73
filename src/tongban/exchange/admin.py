"""Read-only admin views of the call log and its checkpoints (append-only, never edited)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tongban.exchange.models import CallLogRecord, Checkpoint
from tongban.kernel.admin import ReadOnlyAdmin


@admin.register(CallLogRecord)
class CallLogRecordAdmin(ReadOnlyAdmin):
    list_display = ["id", "chain_seq", "occurred_at", "client_id", "department", "resource_code", "outcome",
                    "reason"]
    list_filter = ["outcome", "reason", "resource_code"]
    list_select_related = ["department", "link"]
    search_fields = ["client_id", "case_id"]
    fields = readonly_fields = (
        "id", "chain_seq", "occurred_at", "client_id", "department", "resource_code", "grant_id",
        "subject_index", "person_id", "entity_id", "purpose", "case_id", "fields_returned", "request_digest",
        "response_digest", "outcome", "reason", "record_hash",
    )

    @admin.display(description=_("Place in the chain"))
    def chain_seq(self, record: CallLogRecord) -> int | None:
        link = getattr(record, "link", None)
        return link.seq if link is not None else None

    @admin.display(description=_("Record hash"))
    def record_hash(self, record: CallLogRecord) -> str:
        link = getattr(record, "link", None)
        return link.record_hash if link is not None else ""


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["seq", "created_at", "first_seq", "last_seq", "merkle_root", "key_id"]
    fields = readonly_fields = (
        "seq", "created_at", "first_seq", "last_seq", "last_record_hash", "merkle_root",
        "prev_checkpoint_hash", "checkpoint_hash", "key_id", "signature",
    )
