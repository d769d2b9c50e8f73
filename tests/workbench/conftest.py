"""Workbench fixtures: the catalog's cast (departments, systems, grants)."""

from tests.catalog.fixtures import *  # noqa: F403
from tests.catalog.fixtures import _english  # noqa: F401
from tests.registries.import_files import import_storage_fixture  # noqa: F401 - provides import_storage
