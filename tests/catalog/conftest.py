"""Catalog fixtures (shared with the exchange tests)."""

from tests.catalog.fixtures import *  # noqa: F403
from tests.catalog.fixtures import _english  # noqa: F401
