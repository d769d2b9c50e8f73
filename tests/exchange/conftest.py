"""Exchange fixtures: the catalog's cast and resources."""

from tests.catalog.fixtures import *  # noqa: F403
from tests.catalog.fixtures import _english  # noqa: F401
