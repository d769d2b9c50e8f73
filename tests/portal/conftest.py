"""Portal fixtures: the catalog's cast (departments, systems, grants)."""

from tests.catalog.fixtures import *  # noqa: F403
from tests.catalog.fixtures import _english  # noqa: F401
from tests.credentials.conftest import sealed  # noqa: F401 (a fixture: the CA, licence types and seals)
