"""Credentials test data, built through the services: the platform CA, the demo licence types, seals."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.catalog.fixtures import resources  # noqa: F401 (a fixture: the registries persons are made in)
from tongban.credentials import services as credentials
from tongban.demo.licences import seed_licence_types
from tongban.kernel.actors import SystemActor
from tongban.kernel.models import Department

PLATFORM = SystemActor("test")


@pytest.fixture
def sealed(org, resources) -> Callable[[str], Department]:  # noqa: F811
    """Set up the CA and the licence types; return a function that gives a Hangzhou department its seal."""
    credentials.ensure_platform_ca(actor=PLATFORM)
    seed_licence_types()

    def seal(kind: str, city: str = "330100") -> Department:
        department = org.department(city, kind)
        credentials.create_seal(department, actor=PLATFORM)
        return department

    return seal
