"""Workbench fixtures: the catalog's cast (departments, systems, grants)."""

from tests.catalog.fixtures import *  # noqa: F403
from tests.catalog.fixtures import _english  # noqa: F401
