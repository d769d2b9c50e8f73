"""Shared test setup: fast hashing, the demo org tree, and helpers every block uses."""

from __future__ import annotations

import os

import pytest

# File-backed SQLite test databases (so that threads and the live server see the
# same data) and a PostgreSQL flush that passes the audit table's trigger.
pytest_plugins = ["tests.plugins.databases"]

# Playwright's sync API runs an event loop in the test thread; Django must still
# allow ordinary (synchronous) database access from that thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def org(db):
    """The demo org tree: one province, two cities with eight departments each, four districts."""
    from tongban.demo.org import build_org_tree

    return build_org_tree()


@pytest.fixture
def cn_calendar(db):
    """China's national holiday arrangements as shipped (2024–2026), loaded as `make run` loads them."""
    from tongban.kernel import services
    from tongban.kernel.actors import SystemActor

    return services.load_holiday_arrangements(actor=SystemActor("tests"))
