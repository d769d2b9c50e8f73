"""The exchange gateway's signed call log.

Every call through the gateway, answered or refused, is one ``CallLogRecord``
hash-chained to the previous one; ``Checkpoint`` rows sign a Merkle root over
the records since the previous checkpoint with the platform key, so that even
an attacker who rewrites the chain and its head cannot hide the change.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.kernel.models import Department


class CallLogRecord(models.Model):
    """One call to the exchange gateway (交换调用记录): who asked what about whom, and why.

    The subject is kept as a blind index of its key and, when found, the
    registry record's primary key, never as an ID number. ``seq`` is contiguous
    from 1 and ``record_hash`` covers every field plus ``prev_hash``. The table
    is append-only; ``occurred_at`` and ``subject_index`` allow partitioning by
    time and distribution by subject.
    """

    class Outcome(models.TextChoices):
        OK = "ok", _("Answered")
        REFUSED = "refused", _("Refused")

    seq = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField(db_index=True)
    client_id = models.CharField(max_length=200)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="exchange_calls"
    )
    resource_code = models.CharField(max_length=80)
    grant_id = models.BigIntegerField(null=True, blank=True)
    subject_index = models.CharField(max_length=64, blank=True, db_index=True)
    person_id = models.BigIntegerField(null=True, blank=True)
    entity_id = models.BigIntegerField(null=True, blank=True)
    purpose = models.CharField(max_length=200, blank=True)
    case_id = models.CharField(max_length=200, blank=True)
    fields_returned = models.JSONField(default=list, blank=True)
    request_digest = models.CharField(max_length=64)
    response_digest = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.CharField(max_length=50, blank=True)
    prev_hash = models.CharField(max_length=64)
    record_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["person_id", "occurred_at"], name="exchange_call_person"),
            models.Index(fields=["entity_id", "occurred_at"], name="exchange_call_entity"),
            models.Index(fields=["grant_id", "occurred_at"], name="exchange_call_grant"),
            models.Index(fields=["department", "outcome", "occurred_at"], name="exchange_call_department"),
        ]

    def __str__(self) -> str:
        return f"call #{self.seq} {self.resource_code} by {self.client_id} ({self.outcome})"


class CallLogHead(models.Model):
    """The single row that serializes appends to the call log (locked FOR UPDATE)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"call log head at #{self.last_seq}"


class Checkpoint(models.Model):
    """A signed checkpoint (签名检查点) of the call log.

    ``merkle_root`` is the RFC 6962 Merkle tree hash over the record hashes of
    records ``first_seq``..``last_seq`` (those since the previous checkpoint);
    ``signature`` is the platform's Ed25519 signature over the checkpoint's
    canonical form, which also links to the previous checkpoint.
    """

    seq = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField(db_index=True)
    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField()
    last_record_hash = models.CharField(max_length=64)
    merkle_root = models.CharField(max_length=64)
    prev_checkpoint_hash = models.CharField(max_length=64)
    checkpoint_hash = models.CharField(max_length=64, unique=True)
    key_id = models.CharField(max_length=64)
    signature = models.CharField(max_length=200)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} over calls #{self.first_seq}-#{self.last_seq}"
