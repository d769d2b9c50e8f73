"""Portal fixtures: the catalog's cast (departments, systems, grants) and a signed-in licence holder."""

import pytest
from django.test import Client

from tests.catalog.fixtures import *  # noqa: F403
from tests.catalog.fixtures import _english  # noqa: F401
from tests.credentials.conftest import married_holder, sealed  # noqa: F401 (fixtures)


@pytest.fixture
def holder(married_holder):  # noqa: F811
    """Return the married citizen's signed-in browser, their marriage certificate and the officer who issued it."""
    account, licence, officer = married_holder
    browser = Client()
    browser.force_login(account)
    return browser, licence, officer
