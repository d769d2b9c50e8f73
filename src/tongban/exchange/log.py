"""The call log: records written by calls, the hash chain that links them, signed checkpoints.

A call appends its record and nothing else (``append``): no lock on a shared
row, so concurrent calls do not queue behind each other's commit. The
chainer (``chain_pending``, run by the signing task about once a minute while
there is traffic, and before every checkpoint) then links the committed
records in the order of their ids into a hash chain (``CallLogLink``), each
link's hash covering its record's fields, its place and its predecessor's
hash, serialized on ``CallLogHead``. A checkpoint signs the RFC 6962 Merkle
root over the links since the previous checkpoint with the platform's
Ed25519 key (through the CryptoProvider), so a rewrite that recomputes every
hash still shows. ADR 0012 says why the chain is built after the commit.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connection, transaction
from django.utils import timezone

from tongban.exchange.models import CallLogHead, CallLogLink, CallLogRecord, Checkpoint
from tongban.exchange.tasks import schedule_signing
from tongban.kernel import ratelimit
from tongban.kernel.crypto import get_crypto_provider

GENESIS_HASH = "0" * 64
SIGNING_PURPOSE = "exchange.call-log.checkpoint"
CHECKPOINT_INTERVAL = timedelta(seconds=60)
# A signing task that has not run this long after it was due is taken for lost
# (say, the queue was cleared) and the next call schedules another.
SIGNING_OVERDUE = timedelta(minutes=5)
CHAIN_BATCH = 5_000

# The fields a link's hash covers: its record's, its place and its predecessor's hash.
HASHED_FIELDS = (
    "seq", "occurred_at", "client_id", "department_id", "resource_code", "grant_id", "subject_index",
    "person_id", "entity_id", "purpose", "case_id", "fields_returned", "request_digest",
    "response_digest", "outcome", "reason", "prev_hash",
)
_RECORD_HASHED = [name for name in HASHED_FIELDS if name not in ("seq", "prev_hash")]


def _canonical(values: dict[str, Any]) -> bytes:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def hash_of(entry: CallLogRecord, *, seq: int, prev_hash: str) -> str:
    """Return the hash of ``entry``'s link at place ``seq`` after a link hashed ``prev_hash``."""
    values: dict[str, Any] = {name: getattr(entry, name) for name in _RECORD_HASHED}
    values.update(seq=seq, prev_hash=prev_hash, occurred_at=_instant(entry.occurred_at))
    return hashlib.sha256(_canonical(values)).hexdigest()


# Every column of CallLogRecord but its id, so that a new field cannot be left out.
_RECORD_FIELDS = [field for field in CallLogRecord._meta.concrete_fields if not field.primary_key]
_COLUMNS = ", ".join(f'"{field.column}"' for field in _RECORD_FIELDS)
_INSERT_RECORD = "INSERT INTO exchange_calllogrecord ({}) VALUES ({}) RETURNING id".format(  # noqa: S608 - our columns
    _COLUMNS, ", ".join(["%s"] * len(_RECORD_FIELDS))
)
# Claim the scheduling of the signing task unless a run is due (a plain UPDATE locks
# the head row only when it matches, so calls do not queue on it), and create the
# head, claimed, if there is none yet. Parameters: due, overdue, genesis hash, due.
_CLAIM_SIGNING = (
    "UPDATE exchange_callloghead SET signing_due_at = %s "
    "WHERE id = 1 AND (signing_due_at IS NULL OR signing_due_at < %s) RETURNING id; "
    "INSERT INTO exchange_callloghead (id, last_seq, last_hash, chained_through, signing_due_at) "
    "SELECT 1, 0, %s, 0, %s WHERE NOT EXISTS (SELECT 1 FROM exchange_callloghead WHERE id = 1) "
    "ON CONFLICT (id) DO NOTHING RETURNING id"
)

# What a call refused for its rate keeps: the request, not what answering it found.
RATE_LIMITED: dict[str, Any] = {"outcome": "refused", "reason": "rate_limited", "fields_returned": [],
                                "response_digest": "", "grant_id": None, "subject_index": "",
                                "person_id": None, "entity_id": None}


@cache
def _limited_insert(vendor: str) -> str:
    """Return the INSERT that writes a record, or its rate-limited form when the client's count is past the limit.

    Parameters: every column's value (the rate-limited value first for the
    columns in ``RATE_LIMITED``), then the limit, the counter's key and window.
    """
    expressions = []
    for field in _RECORD_FIELDS:
        if field.attname in RATE_LIMITED:
            expressions.append(f"CAST(CASE WHEN c.limited THEN %s ELSE %s END AS {field.db_type(connection)})")
        else:
            expressions.append("%s")
    template = (
        "INSERT INTO exchange_calllogrecord ({}) SELECT {} FROM (SELECT \"count\" > %s AS limited "
        "FROM kernel_ratelimitcounter WHERE \"key\" = %s AND window_start = %s) AS c RETURNING id, reason"
    )
    return template.format(_COLUMNS, ", ".join(expressions))


def _db_values(entry: CallLogRecord) -> list[Any]:
    return [field.get_db_prep_save(getattr(entry, field.attname), connection) for field in _RECORD_FIELDS]


def _one_round_trip() -> bool:
    # psycopg's client-side binding (Django's default) runs several statements, even
    # several transactions, in one round trip; only outside the caller's transaction.
    return (connection.vendor == "postgresql" and not connection.in_atomic_block
            and not connection.settings_dict["OPTIONS"].get("server_side_binding"))


def append(*, hit: ratelimit.Hit | None = None, **values: Any) -> CallLogRecord:
    """Append one call record; return it saved (its ``id`` is the call number).

    With ``hit``, the call is also counted against its client's rate limit;
    past the limit the record is written as refused (``RATE_LIMITED``) and the
    caller answers 429. When no signing task is due, this call schedules one.

    Every gateway call appends, so this is written as plain statements. On
    PostgreSQL, outside a transaction of the caller's, it is one round trip:
    the count in a transaction of its own that does not wait for its WAL flush
    (a lost count after a crash only lets a client a few more calls), then the
    record, durable, with its outcome decided by the count read back (which
    includes concurrent calls of the same client, so a call may be refused a
    few calls early at the window's edge, never late).
    """
    entry = CallLogRecord(occurred_at=timezone.now(), **values)
    entry.fields_returned = json.loads(json.dumps(list(entry.fields_returned)))
    now = entry.occurred_at
    due = CallLogHead._meta.get_field("signing_due_at").get_db_prep_save(now + CHECKPOINT_INTERVAL, connection)
    overdue = CallLogHead._meta.get_field("signing_due_at").get_db_prep_save(now - SIGNING_OVERDUE, connection)
    claim = [due, overdue, GENESIS_HASH, due]
    with connection.cursor() as cursor:
        if hit is not None and _one_round_trip():
            params: list[Any] = [*hit.params]
            limited_values = {**values, **RATE_LIMITED}
            for field in _RECORD_FIELDS:
                value = field.get_db_prep_save(getattr(entry, field.attname), connection)
                if field.attname in RATE_LIMITED:
                    limited = field.get_db_prep_save(limited_values[field.attname], connection)
                    params.extend([limited, value])
                else:
                    params.append(value)
            params.extend([hit.limit, *hit.params, *claim])
            cursor.execute(
                "BEGIN; SET LOCAL synchronous_commit TO off; " + ratelimit.COUNT_ONE + "; COMMIT; "
                + _limited_insert(connection.vendor) + "; " + _CLAIM_SIGNING, params,
            )
            for _result in range(4):  # BEGIN, SET, the count, COMMIT
                cursor.nextset()
            record_id, reason = cursor.fetchone()
            cursor.nextset()
            claimed = cursor.fetchone() is not None
            cursor.nextset()
            claimed = cursor.fetchone() is not None or claimed
            if reason == RATE_LIMITED["reason"]:
                for name, value in RATE_LIMITED.items():
                    setattr(entry, name, value)
        else:
            with transaction.atomic():
                if hit is not None:
                    cursor.execute(ratelimit.COUNT_ONE, hit.params)
                    if int(cursor.fetchone()[0]) > hit.limit:
                        for name, value in RATE_LIMITED.items():
                            setattr(entry, name, value)
                cursor.execute(_INSERT_RECORD, _db_values(entry))
                record_id = cursor.fetchone()[0]
                update, create = _CLAIM_SIGNING.split("; ")
                cursor.execute(update, claim[:2])
                claimed = cursor.fetchone() is not None
                cursor.execute(create, claim[2:])
                claimed = cursor.fetchone() is not None or claimed
    if claimed:
        # After the commit (at once in the one-round-trip path, which commits itself).
        transaction.on_commit(lambda: schedule_signing(after=CHECKPOINT_INTERVAL))
    entry.pk = record_id
    entry._state.adding = False
    return entry


# -- the chain ------------------------------------------------------------------------------------


def _head_for_update() -> CallLogHead:
    head = CallLogHead.objects.select_for_update().filter(id=1).first()
    if head is None:
        CallLogHead.objects.get_or_create(id=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH})
        head = CallLogHead.objects.select_for_update().get(id=1)
    return head


def _committed_bound() -> int:
    """Return the highest record id below which no record can still be committed.

    On PostgreSQL ids come from a sequence when a call inserts, so a call that
    took an id may commit after one that took a higher id. A SHARE lock on the
    table waits for every transaction that has inserted to end (new inserts
    wait meanwhile, for the length of one SELECT); every id taken afterwards is
    higher. On SQLite writers are serialized, so the highest committed id is it.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("LOCK TABLE exchange_calllogrecord IN SHARE MODE")
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM exchange_calllogrecord")
        return int(cursor.fetchone()[0])


def chain_pending() -> int:
    """Link every committed record not yet in the chain, in the order of their ids; return how many."""
    bound = _committed_bound()
    linked = 0
    with transaction.atomic():
        head = _head_for_update()
        seq, prev_hash, after = head.last_seq, head.last_hash, head.chained_through
        while after < bound:
            records = list(CallLogRecord.objects.filter(id__gt=after, id__lte=bound).order_by("id")[:CHAIN_BATCH])
            if not records:
                break
            links = []
            for entry in records:
                seq += 1
                record_hash = hash_of(entry, seq=seq, prev_hash=prev_hash)
                links.append(CallLogLink(seq=seq, record_id=entry.pk, prev_hash=prev_hash, record_hash=record_hash))
                prev_hash = record_hash
            CallLogLink.objects.bulk_create(links)
            linked += len(links)
            after = records[-1].pk
        CallLogHead.objects.filter(id=1).update(last_seq=seq, last_hash=prev_hash, chained_through=max(after, bound))
    return linked


def finish_signing_round(*, chained: int) -> bool:
    """Decide after a signing run whether another is due in a minute; return True if so (and mark it due).

    Another is due when this run linked calls, or calls came in while it ran;
    otherwise the head says none is due, and the next call schedules one.
    """
    with transaction.atomic():
        head = _head_for_update()
        waiting = CallLogRecord.objects.filter(id__gt=head.chained_through).exists()
        due = chained > 0 or waiting
        head.signing_due_at = timezone.now() + CHECKPOINT_INTERVAL if due else None
        head.save(update_fields=["signing_due_at"])
        return due


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
        CallLogLink.objects.filter(seq__gte=first_seq, seq__lte=last_seq).values_list("seq", "record_hash")
    )


def _write_checkpoint(head: CallLogHead) -> Checkpoint | None:
    """Sign the links since the last checkpoint; the caller holds the head's lock."""
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


def sign_checkpoint() -> Checkpoint | None:
    """Sign a checkpoint over the links since the last one; return it, or None if there are none."""
    with transaction.atomic():
        return _write_checkpoint(_head_for_update())


def write_checkpoint() -> Checkpoint | None:
    """Link the records committed since the last run, then sign a checkpoint over the new links.

    Return the checkpoint, or None if no call came since the last one.
    """
    chain_pending()
    return sign_checkpoint()


# -- verification ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogBreak:
    """Where and why the call log stops being trustworthy.

    ``seq`` is the place in the chain (or the checkpoint's number); ``call`` the
    call record's id when the break is about one record.
    """

    kind: str  # "record" or "checkpoint"
    seq: int
    reason: str
    call: int | None = None

    def __str__(self) -> str:
        if self.kind == "checkpoint":
            return f"checkpoint #{self.seq}: {self.reason}"
        if not self.seq:
            return f"call {self.call}: {self.reason}"
        call = f" (call {self.call})" if self.call is not None else ""
        return f"call record #{self.seq}{call}: {self.reason}"


def verify_records(
    links: Iterable[CallLogLink],
    *,
    expected_last_seq: int | None = None,
    expected_last_hash: str | None = None,
) -> LogBreak | None:
    """Return the first break in ``links`` (taken in the order given, each with its ``record``), or None.

    ``expected_last_seq`` and ``expected_last_hash`` come from the head: they
    catch links removed from, or appended behind the head's back at, the end.
    Records are linked in the order of their ids, so a link whose record is not
    after its predecessor's shows a reordering.
    """
    prev_hash = GENESIS_HASH
    expected_seq = 1
    prev_call = 0
    for link in links:
        entry = link.record
        call = entry.pk
        if expected_last_seq is not None and expected_seq > expected_last_seq:
            return LogBreak("record", link.seq, f"found after the last record the head knows (#{expected_last_seq})",
                            call)
        if link.seq != expected_seq:
            return LogBreak("record", link.seq, f"expected record #{expected_seq}, found #{link.seq}", call)
        if link.prev_hash != prev_hash:
            return LogBreak("record", link.seq, f"does not link to record #{expected_seq - 1}", call)
        if call is not None and call <= prev_call:
            return LogBreak("record", link.seq, f"out of order: call {call} after call {prev_call}", call)
        if hash_of(entry, seq=link.seq, prev_hash=link.prev_hash) != link.record_hash:
            return LogBreak("record", link.seq, "content does not match its hash", call)
        prev_hash = link.record_hash
        prev_call = call or prev_call
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


def _head_state() -> tuple[int, str, int]:
    head = CallLogHead.objects.filter(id=1).values_list("last_seq", "last_hash", "chained_through").first()
    return head if head is not None else (0, GENESIS_HASH, 0)


def _verify_against(head: tuple[int, str, int]) -> LogBreak | None:
    last_seq, last_hash, chained_through = head
    links = CallLogLink.objects.select_related("record").order_by("id").iterator(chunk_size=2000)
    chain_break = verify_records(links, expected_last_seq=last_seq, expected_last_hash=last_hash)
    if chain_break is not None:
        return chain_break
    # A record the chainer has passed must be in the chain: one that is not was added behind its back.
    unlinked = (CallLogRecord.objects.filter(id__lte=chained_through, link__isnull=True)
                .order_by("id").values_list("id", flat=True).first())
    if unlinked is not None:
        return LogBreak("record", 0, "is not in the chain", unlinked)
    checkpoints = Checkpoint.objects.order_by("id").iterator(chunk_size=500)
    return verify_checkpoints(checkpoints, _record_hashes, key=public_key())


def verify_log() -> LogBreak | None:
    """Verify the stored call log and its checkpoints; return the first break or None.

    Links are read in insertion order, so a reordering of rows shows. Records
    committed since the chainer's last run are not linked yet (``pending_calls``
    counts them). As for the audit chain, a scan during which the chainer moved
    the head is retried, and finally repeated holding the head's lock.
    """
    for _attempt in range(3):
        head = _head_state()
        chain_break = _verify_against(head)
        if chain_break is None or _head_state() == head:
            return chain_break
    with transaction.atomic():
        CallLogHead.objects.select_for_update().filter(id=1).first()
        return _verify_against(_head_state())


def pending_calls() -> int:
    """Return how many call records wait for the chainer (committed since its last run)."""
    return CallLogRecord.objects.filter(id__gt=_head_state()[2]).count()
