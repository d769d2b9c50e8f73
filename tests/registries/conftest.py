"""Registries fixtures: the two registries, officers of the owning and of other departments."""

from __future__ import annotations

import pytest
from django.utils import translation

from tongban.identity.models import Role
from tongban.kernel.models import Department

from .builders import (
    NINGBO,
    make_officer,
    make_person,
    set_up_registries,
    set_up_vital_and_property_registries,
)
from .import_files import import_storage_fixture  # noqa: F401 - provides import_storage


@pytest.fixture(autouse=True)
def _english():
    """Assert on the English messages, whatever catalogs are compiled."""
    with translation.override("en"):
        yield


@pytest.fixture
def registries(org):
    """The population and legal-entity registries of the demo region."""
    return set_up_registries(org)


@pytest.fixture
def police(org, registries):
    """A window officer of Hangzhou public security (owns the population registry; sees whole numbers)."""
    return make_officer(org, "hz-police")


@pytest.fixture
def police_data_officer(org, registries):
    """A data officer of Hangzhou public security (owns the registry; sees masked numbers)."""
    return make_officer(org, "hz-police-data", roles=[Role.DATA_OFFICER])


@pytest.fixture
def market_officer(org, registries):
    """A window officer of Hangzhou market regulation (owns the legal-entity registry)."""
    return make_officer(org, "hz-market", kind=Department.Kind.MARKET_REGULATION)


@pytest.fixture
def outsider(org, registries):
    """A window officer of Ningbo public security: owns no registry, may see and change nothing."""
    return make_officer(org, "nb-police", city=NINGBO)


@pytest.fixture
def person(registries):
    return make_person()


@pytest.fixture
def vital_registries(org, registries):
    """The births-and-deaths, marriage and real-property registries, with the person registries."""
    return set_up_vital_and_property_registries(org)


@pytest.fixture
def health_officer(org, vital_registries):
    """A window officer of Hangzhou health (owns the births-and-deaths registry)."""
    return make_officer(org, "hz-health", kind=Department.Kind.HEALTH)


@pytest.fixture
def civil_officer(org, vital_registries):
    """A window officer of Hangzhou civil affairs (owns the marriage registry)."""
    return make_officer(org, "hz-civil", kind=Department.Kind.CIVIL_AFFAIRS)


@pytest.fixture
def land_officer(org, vital_registries):
    """A window officer of Hangzhou natural resources (owns the real-property registry)."""
    return make_officer(org, "hz-land", kind=Department.Kind.NATURAL_RESOURCES)
