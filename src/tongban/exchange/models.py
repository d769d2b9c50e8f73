"""The exchange gateway's signed call log.

Every call through the gateway, answered or refused, is one ``CallLogRecord``,
written by the call; ``CallLogLink`` rows put the records in a hash chain
shortly after (ADR 0012); ``Checkpoint`` rows sign a Merkle root over the
records since the previous checkpoint with the platform key, so that even an
attacker who rewrites the chain and its head cannot hide the change.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.kernel.models import Department


class CallLogRecord(models.Model):
    """One call to the exchange gateway (交换调用记录): who asked what about whom, and why.

    The subject is kept as a blind index of its key and, when found, the
    registry record's primary key, never as an ID number. ``id`` is the call
    number the caller is told. The row is written once, by the call, and never
    changed; its place in the hash chain (``CallLogLink``) is added after it is
    committed. ``occurred_at`` and ``subject_index`` allow partitioning by time
    and distribution by subject.
    """

    class Outcome(models.TextChoices):
        OK = "ok", _("Answered")
        REFUSED = "refused", _("Refused")

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

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["person_id", "occurred_at"], name="exchange_call_person"),
            models.Index(fields=["entity_id", "occurred_at"], name="exchange_call_entity"),
            models.Index(fields=["grant_id", "occurred_at"], name="exchange_call_grant"),
            models.Index(fields=["department", "outcome", "occurred_at"], name="exchange_call_department"),
        ]

    def __str__(self) -> str:
        return f"call #{self.pk} {self.resource_code} by {self.client_id} ({self.outcome})"


class CallLogLink(models.Model):
    """A call record's place in the call log's hash chain (调用记录链).

    ``seq`` is contiguous from 1 in the order the records were committed;
    ``record_hash`` covers every field of the record, ``seq`` and ``prev_hash``
    (the hash of the link before). Links are appended in batches by the
    chainer (``exchange.log.chain_pending``), never by the call itself, so that
    concurrent calls do not queue on one row while each waits for its commit.
    """

    seq = models.BigIntegerField(unique=True)
    record = models.OneToOneField(CallLogRecord, on_delete=models.PROTECT, related_name="link")
    prev_hash = models.CharField(max_length=64)
    record_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"link #{self.seq} of call #{self.record_id}"


class CallLogHead(models.Model):
    """The single row that serializes the chainer (locked FOR UPDATE), and when signing is next due.

    ``last_seq``/``last_hash`` are the chain's end; every committed record up
    to ``chained_through`` (a record id) is linked. ``signing_due_at`` is when
    the scheduled chaining and signing task should run; a call that finds it
    unset (or long past) schedules one.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)
    chained_through = models.BigIntegerField(default=0)
    signing_due_at = models.DateTimeField(null=True, blank=True)

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
