"""The signed call log: a hash chain, signed Merkle checkpoints, and `tongban exchange verify`."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django_tasks_db.models import DBTaskResult
from hypothesis import given
from hypothesis import strategies as st

from tests.catalog.fixtures import PURPOSE, bearer, token_for
from tongban.exchange import services
from tongban.exchange.log import (
    CHECKPOINT_INTERVAL,
    GENESIS_HASH,
    hash_of,
    merkle_root,
    verify_records,
    write_checkpoint,
)
from tongban.exchange.models import CallLogHead, CallLogLink, CallLogRecord, Checkpoint
from tongban.kernel.actors import SystemActor

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def allow_tampering() -> None:
    """Let this test's transaction change call-log rows, as a database superuser could."""
    if connection.vendor == "postgresql":
        # Replica mode skips ordinary triggers; SET LOCAL ends with the test's transaction.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")


def queued_signing_tasks() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path__endswith="sign_pending_calls", status="READY"))


def make_calls(tax_client, person, count: int) -> None:
    token = token_for(tax_client)
    for number in range(count):
        fields = "name" if number % 3 else "salary"  # some answered, some refused
        Client().get(f"/exchange/v1/hz-persons/{person.id_number}",
                     {"fields": fields, "purpose": PURPOSE, "case_id": f"C-{number}"}, **bearer(token))


def test_calls_are_linked_in_order_and_signed_by_the_next_checkpoint(tax_grant, tax_client, person, capsys):
    # given calls the chainer has not seen yet
    make_calls(tax_client, person, 4)
    assert services.pending_calls() == 4 and not CallLogLink.objects.exists()
    assert services.verify_call_log() is None

    # when a checkpoint is written
    checkpoint = write_checkpoint()

    # then every call has its place in the chain, in the order of the calls, and is signed
    assert checkpoint is not None and (checkpoint.first_seq, checkpoint.last_seq) == (1, 4)
    links = list(CallLogLink.objects.order_by("seq").values_list("seq", "record_id"))
    calls = list(CallLogRecord.objects.order_by("id").values_list("id", flat=True))
    assert links == list(zip(range(1, 5), calls, strict=True))
    assert services.pending_calls() == 0 and services.verify_call_log() is None
    later = write_checkpoint()
    assert later is None
    make_calls(tax_client, person, 2)
    later = write_checkpoint()
    assert later is not None and (later.first_seq, later.last_seq) == (5, 6)
    call_command("exchange", "verify")
    assert "Call log intact" in capsys.readouterr().out


def test_the_first_call_schedules_signing_a_minute_on_and_later_calls_do_not(
    tax_grant, tax_client, person, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=True):
        make_calls(tax_client, person, 3)

    scheduled = queued_signing_tasks()
    assert len(scheduled) == 1
    assert timedelta(seconds=55) < scheduled[0].run_after - timezone.now() <= CHECKPOINT_INTERVAL
    assert CallLogHead.objects.get().signing_due_at is not None

    # a run that never happened (the queue was cleared) is replaced by the next call after five minutes
    DBTaskResult.objects.all().delete()
    CallLogHead.objects.update(signing_due_at=timezone.now() - timedelta(minutes=6))
    with django_capture_on_commit_callbacks(execute=True):
        make_calls(tax_client, person, 2)
    assert len(queued_signing_tasks()) == 1


def test_an_altered_record_is_named_by_the_verify_command(tax_grant, tax_client, person):
    make_calls(tax_client, person, 3)
    write_checkpoint()
    allow_tampering()
    CallLogRecord.objects.filter(link__seq=2).update(case_id="FORGED")

    with pytest.raises(CommandError, match="call record #2"):
        call_command("exchange", "verify")


def test_a_rewrite_with_recomputed_hashes_is_caught_by_the_signed_checkpoint(tax_grant, tax_client, person):
    # given records under a checkpoint, rewritten by someone who recomputes every hash and the head
    make_calls(tax_client, person, 3)
    write_checkpoint()
    allow_tampering()
    prev = GENESIS_HASH
    for link in CallLogLink.objects.select_related("record").order_by("seq"):
        if link.seq == 2:
            link.record.purpose = "Something else"
            link.record.save()
        link.prev_hash = prev
        link.record_hash = hash_of(link.record, seq=link.seq, prev_hash=prev)
        link.save()
        prev = link.record_hash
    CallLogHead.objects.update(last_hash=prev)

    log_break = services.verify_call_log()

    assert log_break is not None and log_break.kind == "record"
    assert "Merkle root" in log_break.reason


def test_a_tampered_checkpoint_is_detected(tax_grant, tax_client, person):
    make_calls(tax_client, person, 1)
    write_checkpoint()
    make_calls(tax_client, person, 1)
    write_checkpoint()
    allow_tampering()
    Checkpoint.objects.filter(seq=2).update(last_seq=1)

    log_break = services.verify_call_log()

    assert log_break is not None and (log_break.kind, log_break.seq) == ("checkpoint", 2)


def test_a_record_added_behind_the_chains_back_is_detected(tax_grant, tax_client, person):
    make_calls(tax_client, person, 2)
    write_checkpoint()
    forged = CallLogRecord.objects.order_by("id").first()
    forged.pk, forged.case_id = None, "FORGED"
    forged.save()
    allow_tampering()
    CallLogHead.objects.update(chained_through=forged.pk)

    log_break = services.verify_call_log()

    assert log_break is not None and log_break.call == forged.pk and "not in the chain" in log_break.reason


def test_a_forged_signature_is_detected(tax_grant, tax_client, person):
    make_calls(tax_client, person, 1)
    write_checkpoint()
    allow_tampering()
    Checkpoint.objects.update(signature=base64.b64encode(b"\x00" * 64).decode())

    log_break = services.verify_call_log()

    assert log_break is not None and "signature" in log_break.reason


def test_on_postgresql_the_call_log_refuses_updates_and_deletes(tax_grant, tax_client, person):
    make_calls(tax_client, person, 1)
    if connection.vendor != "postgresql":
        assert connection.vendor == "sqlite"  # no trigger: the chain and checkpoints alone detect tampering
        return

    write_checkpoint()
    for change in (lambda: CallLogRecord.objects.update(case_id="x"), lambda: Checkpoint.objects.all().delete(),
                   lambda: CallLogLink.objects.update(prev_hash="0" * 64)):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            change()


def test_the_public_key_verifies_checkpoints(tax_grant, tax_client, person):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from tongban.exchange.log import checkpoint_payload

    make_calls(tax_client, person, 1)
    write_checkpoint()
    key_id, key = services.checkpoint_public_key()
    checkpoint = Checkpoint.objects.get()

    assert checkpoint.key_id == key_id
    Ed25519PublicKey.from_public_bytes(key).verify(base64.b64decode(checkpoint.signature),
                                                   checkpoint_payload(checkpoint))


def test_anyone_can_fetch_the_latest_checkpoint_and_verify_it_offline(tax_grant, tax_client, person):
    import json

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    def unpad(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    empty = Client().get("/exchange/v1/log/checkpoints/latest")
    make_calls(tax_client, person, 1)
    services.checkpoint_now(actor=SystemActor("tests"))
    make_calls(tax_client, person, 2)
    services.checkpoint_now(actor=SystemActor("tests"))

    # an anonymous auditor fetches it: no token needed, nothing personal in it
    response = Client().get("/exchange/v1/log/checkpoints/latest")

    assert empty.status_code == 404 and empty["Content-Type"] == "application/problem+json"
    assert response.status_code == 200
    body = response.json()
    assert (body["first_seq"], body["last_seq"]) == (2, 3)
    payload = unpad(body["signed_payload"])
    assert json.loads(payload)["merkle_root"] == body["merkle_root"]
    key = Ed25519PublicKey.from_public_bytes(unpad(body["public_key"]))
    key.verify(base64.b64decode(body["signature"]), payload)
    with pytest.raises(InvalidSignature):
        key.verify(base64.b64decode(body["signature"]), payload.replace(b'"last_seq":3', b'"last_seq":2'))
    assert person.id_number not in response.content.decode() and person.name not in response.content.decode()


def test_merkle_roots_follow_rfc_6962():
    import hashlib

    leaf = "ab" * 32
    assert merkle_root([]) == hashlib.sha256(b"").hexdigest()
    assert merkle_root([leaf]) == hashlib.sha256(b"\x00" + bytes.fromhex(leaf)).hexdigest()
    assert merkle_root([leaf, leaf]) != merkle_root([leaf])


# -- property: any single altered, removed, inserted or reordered record is detected --------------


def build_chain(cases: list[str], *, first_call: int = 1) -> list[CallLogLink]:
    links, prev = [], GENESIS_HASH
    for seq, case_id in enumerate(cases, start=1):
        entry = CallLogRecord(
            id=first_call + seq - 1, occurred_at=T0 + timedelta(seconds=seq), client_id="client-a",
            department_id=1, resource_code="hz-persons", grant_id=1, subject_index="s" * 64, person_id=seq,
            entity_id=None, purpose=PURPOSE, case_id=case_id, fields_returned=["name"], request_digest="r" * 64,
            response_digest="p" * 64, outcome="ok", reason="",
        )
        link = CallLogLink(seq=seq, record=entry, prev_hash=prev,
                           record_hash=hash_of(entry, seq=seq, prev_hash=prev))
        links.append(link)
        prev = link.record_hash
    return links


def copy(link: CallLogLink, **changes: Any) -> CallLogLink:
    """Return ``link`` with a copy of its record, record fields changed as ``changes`` say."""
    values = {field.attname: getattr(link.record, field.attname) for field in CallLogRecord._meta.concrete_fields}
    values.update(changes)
    return CallLogLink(seq=link.seq, record=CallLogRecord(**values), prev_hash=link.prev_hash,
                       record_hash=link.record_hash)


chains = st.lists(st.text(max_size=8), min_size=1, max_size=10).map(build_chain)


def verify(records: list[CallLogRecord], head: list[CallLogRecord]):
    return verify_records(records, expected_last_seq=head[-1].seq, expected_last_hash=head[-1].record_hash)


@given(chains)
def test_an_untouched_chain_verifies(records):
    assert verify(records, records) is None


@given(st.data(), chains)
def test_any_altered_record_is_detected(data, records):
    index = data.draw(st.integers(0, len(records) - 1))
    field, value = data.draw(st.sampled_from([
        ("case_id", "forged"), ("purpose", "other"), ("fields_returned", ["id_number"]), ("outcome", "refused"),
        ("person_id", 10**6), ("client_id", "client-b"), ("occurred_at", T0 - timedelta(days=1)),
    ]))
    if getattr(records[index].record, field) == value:
        return
    tampered = [*records]
    tampered[index] = copy(records[index], **{field: value})

    log_break = verify(tampered, records)

    assert log_break is not None and log_break.seq == records[index].seq


@given(st.data(), chains)
def test_any_removed_record_is_detected(data, records):
    index = data.draw(st.integers(0, len(records) - 1))

    assert verify(records[:index] + records[index + 1:], records) is not None


@given(st.data(), chains, st.text(max_size=8))
def test_any_inserted_record_is_detected(data, records, case_id):
    index = data.draw(st.integers(0, len(records)))
    prev = records[index - 1] if index else None
    forged = build_chain([case_id], first_call=10**6)[0]
    forged.seq = prev.seq + 1 if prev else 1
    forged.prev_hash = prev.record_hash if prev else GENESIS_HASH
    forged.record_hash = hash_of(forged.record, seq=forged.seq, prev_hash=forged.prev_hash)

    assert verify([*records[:index], forged, *records[index:]], records) is not None


@given(st.data(), st.lists(st.text(max_size=8), min_size=2, max_size=10).map(build_chain))
def test_records_relinked_in_another_order_are_detected(data, records):
    # someone who swaps two records and recomputes every link's hash (before a checkpoint signs them)
    first = data.draw(st.integers(0, len(records) - 2))
    second = data.draw(st.integers(first + 1, len(records) - 1))
    order = [link.record for link in records]
    order[first], order[second] = order[second], order[first]
    relinked, prev = [], GENESIS_HASH
    for seq, entry in enumerate(order, start=1):
        link = CallLogLink(seq=seq, record=entry, prev_hash=prev, record_hash=hash_of(entry, seq=seq, prev_hash=prev))
        relinked.append(link)
        prev = link.record_hash

    log_break = verify_records(relinked)

    assert log_break is not None and "out of order" in log_break.reason


@given(st.data(), st.lists(st.text(max_size=8), min_size=2, max_size=10).map(build_chain))
def test_any_reordering_is_detected(data, records):
    first = data.draw(st.integers(0, len(records) - 2))
    second = data.draw(st.integers(first + 1, len(records) - 1))
    swapped = [*records]
    swapped[first], swapped[second] = swapped[second], swapped[first]

    log_break = verify(swapped, records)

    assert log_break is not None and log_break.seq == records[second].seq


def test_the_checkpoint_command_signs_new_calls_and_is_audited(tax_grant, tax_client, person, capsys):
    from tongban.kernel.models import AuditRecord

    make_calls(tax_client, person, 3)

    call_command("exchange", "checkpoint")
    call_command("exchange", "checkpoint")

    out = capsys.readouterr().out
    assert "Checkpoint #1 signed over calls #1-#3" in out and "No calls since the last checkpoint" in out
    assert AuditRecord.objects.filter(action="exchange.checkpoint.written").count() == 1


def test_the_public_key_command_prints_the_verifying_key(capsys):
    call_command("exchange", "public-key")

    key_id, algorithm, key = capsys.readouterr().out.split()
    assert algorithm == "ed25519" and len(base64.b64decode(key)) == 32
    assert key_id == services.checkpoint_public_key()[0]


def test_the_worker_signs_the_calls_and_runs_again_while_calls_keep_coming(
    tax_grant, tax_client, person, django_capture_on_commit_callbacks
):

    from tongban.exchange.tasks import sign_pending_calls

    # given calls that scheduled the signing task
    with django_capture_on_commit_callbacks(execute=True):
        make_calls(tax_client, person, 3)
    assert len(queued_signing_tasks()) == 1 and not Checkpoint.objects.exists()

    # when it runs, it links and signs calls 1-3 and looks again a minute later
    DBTaskResult.objects.all().delete()
    assert sign_pending_calls.call() == "checkpoint #1"
    assert Checkpoint.objects.get().last_seq == 3
    assert len(queued_signing_tasks()) == 1

    # with nothing new it writes nothing and stops rescheduling; the next call schedules it again
    DBTaskResult.objects.all().delete()
    assert sign_pending_calls.call() == "nothing to sign"
    assert queued_signing_tasks() == [] and CallLogHead.objects.get().signing_due_at is None
    with django_capture_on_commit_callbacks(execute=True):
        make_calls(tax_client, person, 1)
    assert len(queued_signing_tasks()) == 1
    assert services.verify_call_log() is None
