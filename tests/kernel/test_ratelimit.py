"""Fixed-window rate limits counted in the database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.db import connections

from tongban.kernel import ratelimit
from tongban.kernel.models import RateLimitCounter
from tongban.kernel.problems import RateLimited, problem_response

WINDOW_START = datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC)


@pytest.fixture
def limits(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "test": (3, 60), "other": (1, 60)}


@pytest.fixture
def clock(monkeypatch):
    """A clock the test moves by hand."""
    now = SimpleNamespace(value=WINDOW_START + timedelta(seconds=15))
    monkeypatch.setattr(ratelimit, "timezone", SimpleNamespace(now=lambda: now.value))
    return now


@pytest.mark.django_db
def test_requests_up_to_the_limit_pass_and_the_next_is_refused_with_retry_after(limits, clock):
    # given three requests in the window, the limit
    for _ in range(3):
        ratelimit.hit("test", "198.51.100.7")

    # when the fourth comes 15 seconds into the 60-second window
    with pytest.raises(RateLimited) as refused:
        ratelimit.hit("test", "198.51.100.7")

    # then it is refused until the window ends
    assert refused.value.retry_after == 46
    assert refused.value.status == 429


@pytest.mark.django_db
def test_refused_requests_keep_counting(limits, clock):
    for _ in range(3):
        ratelimit.hit("test", "k")
    for _ in range(2):
        with pytest.raises(RateLimited):
            ratelimit.hit("test", "k")

    assert RateLimitCounter.objects.get(key="test:k").count == 5


@pytest.mark.django_db
def test_a_new_window_starts_a_new_count(limits, clock):
    for _ in range(3):
        ratelimit.hit("test", "k")

    clock.value = WINDOW_START + timedelta(seconds=60)

    ratelimit.hit("test", "k")
    assert RateLimitCounter.objects.filter(key="test:k").count() == 2


@pytest.mark.django_db
def test_keys_and_scopes_are_counted_apart(limits, clock):
    for _ in range(3):
        ratelimit.hit("test", "198.51.100.7")

    # another client address, and the same address under another scope, still pass
    ratelimit.hit("test", "198.51.100.8")
    ratelimit.hit("other", "198.51.100.7")
    with pytest.raises(RateLimited):
        ratelimit.hit("other", "198.51.100.7")


@pytest.mark.django_db
def test_a_very_long_key_is_counted_under_its_first_200_characters(limits, clock):
    key = "account:" + "x" * 500
    for _ in range(3):
        ratelimit.hit("test", key)

    with pytest.raises(RateLimited):
        ratelimit.hit("test", key)


@pytest.mark.django_db
def test_expired_counters_are_purged(limits, clock):
    ratelimit.hit("test", "old")
    clock.value += timedelta(hours=2)
    ratelimit.hit("test", "current")

    assert ratelimit.purge_expired(older_than_seconds=3600) == 1
    assert list(RateLimitCounter.objects.values_list("key", flat=True)) == ["test:current"]


def test_a_refused_request_is_a_429_problem_with_retry_after():
    response = problem_response(None, RateLimited(46))

    assert response.status_code == 429
    assert response["Retry-After"] == "46"
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db(transaction=True)
def test_app_nodes_share_one_count(limits):
    # given four "app nodes" (threads with their own database connections) sharing a
    # limit of 10 in one window
    nodes, hits_per_node, limit = 4, 5, 10
    from django.conf import settings

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "shared": (limit, 3600)}
    start = threading.Barrier(nodes)
    passed: list[int] = []
    refused: list[int] = []
    errors: list[BaseException] = []

    def node(number: int) -> None:
        try:
            start.wait()
            for _ in range(hits_per_node):
                try:
                    ratelimit.hit("shared", "203.0.113.5")
                    passed.append(number)
                except RateLimited:
                    refused.append(number)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    # when they all count requests from one client at once
    threads = [threading.Thread(target=node, args=(n,)) for n in range(nodes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then exactly the limit passed, whichever nodes served them, and no count was lost
    assert not errors, errors
    assert len(passed) == limit
    assert len(refused) == nodes * hits_per_node - limit
    assert RateLimitCounter.objects.get(key="shared:203.0.113.5").count == nodes * hits_per_node
