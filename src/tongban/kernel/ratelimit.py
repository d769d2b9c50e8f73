"""Fixed-window rate limits counted in the database (shared by all app nodes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from tongban.kernel.models import RateLimitCounter
from tongban.kernel.problems import RateLimited


def _window_start(now: datetime, window_seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_seconds, tz=now.tzinfo)


# Add one to a counter and return its count, in one statement (an upsert, PostgreSQL and
# SQLite 3.35+), atomic without a transaction of its own. The table of RateLimitCounter;
# its unique constraint on (key, window_start) is the conflict target.
COUNT_ONE = """
    INSERT INTO kernel_ratelimitcounter ("key", window_start, "count") VALUES (%s, %s, 1)
    ON CONFLICT ("key", window_start) DO UPDATE SET "count" = kernel_ratelimitcounter."count" + 1
    RETURNING "count"
"""


@dataclass(frozen=True)
class Hit:
    """One request to count: the statement that counts it (``COUNT_ONE``) and what a count means."""

    params: tuple[str, Any]
    limit: int
    retry_after: int

    def check(self, count: int) -> None:
        """Raise RateLimited if ``count`` (what ``COUNT_ONE`` returned) is past the limit."""
        if count > self.limit:
            raise RateLimited(self.retry_after)


def prepare_hit(scope: str, key: str) -> Hit:
    """Return the hit of one request for ``key`` under ``scope``'s limit, to count with ``COUNT_ONE``.

    For a caller that counts the hit inside a transaction of its own, in the
    same round trip as other statements (the exchange gateway's call log).
    """
    limit, window_seconds = settings.RATE_LIMITS[scope]
    now = timezone.now()
    start = _window_start(now, window_seconds)
    window_start = RateLimitCounter._meta.get_field("window_start").get_db_prep_save(start, connection)
    retry_after = int((start + timedelta(seconds=window_seconds) - now).total_seconds()) + 1
    return Hit(params=(f"{scope}:{key}"[:200], window_start), limit=limit, retry_after=retry_after)


def hit(scope: str, key: str) -> None:
    """Count one request for ``key`` under ``scope``'s limit; raise RateLimited past it.

    The limit and window come from ``settings.RATE_LIMITS[scope]``. The counter
    is incremented in the database in one statement, so concurrent requests on
    different nodes never lose a count. Call this outside any transaction
    (views do, before their service call): a refused request must stay
    counted, which a caller's rollback would undo.
    """
    counted = prepare_hit(scope, key)
    with connection.cursor() as cursor:
        cursor.execute(COUNT_ONE, counted.params)
        count = int(cursor.fetchone()[0])
    counted.check(count)


def purge_expired(older_than_seconds: int = 3600) -> int:
    """Delete counters whose windows ended long ago; return how many."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    deleted, _ = RateLimitCounter.objects.filter(window_start__lt=cutoff).delete()
    return deleted
