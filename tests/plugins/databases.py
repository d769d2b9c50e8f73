"""Test databases that behave like the deployed ones.

Load with ``pytest_plugins = ["tests.plugins.databases"]`` in tests/conftest.py
(scripts/test-suite.sh also passes ``-p tests.plugins.databases``).

- SQLite: the test database is a file under ``TONGBAN_VAR_DIR`` (WAL, as
  ``make run`` uses), not Django's shared in-memory database, whose table locks
  fail concurrent writers at once instead of waiting for the busy timeout.
  Threads and the live server then get connections of their own, as app nodes do.
- PostgreSQL: the audit table's trigger refuses TRUNCATE, which is how Django
  empties the database after a transactional test. The test flush runs in
  ``session_replication_role = replica`` (for its own transaction only), as an
  operator restoring a database would; the application never flushes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def _file_backed_sqlite() -> None:
    from django.conf import settings

    database: dict[str, Any] = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        return
    test = database.setdefault("TEST", {})
    if not test.get("NAME"):
        var_dir = Path(settings.VAR_DIR)
        var_dir.mkdir(parents=True, exist_ok=True)
        test["NAME"] = str(var_dir / "test_tongban.sqlite3")


def _postgresql_flush_past_the_audit_trigger() -> None:
    from django.db.backends.postgresql.operations import DatabaseOperations

    if getattr(DatabaseOperations.execute_sql_flush, "_tongban_test_flush", False):
        return
    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: DatabaseOperations, sql_list: list[str]) -> None:
        # execute_sql_flush runs its statements in one transaction: SET LOCAL ends with it.
        original(self, ["SET LOCAL session_replication_role = replica", *sql_list])

    execute_sql_flush._tongban_test_flush = True  # type: ignore[attr-defined]
    DatabaseOperations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign]


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    _file_backed_sqlite()
    _postgresql_flush_past_the_audit_trigger()
