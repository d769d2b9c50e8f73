"""The tamper-evident audit chain: append records, verify the chain.

Each record's hash covers its own fields and the previous record's hash, so the
chain proves order and completeness: ``verify_chain`` names the first record at
which a modification, removal, insertion or reordering shows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from tongban.kernel.context import current_source_address
from tongban.kernel.models import AuditChainHead, AuditRecord

GENESIS_HASH = "0" * 64


def describe_actor(actor: Any) -> str:
    """Return the stable text that names an actor in the audit chain.

    Accounts are named by their primary key (never by a personal identifier);
    strings pass through, so ``"system"`` or ``"client:<id>"`` work as they are.
    """
    if actor is None:
        return "anonymous"
    if isinstance(actor, str):
        return actor
    audit_name = getattr(actor, "audit_name", None)
    if isinstance(audit_name, str):
        return audit_name
    return f"{type(actor).__name__.lower()}:{getattr(actor, 'pk', '?')}"


def compute_hash(
    *,
    seq: int,
    occurred_at: datetime,
    actor: str,
    action: str,
    target: str,
    source_address: str,
    result: str,
    details: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """Return the SHA-256 hex digest of a record's canonical JSON form."""
    canonical = json.dumps(
        {
            "seq": seq,
            "occurred_at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "target": target,
            "source_address": source_address,
            "result": result,
            "details": details,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def hash_of(entry: AuditRecord) -> str:
    """Return the hash ``entry`` should carry given its fields as they are now."""
    return compute_hash(
        seq=entry.seq,
        occurred_at=entry.occurred_at,
        actor=entry.actor,
        action=entry.action,
        target=entry.target,
        source_address=entry.source_address,
        result=entry.result,
        details=entry.details,
        prev_hash=entry.prev_hash,
    )


def record(
    action: str,
    *,
    actor: Any,
    target: str = "",
    result: str = AuditRecord.Result.SUCCESS,
    details: Mapping[str, Any] | None = None,
    source_address: str | None = None,
) -> AuditRecord:
    """Append one record to the audit chain and return it.

    Runs inside the caller's transaction when there is one, so the audit record
    commits or rolls back with the change it describes. Never put personal
    identifiers (ID numbers, phones, tokens) in ``details``.
    """
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            id=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
        )
        # Whole microseconds survive every database round trip, so the hash
        # recomputed at verification time matches.
        occurred_at = timezone.now()
        fields: dict[str, Any] = {
            "seq": head.last_seq + 1,
            "occurred_at": occurred_at,
            "actor": describe_actor(actor),
            "action": action,
            "target": target,
            "source_address": source_address
            if source_address is not None
            else (current_source_address.get() or ""),
            "result": str(result),
            "details": json.loads(json.dumps(dict(details or {}), default=str)),
            "prev_hash": head.last_hash,
        }
        entry = AuditRecord.objects.create(**fields, record_hash=compute_hash(**fields))
        head.last_seq = entry.seq
        head.last_hash = entry.record_hash
        head.save(update_fields=["last_seq", "last_hash"])
        return entry


@dataclass(frozen=True)
class ChainBreak:
    """Where and why the chain stops being trustworthy."""

    seq: int
    position: int
    reason: str


def verify_records(
    records: Iterable[AuditRecord],
    *,
    expected_last_seq: int | None = None,
    expected_last_hash: str | None = None,
) -> ChainBreak | None:
    """Return the first break in ``records`` (taken in the order given), or None.

    ``expected_last_seq`` and ``expected_last_hash`` come from the chain head: a
    shorter chain means records were removed from its end, a longer one that
    records were appended behind the head's back, and a different last hash that
    the last record was rewritten (with a recomputed hash, which nothing after it
    would otherwise contradict).
    """
    prev_hash = GENESIS_HASH
    expected_seq = 1
    position = 0
    for position, entry in enumerate(records, start=1):
        if expected_last_seq is not None and expected_seq > expected_last_seq:
            return ChainBreak(
                entry.seq, position, f"found after the last record the chain head knows (#{expected_last_seq})"
            )
        if entry.seq != expected_seq:
            return ChainBreak(entry.seq, position, f"expected record #{expected_seq}, found #{entry.seq}")
        if entry.prev_hash != prev_hash:
            return ChainBreak(entry.seq, position, f"does not link to record #{expected_seq - 1}")
        if hash_of(entry) != entry.record_hash:
            return ChainBreak(entry.seq, position, "content does not match its hash")
        prev_hash = entry.record_hash
        expected_seq += 1
    if expected_last_seq is not None and expected_seq - 1 != expected_last_seq:
        return ChainBreak(
            expected_seq, position + 1, f"chain ends at #{expected_seq - 1} but the head says #{expected_last_seq}"
        )
    if expected_last_hash is not None and prev_hash != expected_last_hash:
        return ChainBreak(expected_seq - 1, position, "last record does not match the chain head's hash")
    return None


def _head_state() -> tuple[int, str]:
    head = AuditChainHead.objects.filter(id=1).values_list("last_seq", "last_hash").first()
    return head if head is not None else (0, GENESIS_HASH)


def _verify_against(head: tuple[int, str]) -> ChainBreak | None:
    records = AuditRecord.objects.order_by("id").iterator(chunk_size=2000)
    return verify_records(records, expected_last_seq=head[0], expected_last_hash=head[1])


def verify_chain() -> ChainBreak | None:
    """Verify the stored audit chain in storage order; return the first break or None.

    Records are read in primary-key (insertion) order, not by ``seq``, so that a
    reordering of rows shows as a break.

    Appends may commit while the chain is read. Every append moves the head in
    the same transaction, so a scan during which the head did not move saw a
    chain consistent with it; after a few unlucky scans, hold the head's lock
    (pausing appends) for one last scan rather than report a false break.
    """
    for _attempt in range(3):
        head = _head_state()
        chain_break = _verify_against(head)
        if chain_break is None or _head_state() == head:
            return chain_break
    with transaction.atomic():
        AuditChainHead.objects.select_for_update().filter(id=1).first()
        return _verify_against(_head_state())
