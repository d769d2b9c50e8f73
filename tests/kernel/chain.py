"""Builders for audit chains held in memory (unsaved ``AuditRecord`` objects).

The property tests tamper with these lists the way an attacker with write access
to the table could, then check what ``verify_records`` reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from tongban.kernel.audit import GENESIS_HASH, compute_hash, hash_of
from tongban.kernel.models import AuditRecord

T0 = datetime(2024, 1, 1, tzinfo=UTC)

# What an event carries; details are JSON as the audit module stores them.
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.text(max_size=12),
)
details_strategy = st.dictionaries(st.text(max_size=8), json_scalars, max_size=3)


@dataclass(frozen=True)
class Event:
    """The fields of one record that its author chooses."""

    actor: str
    action: str
    target: str
    source_address: str
    result: str
    details: dict[str, Any]
    micros_after_previous: int


events_strategy = st.builds(
    Event,
    actor=st.sampled_from(["account:1", "account:42", "system:seed", "client:abc", "anonymous"]),
    action=st.sampled_from(
        ["identity.sign_in", "identity.sign_in_failed", "registries.person.changed", "admin.change"]
    ),
    target=st.text(max_size=20),
    source_address=st.sampled_from(["", "127.0.0.1", "10.1.2.3", "2001:db8::1"]),
    result=st.sampled_from([choice.value for choice in AuditRecord.Result]),
    details=details_strategy,
    micros_after_previous=st.integers(min_value=0, max_value=10**9),
)


def make_record(
    *, seq: int, prev_hash: str, event: Event, occurred_at: datetime, record_hash: str | None = None
) -> AuditRecord:
    """Return an unsaved record; its hash is computed unless ``record_hash`` is given."""
    fields: dict[str, Any] = {
        "seq": seq,
        "occurred_at": occurred_at,
        "actor": event.actor,
        "action": event.action,
        "target": event.target,
        "source_address": event.source_address,
        "result": event.result,
        "details": event.details,
        "prev_hash": prev_hash,
    }
    return AuditRecord(**fields, record_hash=record_hash or compute_hash(**fields))


def build_chain(events: Sequence[Event]) -> list[AuditRecord]:
    """Return a valid chain with one record per event, seq 1..n."""
    records: list[AuditRecord] = []
    prev_hash = GENESIS_HASH
    occurred_at = T0
    for seq, event in enumerate(events, start=1):
        occurred_at += timedelta(microseconds=event.micros_after_previous)
        entry = make_record(seq=seq, prev_hash=prev_hash, event=event, occurred_at=occurred_at)
        records.append(entry)
        prev_hash = entry.record_hash
    return records


def rehash(entry: AuditRecord) -> str:
    """Return the hash ``entry`` would carry if its author had written it as it is now."""
    return hash_of(entry)


def copy_record(entry: AuditRecord, **changes: Any) -> AuditRecord:
    """Return an unsaved copy of ``entry`` with ``changes`` applied (hash untouched)."""
    fields = {
        name: getattr(entry, name)
        for name in (
            "seq", "occurred_at", "actor", "action", "target", "source_address",
            "result", "details", "prev_hash", "record_hash",
        )
    }
    fields.update(changes)
    return AuditRecord(**fields)
