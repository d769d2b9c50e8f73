"""Gateway calls from several threads keep one contiguous call log that verifies."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from tests.catalog.fixtures import PURPOSE
from tongban.exchange import services
from tongban.exchange.models import CallLogHead, CallLogRecord

THREADS = 4
CALLS_PER_THREAD = 10


@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_keep_one_contiguous_verified_log(tax_grant, tax_client, person):
    # given the tax system's principal and several workers released at once
    from tongban.identity.api_auth import SystemPrincipal

    principal = SystemPrincipal(system=tax_client.system, department=tax_client.system.department,
                                client_id=tax_client.client_id, scopes=frozenset({"api"}))
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            start.wait()
            for n in range(CALLS_PER_THREAD):
                services.call_resource(actor=principal, resource_code="hz-persons", key=person.id_number,
                                       fields="name", purpose=PURPOSE, case_id=f"W{number}-{n}")
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    # when they all call at once
    threads = [threading.Thread(target=worker, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then every call is logged once, in order, and the log verifies
    assert not errors, errors
    total = THREADS * CALLS_PER_THREAD
    assert list(CallLogRecord.objects.order_by("id").values_list("seq", flat=True)) == list(range(1, total + 1))
    assert CallLogHead.objects.get().last_seq == total
    assert services.verify_call_log() is None
