"""The audit chain as stored: appends, tampering with raw SQL, the trigger, the command.

Tests tamper the way someone with database access would. On PostgreSQL the
append-only trigger is switched off for that first (``session_replication_role``,
for this test's transaction only); on SQLite there is no trigger, so the hash
chain alone must show the change. Every test runs on both databases.
"""

from __future__ import annotations

import io
import json
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from tongban import cli
from tongban.kernel import audit
from tongban.kernel.audit import GENESIS_HASH, compute_hash, verify_chain
from tongban.kernel.context import current_source_address
from tongban.kernel.models import AuditChainHead, AuditRecord

pytestmark = pytest.mark.django_db

TABLE = AuditRecord._meta.db_table


def append(count: int) -> list[AuditRecord]:
    return [
        audit.record(
            "test.event", actor="system:test", target=f"thing:{n}", details={"n": n, "note": "测试"}
        )
        for n in range(1, count + 1)
    ]


def sql(statement: str, params: list | tuple = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def allow_tampering() -> None:
    """Let this test's transaction change audit rows, as a database superuser could."""
    if connection.vendor == "postgresql":
        # Replica mode skips ordinary triggers; SET LOCAL ends with the test's transaction.
        sql("SET LOCAL session_replication_role = replica")


def ids() -> list[int]:
    return list(AuditRecord.objects.order_by("id").values_list("id", flat=True))


# --- appending ------------------------------------------------------------------


def test_appended_records_form_a_verified_chain():
    # when
    records = append(5)

    # then
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert records[0].prev_hash == GENESIS_HASH
    for previous, current in pairwise(records):
        assert current.prev_hash == previous.record_hash
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (5, records[-1].record_hash)
    assert verify_chain() is None


def test_an_empty_chain_verifies():
    assert verify_chain() is None


def test_stored_records_hash_the_same_after_a_round_trip():
    # given fields whose storage could change their form (time zone, JSON key order)
    entry = audit.record(
        "test.round_trip", actor="system:test",
        details={"z": 1, "a": [1, "二"], "nested": {"b": None, "a": True}},
    )

    # when read back from the database
    stored = AuditRecord.objects.get(pk=entry.pk)

    # then the hash recomputed from the stored fields is the one written
    assert stored.record_hash == compute_hash(
        seq=stored.seq, occurred_at=stored.occurred_at, actor=stored.actor, action=stored.action,
        target=stored.target, source_address=stored.source_address, result=stored.result,
        details=stored.details, prev_hash=stored.prev_hash,
    )


def test_a_record_names_accounts_by_key_and_takes_the_request_address():
    class Someone:
        pk = 42

    token = current_source_address.set("203.0.113.9")
    try:
        entry = audit.record("test.actor", actor=Someone(), result=AuditRecord.Result.DENIED)
    finally:
        current_source_address.reset(token)

    assert entry.actor == "someone:42"
    assert entry.source_address == "203.0.113.9"
    assert entry.result == "denied"
    assert audit.describe_actor(None) == "anonymous"


def test_a_record_rolls_back_with_the_change_it_describes():
    append(2)

    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record("test.doomed", actor="system:test")
        raise RuntimeError("the change fails")

    assert AuditRecord.objects.count() == 2
    assert AuditChainHead.objects.get().last_seq == 2
    assert append(1)[0].seq == 3
    assert verify_chain() is None


def test_details_are_stored_as_json_even_for_other_types():
    from datetime import date

    entry = audit.record("test.types", actor="system:test", details={"day": date(2024, 2, 29)})

    assert AuditRecord.objects.get(pk=entry.pk).details == {"day": "2024-02-29"}
    assert verify_chain() is None


# --- tampering with raw SQL -------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "identity.role_granted"),
        ("actor", "account:1"),
        ("target", "thing:999"),
        ("source_address", "198.51.100.1"),
        ("result", "failure"),
        ("details", json.dumps({"n": 3, "note": "changed"})),
        ("prev_hash", "f" * 64),
        ("record_hash", "e" * 64),
        ("seq", 103),
    ],
)
def test_a_modified_record_is_named(column, value):
    # given
    append(5)
    allow_tampering()

    # when one column of record #3 is changed behind the application's back
    sql(f"UPDATE {TABLE} SET {column} = %s WHERE seq = 3", [value])

    # then
    chain_break = verify_chain()
    assert chain_break is not None
    assert chain_break.position == 3
    assert chain_break.seq == (103 if column == "seq" else 3)


def test_a_modified_timestamp_is_named():
    records = append(4)
    allow_tampering()

    AuditRecord.objects.filter(pk=records[1].pk).update(occurred_at=records[0].occurred_at)

    chain_break = verify_chain()
    assert chain_break is not None
    assert (chain_break.seq, chain_break.position) == (2, 2)


def test_a_rewritten_last_record_with_a_recomputed_hash_is_detected_by_the_head():
    # given an attacker who rewrites the newest record and recomputes its hash
    records = append(3)
    last = records[-1]
    fields = {
        "seq": last.seq, "occurred_at": last.occurred_at, "actor": last.actor,
        "action": "test.forged", "target": last.target, "source_address": last.source_address,
        "result": last.result, "details": last.details, "prev_hash": last.prev_hash,
    }
    allow_tampering()
    sql(
        f"UPDATE {TABLE} SET action = %s, record_hash = %s WHERE id = %s",
        ["test.forged", compute_hash(**fields), last.pk],
    )

    chain_break = verify_chain()
    assert chain_break is not None
    assert (chain_break.seq, chain_break.position) == (3, 3)
    assert "head" in chain_break.reason


@pytest.mark.parametrize("deleted_seq", [1, 3, 5])
def test_a_deleted_record_is_detected_at_the_gap(deleted_seq):
    append(5)
    allow_tampering()

    sql(f"DELETE FROM {TABLE} WHERE seq = %s", [deleted_seq])

    chain_break = verify_chain()
    assert chain_break is not None
    assert chain_break.position == deleted_seq
    if deleted_seq < 5:
        assert chain_break.seq == deleted_seq + 1
    else:
        assert chain_break.seq == 5
        assert "head says #5" in chain_break.reason


def test_an_inserted_record_is_named():
    # given a forged record slipped in between #2 and #3 (rows after it moved up)
    records = append(4)
    allow_tampering()
    offset = max(ids()) + 1000
    sql(f"UPDATE {TABLE} SET id = id + %s WHERE id >= %s", [offset, records[2].pk])
    forged = {
        "seq": 1002, "occurred_at": records[1].occurred_at, "actor": "account:7",
        "action": "identity.role_granted", "target": "account:7", "source_address": "",
        "result": "success", "details": {}, "prev_hash": records[1].record_hash,
    }
    AuditRecord.objects.bulk_create(
        [AuditRecord(id=records[2].pk, **forged, record_hash=compute_hash(**forged))]
    )

    chain_break = verify_chain()
    assert chain_break is not None
    assert (chain_break.seq, chain_break.position) == (1002, 3)


def test_a_record_appended_behind_the_heads_back_is_named():
    # given a well-formed record #4 added without moving the chain head
    records = append(3)
    forged = {
        "seq": 4, "occurred_at": records[2].occurred_at, "actor": "account:7",
        "action": "identity.role_granted", "target": "account:7", "source_address": "",
        "result": "success", "details": {}, "prev_hash": records[2].record_hash,
    }
    AuditRecord.objects.bulk_create([AuditRecord(**forged, record_hash=compute_hash(**forged))])

    chain_break = verify_chain()
    assert chain_break is not None
    assert (chain_break.seq, chain_break.position) == (4, 4)


def test_reordered_records_are_detected():
    # given records #2 and #4 exchanging their places in storage order
    records = append(5)
    allow_tampering()
    second, fourth = records[1].pk, records[3].pk
    parking = max(ids()) + 1000
    sql(f"UPDATE {TABLE} SET id = %s WHERE id = %s", [parking, second])
    sql(f"UPDATE {TABLE} SET id = %s WHERE id = %s", [second, fourth])
    sql(f"UPDATE {TABLE} SET id = %s WHERE id = %s", [fourth, parking])

    chain_break = verify_chain()
    assert chain_break is not None
    assert (chain_break.seq, chain_break.position) == (4, 2)


def test_a_removed_chain_head_is_detected():
    append(2)

    AuditChainHead.objects.all().delete()

    chain_break = verify_chain()
    assert chain_break is not None
    assert (chain_break.seq, chain_break.position) == (1, 1)


# --- the database refuses changes (PostgreSQL) ----------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE {TABLE} SET action = 'x' WHERE seq = 1",
        f"DELETE FROM {TABLE} WHERE seq = 1",
        f"TRUNCATE {TABLE}",
    ],
    ids=["update", "delete", "truncate"],
)
def test_the_database_refuses_to_change_audit_records(statement):
    append(2)

    if connection.vendor == "postgresql":
        # then the trigger refuses, naming the operation
        operation = statement.split()[0]
        with pytest.raises(DatabaseError, match=f"append-only \\({operation} refused\\)"), transaction.atomic():
            sql(statement)
        assert verify_chain() is None
    else:
        # SQLite has no trigger an operator could not drop: the chain shows the change
        sql(statement.replace("TRUNCATE", "DELETE FROM"))
        assert verify_chain() is not None


def test_the_orm_cannot_update_or_delete_audit_records_on_postgresql():
    records = append(2)

    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditRecord.objects.filter(pk=records[0].pk).update(action="x")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            records[1].delete()
        assert AuditRecord.objects.count() == 2
    else:
        AuditRecord.objects.filter(pk=records[0].pk).update(action="x")
        chain_break = verify_chain()
        assert chain_break is not None
        assert chain_break.seq == 1


# --- tongban audit verify -----------------------------------------------------------


def test_audit_verify_reports_an_intact_chain():
    append(3)
    out = io.StringIO()

    call_command("audit", "verify", stdout=out)

    assert "intact: 3 records" in out.getvalue()


def test_audit_verify_fails_naming_the_first_broken_record():
    append(4)
    allow_tampering()
    sql(f"UPDATE {TABLE} SET target = 'thing:x' WHERE seq = 2")

    with pytest.raises(CommandError, match=r"broken at record #2 \(position 2\)"):
        call_command("audit", "verify")


@pytest.fixture
def keep_connection(monkeypatch):
    """Stop the command runner closing the test's connection (and its transaction)."""
    from django.core.management import base

    monkeypatch.setattr(base.connections, "close_all", lambda: None)


def test_the_console_script_exits_non_zero_naming_the_broken_record(capsys, keep_connection):
    append(4)
    allow_tampering()
    sql(f"DELETE FROM {TABLE} WHERE seq = 3")

    # when run as ``tongban audit verify``
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["audit", "verify"])

    # then
    assert exit_info.value.code != 0
    err = capsys.readouterr().err
    assert "record #4" in err
    assert "expected record #3" in err


def test_the_console_script_exits_zero_on_an_intact_chain(capsys, keep_connection):
    append(2)

    cli.main(["audit", "verify"])

    assert "intact: 2 records" in capsys.readouterr().out
