"""Appends from several threads (each with its own database connection) keep one
contiguous, unbroken chain: the chain head's row lock serializes them."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from tongban.kernel import audit
from tongban.kernel.audit import verify_chain
from tongban.kernel.models import AuditChainHead, AuditRecord

THREADS = 4
APPENDS_PER_THREAD = 15


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_contiguous_chain():
    # given several workers released at the same moment
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            start.wait()
            for n in range(APPENDS_PER_THREAD):
                audit.record("test.concurrent", actor=f"system:worker-{number}", target=f"n:{n}")
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    # when they all append at once
    threads = [threading.Thread(target=worker, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then nothing failed, no sequence number was taken twice or skipped, and the chain verifies
    assert not errors, errors
    total = THREADS * APPENDS_PER_THREAD
    seqs = list(AuditRecord.objects.order_by("id").values_list("seq", flat=True))
    assert seqs == list(range(1, total + 1)), f"storage order is not seq order on {connection.vendor}"
    assert AuditChainHead.objects.get().last_seq == total
    assert verify_chain() is None
    per_worker = {
        actor: AuditRecord.objects.filter(actor=actor).count()
        for actor in AuditRecord.objects.values_list("actor", flat=True).distinct()
    }
    assert per_worker == {f"system:worker-{n}": APPENDS_PER_THREAD for n in range(THREADS)}
