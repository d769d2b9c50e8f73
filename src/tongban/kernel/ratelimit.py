"""Fixed-window rate limits counted in the database (shared by all app nodes)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from tongban.kernel.models import RateLimitCounter
from tongban.kernel.problems import RateLimited


def _window_start(now: datetime, window_seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_seconds, tz=now.tzinfo)


def hit(scope: str, key: str) -> None:
    """Count one request for ``key`` under ``scope``'s limit; raise RateLimited past it.

    The limit and window come from ``settings.RATE_LIMITS[scope]``. The counter
    is incremented in the database with ``F()``, so concurrent requests on
    different nodes never lose a count.
    """
    limit, window_seconds = settings.RATE_LIMITS[scope]
    now = timezone.now()
    start = _window_start(now, window_seconds)
    counter_key = f"{scope}:{key}"[:200]
    # Call this outside any transaction (views do, before their service call):
    # a refused request must stay counted, which a caller's rollback would undo.
    with transaction.atomic():
        updated = RateLimitCounter.objects.filter(key=counter_key, window_start=start).update(
            count=F("count") + 1
        )
        if not updated:
            try:
                with transaction.atomic():
                    RateLimitCounter.objects.create(key=counter_key, window_start=start, count=1)
            except IntegrityError:
                RateLimitCounter.objects.filter(key=counter_key, window_start=start).update(
                    count=F("count") + 1
                )
        count = RateLimitCounter.objects.values_list("count", flat=True).get(
            key=counter_key, window_start=start
        )
    if count > limit:
        retry_after = int((start + timedelta(seconds=window_seconds) - now).total_seconds()) + 1
        raise RateLimited(retry_after)


def purge_expired(older_than_seconds: int = 3600) -> int:
    """Delete counters whose windows ended long ago; return how many."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    deleted, _ = RateLimitCounter.objects.filter(window_start__lt=cutoff).delete()
    return deleted
