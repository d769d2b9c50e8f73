"""Portal fixtures: the catalog's cast (departments, systems, grants)."""

from tests.catalog.fixtures import *  # noqa: F403
from tests.catalog.fixtures import _english  # noqa: F401
from tests.credentials.conftest import married_holder, sealed  # noqa: F401 (fixtures)
