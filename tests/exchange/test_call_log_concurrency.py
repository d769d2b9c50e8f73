"""Gateway calls from several threads keep one contiguous call log that verifies.

These tests run outside a test transaction, as the server does, so that on
PostgreSQL the gateway takes its one-round-trip path (``exchange.log.append``).
"""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from tests.catalog.fixtures import PURPOSE
from tongban.exchange import services
from tongban.exchange.log import write_checkpoint
from tongban.exchange.models import CallLogHead, CallLogLink, CallLogRecord

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

    # then every call is logged once and, once chained, in order, and the log verifies
    assert not errors, errors
    total = THREADS * CALLS_PER_THREAD
    assert CallLogRecord.objects.count() == total
    write_checkpoint()
    calls = list(CallLogRecord.objects.order_by("id").values_list("id", flat=True))
    assert list(CallLogLink.objects.order_by("seq").values_list("record_id", flat=True)) == calls
    assert CallLogHead.objects.get().last_seq == total
    assert services.verify_call_log() is None


@pytest.mark.django_db(transaction=True)
def test_past_the_rate_limit_calls_are_refused_logged_and_counted(tax_grant, tax_client, person, settings):
    # given a limit of three calls a minute for the gateway
    from tongban.identity.api_auth import SystemPrincipal
    from tongban.kernel.problems import RateLimited

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "exchange_call": (3, 60)}
    principal = SystemPrincipal(system=tax_client.system, department=tax_client.system.department,
                                client_id=tax_client.client_id, scopes=frozenset({"api"}))
    answered, refused = [], []

    # when the system calls five times
    for n in range(5):
        try:
            answered.append(services.call_resource(actor=principal, resource_code="hz-persons", key=person.id_number,
                                                   fields="name", purpose=PURPOSE, case_id=f"R-{n}"))
        except RateLimited as problem:
            refused.append(problem)

    # then three are answered, two refused with the reason and their call numbers, and all five are logged
    assert len(answered) == 3 and len(refused) == 2
    assert all(problem.extensions["reason"] == "rate_limited" and problem.extensions["call"] for problem in refused)
    records = list(CallLogRecord.objects.order_by("id").values_list("outcome", "reason", "person_id", "fields_returned"))
    assert records[:3] == [("ok", "", person.pk, ["name"])] * 3
    assert records[3:] == [("refused", "rate_limited", None, [])] * 2
    assert [answer.call for answer in answered] == list(
        CallLogRecord.objects.order_by("id").values_list("id", flat=True)[:3]
    )
    write_checkpoint()
    assert services.verify_call_log() is None
