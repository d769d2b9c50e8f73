"""Credentials test data, built through the services: the platform CA, the demo licence types, seals."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.catalog.fixtures import (
    PASSWORD,
    make_officer,
    make_person,
    resources,  # noqa: F401 (a fixture: the registries persons are made in)
)
from tongban.credentials import services as credentials
from tongban.demo.licences import seed_licence_types
from tongban.identity import services as identity
from tongban.identity.models import Role
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


@pytest.fixture
def married_holder(sealed, org):
    """Return a citizen's account, the marriage certificate they hold and the officer who issued it."""
    civil = sealed(Department.Kind.CIVIL_AFFAIRS)
    officer = make_officer(org, "civil-reviewer", kind=Department.Kind.CIVIL_AFFAIRS, roles=[Role.REVIEWER])
    person, spouse = make_person(name="王小明"), make_person(name="张丽")
    account = identity.register_citizen(username="wang", password=PASSWORD, name=person.name,
                                        id_number=person.id_number)
    licence = credentials.issue_licence(
        actor=officer, licence_type="marriage-certificate", holder=person, issuer=civil,
        fields={"certificate_number": "J330106-2026-000123", "name": person.name, "id_number": person.id_number,
                "spouse_name": spouse.name, "spouse_id_number": spouse.id_number, "registered_on": "2026-05-20"},
    )
    return account, licence, officer
