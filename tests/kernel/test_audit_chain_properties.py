"""Property tests of the audit chain over in-memory record lists.

Whatever the chain holds, a single modified, deleted, inserted or reordered
record is detected, and ``verify_records`` names the first record at which the
chain stops being trustworthy.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from tongban.kernel.audit import GENESIS_HASH, verify_records
from tongban.kernel.models import AuditRecord

from .chain import (
    Event,
    build_chain,
    copy_record,
    details_strategy,
    events_strategy,
    make_record,
    rehash,
)

chains = st.lists(events_strategy, min_size=1, max_size=12).map(build_chain)
hex64 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


def verify(records: list[AuditRecord], *, head: AuditRecord | None):
    """Verify ``records`` against a chain head that last saw ``head``."""
    return verify_records(
        records,
        expected_last_seq=head.seq if head else 0,
        expected_last_hash=head.record_hash if head else GENESIS_HASH,
    )


@given(chains)
def test_an_untouched_chain_verifies(records):
    assert verify(records, head=records[-1]) is None
    assert verify_records(records) is None


def test_an_empty_chain_verifies():
    assert verify([], head=None) is None


@st.composite
def modified_field(draw, entry: AuditRecord) -> dict:
    """Draw one field of ``entry`` and a different value for it."""
    name = draw(
        st.sampled_from(
            ["seq", "occurred_at", "actor", "action", "target", "source_address",
             "result", "details", "prev_hash", "record_hash"]
        )
    )
    current = getattr(entry, name)
    if name == "seq":
        value = draw(st.integers(min_value=-5, max_value=10**6).filter(lambda v: v != current))
    elif name == "occurred_at":
        value = current + timedelta(microseconds=draw(st.integers(min_value=1, max_value=10**9)))
    elif name in ("prev_hash", "record_hash"):
        value = draw(hex64.filter(lambda v: v != current))
    elif name == "result":
        value = draw(st.sampled_from([c.value for c in AuditRecord.Result if c.value != current]))
    elif name == "details":
        value = draw(details_strategy.filter(lambda v: v != current))
    else:
        value = draw(st.text(max_size=30).filter(lambda v: v != current))
    return {name: value}


@given(st.data(), chains)
def test_a_modified_record_is_named(data, records):
    # given a chain and one of its records changed in one field, hash left as it was
    index = data.draw(st.integers(min_value=0, max_value=len(records) - 1), label="index")
    change = data.draw(modified_field(records[index]), label="change")
    tampered = [*records]
    tampered[index] = copy_record(records[index], **change)

    # when
    chain_break = verify(tampered, head=records[-1])

    # then the changed record itself is the first broken one
    assert chain_break is not None
    assert chain_break.position == index + 1
    assert chain_break.seq == tampered[index].seq


@given(st.data(), chains)
def test_a_modified_record_with_a_recomputed_hash_is_detected(data, records):
    # given an attacker who also recomputes the changed record's hash
    index = data.draw(st.integers(min_value=0, max_value=len(records) - 1), label="index")
    new_action = data.draw(st.text(max_size=30).filter(lambda v: v != records[index].action))
    forged = copy_record(records[index], action=new_action)
    forged.record_hash = rehash(forged)
    tampered = [*records]
    tampered[index] = forged

    # when
    chain_break = verify(tampered, head=records[-1])

    # then the next record no longer links to it, or, for the last record, the head disagrees
    assert chain_break is not None
    if index + 1 < len(records):
        assert (chain_break.seq, chain_break.position) == (index + 2, index + 2)
        assert f"record #{index + 1}" in chain_break.reason
    else:
        assert (chain_break.seq, chain_break.position) == (index + 1, index + 1)
        assert "head" in chain_break.reason


@given(st.data(), chains)
def test_a_deleted_record_is_detected_where_it_is_missing(data, records):
    # given a chain with one record removed
    index = data.draw(st.integers(min_value=0, max_value=len(records) - 1), label="index")
    tampered = records[:index] + records[index + 1 :]

    # when
    chain_break = verify(tampered, head=records[-1])

    # then the break is at the gap: the record after it, or the head if it was the last
    assert chain_break is not None
    assert chain_break.position == index + 1
    if index + 1 < len(records):
        assert chain_break.seq == index + 2
        assert f"expected record #{index + 1}" in chain_break.reason
    else:
        assert chain_break.seq == index + 1
        assert "head says" in chain_break.reason


@given(st.data(), chains, events_strategy, st.integers(), hex64, hex64)
def test_an_inserted_forged_record_is_named(data, records, event, seq, prev_hash, record_hash):
    # given a record of arbitrary content slipped into the chain
    index = data.draw(st.integers(min_value=0, max_value=len(records)), label="index")
    forged = make_record(
        seq=seq, prev_hash=prev_hash, event=event, occurred_at=records[0].occurred_at,
        record_hash=record_hash,
    )
    tampered = [*records[:index], forged, *records[index:]]

    # when
    chain_break = verify(tampered, head=records[-1])

    # then the forged record is the first broken one
    assert chain_break is not None
    assert chain_break.position == index + 1
    assert chain_break.seq == seq


@given(st.data(), chains, events_strategy)
def test_an_inserted_well_formed_record_is_detected(data, records, event):
    # given an attacker who inserts a record that links to its predecessor, with a
    # correct hash and the next sequence number
    index = data.draw(st.integers(min_value=0, max_value=len(records)), label="index")
    previous = records[index - 1] if index else None
    forged = make_record(
        seq=index + 1,
        prev_hash=previous.record_hash if previous else GENESIS_HASH,
        event=event,
        occurred_at=records[0].occurred_at,
    )
    tampered = [*records[:index], forged, *records[index:]]

    # when
    chain_break = verify(tampered, head=records[-1])

    # then the record it displaced breaks, or, appended at the end, the forged one is
    # beyond the head
    assert chain_break is not None
    if index < len(records):
        assert (chain_break.seq, chain_break.position) == (index + 1, index + 2)
    else:
        assert (chain_break.seq, chain_break.position) == (index + 1, index + 1)
        assert "head" in chain_break.reason


@given(st.data(), st.lists(events_strategy, min_size=2, max_size=12).map(build_chain))
def test_two_swapped_records_are_detected_at_the_first(data, records):
    # given two records that changed places
    first = data.draw(st.integers(min_value=0, max_value=len(records) - 2), label="first")
    second = data.draw(st.integers(min_value=first + 1, max_value=len(records) - 1), label="second")
    tampered = [*records]
    tampered[first], tampered[second] = tampered[second], tampered[first]

    # when
    chain_break = verify(tampered, head=records[-1])

    # then the first misplaced position names the record found there
    assert chain_break is not None
    assert chain_break.position == first + 1
    assert chain_break.seq == second + 1


@given(st.data(), st.lists(events_strategy, min_size=2, max_size=12).map(build_chain))
def test_a_record_moved_elsewhere_is_detected_where_the_order_first_differs(data, records):
    source = data.draw(st.integers(min_value=0, max_value=len(records) - 1), label="source")
    target = data.draw(
        st.integers(min_value=0, max_value=len(records) - 1).filter(lambda t: t != source), label="target"
    )
    tampered = [*records]
    tampered.insert(target, tampered.pop(source))

    chain_break = verify(tampered, head=records[-1])

    first_difference = min(source, target)
    assert chain_break is not None
    assert chain_break.position == first_difference + 1
    assert chain_break.seq == tampered[first_difference].seq


@given(chains)
def test_a_chain_cut_before_its_first_record_is_detected(records):
    # given the whole chain deleted but the head kept
    chain_break = verify([], head=records[-1])

    assert chain_break is not None
    assert (chain_break.seq, chain_break.position) == (1, 1)


@given(chains)
def test_records_behind_a_missing_head_are_detected(records):
    # given the chain head row itself removed
    chain_break = verify(records, head=None)

    assert chain_break is not None
    assert (chain_break.seq, chain_break.position) == (1, 1)


def test_event_is_hashable_test_data():
    # The builders produce distinct hashes for distinct events.
    event = Event("account:1", "a", "", "", "success", {}, 0)
    chain = build_chain([event, event])
    assert chain[0].record_hash != chain[1].record_hash
