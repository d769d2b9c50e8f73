"""The call log's chain, its signed checkpoints and their verification.

Appends serialize on ``CallLogHead`` (SELECT … FOR UPDATE), exactly like the
audit chain: each record's hash covers its fields and its predecessor's hash.
A checkpoint signs the RFC 6962 Merkle root over the record hashes since the
previous checkpoint with the platform's Ed25519 key (through the
CryptoProvider), so a rewrite that recomputes every hash still shows.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connection, transaction
from django.utils import timezone

from tongban.exchange.models import CallLogHead, CallLogRecord, Checkpoint
from tongban.exchange.tasks import schedule_signing
from tongban.kernel import ratelimit
from tongban.kernel.crypto import get_crypto_provider

GENESIS_HASH = "0" * 64
SIGNING_PURPOSE = "exchange.call-log.checkpoint"
CHECKPOINT_INTERVAL = timedelta(seconds=60)

# The fields a record's hash covers, in addition to its predecessor's hash.
HASHED_FIELDS = (
    "seq", "occurred_at", "client_id", "department_id", "resource_code", "grant_id", "subject_index",
    "person_id", "entity_id", "purpose", "case_id", "fields_returned", "request_digest",
    "response_digest", "outcome", "reason", "prev_hash",
)


def _canonical(values: dict[str, Any]) -> bytes:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def hash_of(entry: CallLogRecord) -> str:
    """Return the hash ``entry`` should carry given its fields as they are now."""
    values = {name: getattr(entry, name) for name in HASHED_FIELDS}
    values["occurred_at"] = _instant(entry.occurred_at)
    return hashlib.sha256(_canonical(values)).hexdigest()


# The head row (CallLogHead), read and locked; moved; and a checkpoint younger than a minute.
_READ_HEAD = "SELECT last_seq, last_hash FROM exchange_callloghead WHERE id = 1"
_MOVE_HEAD = "UPDATE exchange_callloghead SET last_seq = %s, last_hash = %s WHERE id = 1"
_RECENT_CHECKPOINT = "SELECT 1 FROM exchange_checkpoint WHERE created_at > %s LIMIT 1"
# Every column of CallLogRecord but its id, so that a new field cannot be left out.
_RECORD_FIELDS = [field for field in CallLogRecord._meta.concrete_fields if not field.primary_key]
_INSERT_RECORD = "INSERT INTO exchange_calllogrecord ({}) VALUES ({}) RETURNING id".format(  # noqa: S608 - our columns
    ", ".join(f'"{field.column}"' for field in _RECORD_FIELDS), ", ".join(["%s"] * len(_RECORD_FIELDS))
)


# What a call refused for its rate keeps: the request, not what answering it found.
RATE_LIMITED: dict[str, Any] = {"outcome": "refused", "reason": "rate_limited", "fields_returned": [], "response_digest": "",
                "grant_id": None, "subject_index": "", "person_id": None, "entity_id": None}


def _batched() -> bool:
    # psycopg's client-side binding (Django's default) runs several statements in
    # one round trip; SQLite runs one statement per call (and has no round trips).
    return connection.vendor == "postgresql" and not connection.settings_dict["OPTIONS"].get("server_side_binding")


def _run(cursor: Any, statements: Sequence[tuple[str, Sequence[Any], bool]]) -> list[Any]:
    """Run ``(sql, params, returns_a_row)`` statements in order; return the row of each that returns one.

    On PostgreSQL they go in one round trip, which matters because the gateway
    waits for every round trip of every call.
    """
    rows = []
    if _batched():
        cursor.execute("; ".join(sql for sql, _params, _returns in statements),
                       [value for _sql, params, _returns in statements for value in params])
        for index, (_sql, _params, returns) in enumerate(statements):
            if index:
                cursor.nextset()
            if returns:
                rows.append(cursor.fetchone())
        return rows
    for sql, params, returns in statements:
        cursor.execute(sql, params)
        if returns:
            rows.append(cursor.fetchone())
    return rows


def append(*, hit: ratelimit.Hit | None = None, **values: Any) -> CallLogRecord:
    """Append one record to the call log (and a checkpoint when one is due); return the record.

    With ``hit``, the call is also counted against its client's rate limit in
    the same transaction; past the limit the record is written as refused
    (``RATE_LIMITED``) and the caller answers 429. Runs inside the caller's
    transaction when there is one.

    Every gateway call appends, so this is written as plain statements, in two
    round trips on PostgreSQL (count and lock the head; insert, look for a
    checkpoint younger than a minute and move the head), rather than through
    the ORM, whose query building would cost more than the statements.
    """
    read_head = _READ_HEAD + (" FOR UPDATE" if connection.features.has_select_for_update else "")
    with transaction.atomic(), connection.cursor() as cursor:
        first = ([(ratelimit.COUNT_ONE, hit.params, True)] if hit is not None else []) + [(read_head, (), True)]
        *counted, row = _run(cursor, first)
        if row is None:
            CallLogHead.objects.get_or_create(id=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH})
            cursor.execute(read_head)
            row = cursor.fetchone()
        if hit is not None and int(counted[0][0]) > hit.limit:
            values = {**values, **RATE_LIMITED}
        last_seq, last_hash = row
        entry = CallLogRecord(seq=last_seq + 1, occurred_at=timezone.now(), prev_hash=last_hash, **values)
        entry.fields_returned = json.loads(json.dumps(list(entry.fields_returned)))
        entry.record_hash = hash_of(entry)
        due = Checkpoint._meta.get_field("created_at").get_db_prep_save(
            entry.occurred_at - CHECKPOINT_INTERVAL, connection
        )
        inserted, recent = _run(cursor, [
            (_INSERT_RECORD, [field.get_db_prep_save(getattr(entry, field.attname), connection)
                              for field in _RECORD_FIELDS], True),
            (_RECENT_CHECKPOINT, [due], True),
            (_MOVE_HEAD, [entry.seq, entry.record_hash], False),
        ])
        entry.pk = inserted[0]
        entry._state.adding = False
        if recent is None:
            _write_checkpoint(CallLogHead(id=1, last_seq=entry.seq, last_hash=entry.record_hash))
            # The calls after this checkpoint are signed by the next call a minute on,
            # or, if traffic stops, by the worker a minute from now.
            transaction.on_commit(partial(schedule_signing, after=CHECKPOINT_INTERVAL))
        return entry


# -- Merkle trees and checkpoints -----------------------------------------------------------------


def _leaf(record_hash: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(record_hash)).digest()


def _tree_hash(leaves: Sequence[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return hashlib.sha256(b"\x01" + _tree_hash(leaves[:split]) + _tree_hash(leaves[split:])).digest()


def merkle_root(record_hashes: Sequence[str]) -> str:
    """Return the RFC 6962 Merkle tree hash (hex) over ``record_hashes`` in order."""
    if not record_hashes:
        return hashlib.sha256(b"").hexdigest()
    return _tree_hash([_leaf(value) for value in record_hashes]).hex()


def public_key() -> bytes:
    """Return the raw Ed25519 public key that verifies checkpoint signatures."""
    return get_crypto_provider().public_key(purpose=SIGNING_PURPOSE)


def key_id_of(key: bytes) -> str:
    """Return the identifier of a public key (hex SHA-256 of its raw bytes, first 32 characters)."""
    return hashlib.sha256(key).hexdigest()[:32]


def checkpoint_payload(checkpoint: Checkpoint) -> bytes:
    """Return the canonical bytes a checkpoint's hash and signature cover."""
    return _canonical({
        "seq": checkpoint.seq,
        "created_at": _instant(checkpoint.created_at),
        "first_seq": checkpoint.first_seq,
        "last_seq": checkpoint.last_seq,
        "last_record_hash": checkpoint.last_record_hash,
        "merkle_root": checkpoint.merkle_root,
        "prev_checkpoint_hash": checkpoint.prev_checkpoint_hash,
        "key_id": checkpoint.key_id,
    })


def _record_hashes(first_seq: int, last_seq: int) -> dict[int, str]:
    return dict(
        CallLogRecord.objects.filter(seq__gte=first_seq, seq__lte=last_seq).values_list("seq", "record_hash")
    )


def _write_checkpoint(head: CallLogHead) -> Checkpoint | None:
    """Sign the records since the last checkpoint; the caller holds the head's lock."""
    last = Checkpoint.objects.order_by("-seq").first()
    first_seq = last.last_seq + 1 if last is not None else 1
    if first_seq > head.last_seq:
        return None
    provider = get_crypto_provider()
    hashes = _record_hashes(first_seq, head.last_seq)
    checkpoint = Checkpoint(
        seq=last.seq + 1 if last is not None else 1,
        created_at=timezone.now(),
        first_seq=first_seq,
        last_seq=head.last_seq,
        last_record_hash=head.last_hash,
        merkle_root=merkle_root([hashes[seq] for seq in sorted(hashes)]),
        prev_checkpoint_hash=last.checkpoint_hash if last is not None else GENESIS_HASH,
        key_id=key_id_of(provider.public_key(purpose=SIGNING_PURPOSE)),
    )
    payload = checkpoint_payload(checkpoint)
    checkpoint.checkpoint_hash = hashlib.sha256(payload).hexdigest()
    checkpoint.signature = base64.b64encode(provider.sign(payload, purpose=SIGNING_PURPOSE)).decode()
    checkpoint.save(force_insert=True)
    return checkpoint


def write_checkpoint() -> Checkpoint | None:
    """Write a checkpoint over the records since the last one; return it, or None if there are none."""
    with transaction.atomic():
        head = CallLogHead.objects.select_for_update().filter(id=1).first()
        if head is None:
            return None
        return _write_checkpoint(head)


# -- verification ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogBreak:
    """Where and why the call log stops being trustworthy."""

    kind: str  # "record" or "checkpoint"
    seq: int
    reason: str

    def __str__(self) -> str:
        name = "call record" if self.kind == "record" else "checkpoint"
        return f"{name} #{self.seq}: {self.reason}"


def verify_records(
    records: Iterable[CallLogRecord],
    *,
    expected_last_seq: int | None = None,
    expected_last_hash: str | None = None,
) -> LogBreak | None:
    """Return the first break in ``records`` (taken in the order given), or None.

    ``expected_last_seq`` and ``expected_last_hash`` come from the head: they
    catch records removed from, or appended behind the head's back at, the end.
    """
    prev_hash = GENESIS_HASH
    expected_seq = 1
    for entry in records:
        if expected_last_seq is not None and expected_seq > expected_last_seq:
            return LogBreak("record", entry.seq, f"found after the last record the head knows (#{expected_last_seq})")
        if entry.seq != expected_seq:
            return LogBreak("record", entry.seq, f"expected record #{expected_seq}, found #{entry.seq}")
        if entry.prev_hash != prev_hash:
            return LogBreak("record", entry.seq, f"does not link to record #{expected_seq - 1}")
        if hash_of(entry) != entry.record_hash:
            return LogBreak("record", entry.seq, "content does not match its hash")
        prev_hash = entry.record_hash
        expected_seq += 1
    if expected_last_seq is not None and expected_seq - 1 != expected_last_seq:
        return LogBreak("record", expected_seq, f"log ends at #{expected_seq - 1} but the head says #{expected_last_seq}")
    if expected_last_hash is not None and prev_hash != expected_last_hash:
        return LogBreak("record", expected_seq - 1, "last record does not match the head's hash")
    return None


def verify_checkpoints(
    checkpoints: Iterable[Checkpoint], record_hashes: Callable[[int, int], dict[int, str]], *, key: bytes
) -> LogBreak | None:
    """Return the first checkpoint whose signature, link or Merkle root is wrong, or None.

    ``record_hashes(first, last)`` returns the stored hashes of records
    ``first``..``last`` by seq (one checkpoint's range at a time, so that a
    long log is never held in memory); ``key`` is the platform's raw Ed25519
    public key.
    """
    verifier = Ed25519PublicKey.from_public_bytes(key)
    prev_hash = GENESIS_HASH
    expected_seq, expected_first = 1, 1
    for checkpoint in checkpoints:
        payload = checkpoint_payload(checkpoint)
        if checkpoint.seq != expected_seq:
            return LogBreak("checkpoint", checkpoint.seq, f"expected checkpoint #{expected_seq}")
        if checkpoint.prev_checkpoint_hash != prev_hash:
            return LogBreak("checkpoint", checkpoint.seq, f"does not link to checkpoint #{expected_seq - 1}")
        if hashlib.sha256(payload).hexdigest() != checkpoint.checkpoint_hash:
            return LogBreak("checkpoint", checkpoint.seq, "content does not match its hash")
        try:
            verifier.verify(base64.b64decode(checkpoint.signature), payload)
        except (InvalidSignature, ValueError):
            return LogBreak("checkpoint", checkpoint.seq, "signature does not verify with the platform key")
        if checkpoint.first_seq != expected_first or checkpoint.last_seq < checkpoint.first_seq:
            return LogBreak("checkpoint", checkpoint.seq, f"does not start at record #{expected_first}")
        stored = record_hashes(checkpoint.first_seq, checkpoint.last_seq)
        hashes = [stored.get(seq, "") for seq in range(checkpoint.first_seq, checkpoint.last_seq + 1)]
        if "" in hashes:
            missing = checkpoint.first_seq + hashes.index("")
            return LogBreak("record", missing, f"signed in checkpoint #{checkpoint.seq} but missing")
        if hashes[-1] != checkpoint.last_record_hash or merkle_root(hashes) != checkpoint.merkle_root:
            return LogBreak(
                "record", checkpoint.first_seq,
                f"records #{checkpoint.first_seq}-#{checkpoint.last_seq} do not match the Merkle root "
                f"signed in checkpoint #{checkpoint.seq}",
            )
        prev_hash = checkpoint.checkpoint_hash
        expected_seq += 1
        expected_first = checkpoint.last_seq + 1
    return None


def _head_state() -> tuple[int, str]:
    head = CallLogHead.objects.filter(id=1).values_list("last_seq", "last_hash").first()
    return head if head is not None else (0, GENESIS_HASH)


def _verify_against(head: tuple[int, str]) -> LogBreak | None:
    records = CallLogRecord.objects.order_by("id").iterator(chunk_size=2000)
    chain_break = verify_records(records, expected_last_seq=head[0], expected_last_hash=head[1])
    if chain_break is not None:
        return chain_break
    checkpoints = Checkpoint.objects.order_by("id").iterator(chunk_size=500)
    return verify_checkpoints(checkpoints, _record_hashes, key=public_key())


def verify_log() -> LogBreak | None:
    """Verify the stored call log and its checkpoints; return the first break or None.

    Records are read in insertion order, so a reordering of rows shows. As for
    the audit chain, a scan during which appends moved the head is retried, and
    finally repeated holding the head's lock.
    """
    for _attempt in range(3):
        head = _head_state()
        chain_break = _verify_against(head)
        if chain_break is None or _head_state() == head:
            return chain_break
    with transaction.atomic():
        CallLogHead.objects.select_for_update().filter(id=1).first()
        return _verify_against(_head_state())
