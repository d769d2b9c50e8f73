"""Catalog and exchange test data, built through the services.

The cast: the Hangzhou public-security data officer (owns the persons
resource), the Hangzhou market-regulation data officer (owns the unconditionally
shared entities resource), the Hangzhou tax data officer (requests data for the
tax system), a tax window officer (not a data officer), a Ningbo tax data
officer (another department) and a citizen: the last three must be refused.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from tests.identity.oidc_helpers import client_credentials_token, machine_client
from tongban.catalog import services as catalog
from tongban.catalog.models import AccessRequest, CatalogResource, Grant
from tongban.demo.catalog import PERSONS_RESOURCE, seed_catalog
from tongban.identity import services as identity
from tongban.identity.models import Account, DepartmentSystem, Role
from tongban.kernel.actors import SystemActor
from tongban.kernel.models import Department
from tongban.registries import services as registries
from tongban.registries.generator import make_id_number, make_uscc, organization_code
from tongban.registries.models import LegalEntity, Person

SYSTEM = SystemActor("tests")
PASSWORD = "Correct-Horse-Battery-9"
HANGZHOU = "330100"
NINGBO = "330200"
PURPOSE = "Tax registration check"
LEGAL_BASIS = "Tax Collection Administration Law, art. 15"

_serial = itertools.count(1)


def in_days(days: float) -> datetime:
    return timezone.now() + timedelta(days=days)


def make_officer(org, username: str, *, city: str = HANGZHOU, kind: str, roles: list[str]) -> Account:
    return identity.create_officer(
        actor=SYSTEM, username=username, password=PASSWORD, department=org.department(city, kind),
        roles=roles,
    )


def make_person(*, name: str = "王小明", birth_date: date = date(1988, 6, 1)) -> Person:
    slot = next(_serial) % 499
    return registries.register_person(
        actor=SYSTEM, id_number=make_id_number("330106", birth_date, 2 * slot + 1), name=name, sex="male",
        birth_date=birth_date, address_region="330106", reason="Birth registration",
    )


def make_entity(representative: Person, *, name: str = "杭州云帆科技有限公司") -> LegalEntity:
    uscc = make_uscc("91", "330106", organization_code(f"{next(_serial) + 20_000_000:08d}"))
    return registries.register_entity(
        actor=SYSTEM, uscc=uscc, name=name, entity_type=LegalEntity.EntityType.COMPANY,
        legal_representative=representative, registered_region="330106", established_on=date(2021, 4, 1),
        reason="Business licence issued",
    )


def request_persons(actor, system: DepartmentSystem, *, fields=("id_number", "name", "birth_date"),
                    purpose: str = PURPOSE, days: float = 30) -> AccessRequest:
    return catalog.request_access(
        actor=actor, resource=CatalogResource.objects.get(code=PERSONS_RESOURCE), fields=list(fields),
        purpose=purpose, legal_basis=LEGAL_BASIS, valid_until=in_days(days), system=system,
    )


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def token_for(registered) -> str:
    response = client_credentials_token(Client(), registered)
    assert response.status_code == 200, response.content
    return str(response.json()["access_token"])


@pytest.fixture(autouse=True)
def _english():
    """Assert on the English messages, whatever catalogs are compiled."""
    with translation.override("en"):
        yield


@pytest.fixture
def resources(org):
    """The two registries and the demo catalog's resources for them."""
    registries.ensure_registry(
        actor=SYSTEM, code=registries.PERSON_REGISTRY, name="人口基础库", name_en="Population registry",
        owner=org.department(HANGZHOU, Department.Kind.PUBLIC_SECURITY),
    )
    registries.ensure_registry(
        actor=SYSTEM, code=registries.ENTITY_REGISTRY, name="法人基础库", name_en="Legal-entity registry",
        owner=org.department(HANGZHOU, Department.Kind.MARKET_REGULATION),
    )
    persons, entities = seed_catalog(org)
    return persons, entities


@pytest.fixture
def persons_resource(resources) -> CatalogResource:
    return resources[0]


@pytest.fixture
def entities_resource(resources) -> CatalogResource:
    return resources[1]


@pytest.fixture
def police_data(org, resources) -> Account:
    return make_officer(org, "hz-police-data", kind=Department.Kind.PUBLIC_SECURITY, roles=[Role.DATA_OFFICER])


@pytest.fixture
def market_data(org, resources) -> Account:
    return make_officer(org, "hz-market-data", kind=Department.Kind.MARKET_REGULATION,
                        roles=[Role.DATA_OFFICER])


@pytest.fixture
def tax_data(org, resources) -> Account:
    return make_officer(org, "hz-tax-data", kind=Department.Kind.TAX, roles=[Role.DATA_OFFICER])


@pytest.fixture
def tax_window(org, resources) -> Account:
    return make_officer(org, "hz-tax-window", kind=Department.Kind.TAX, roles=[Role.WINDOW_OFFICER])


@pytest.fixture
def ningbo_data(org, resources) -> Account:
    """A data officer of Ningbo tax: another department, must see and decide nothing of Hangzhou's."""
    return make_officer(org, "nb-tax-data", city=NINGBO, kind=Department.Kind.TAX, roles=[Role.DATA_OFFICER])


@pytest.fixture
def platform_admin(org, resources) -> Account:
    return make_officer(org, "platform-admin", kind=Department.Kind.DATA_BUREAU, roles=[Role.PLATFORM_ADMIN])


@pytest.fixture
def person(resources) -> Person:
    return make_person()


@pytest.fixture
def citizen(person) -> Account:
    return identity.register_citizen(username="citizen-wang", password=PASSWORD, name=person.name,
                                     id_number=person.id_number)


@pytest.fixture
def tax_client(org, resources):
    """The Hangzhou tax department's case system, a machine client."""
    return machine_client(org.department(HANGZHOU, Department.Kind.TAX), name="Tax case system")


@pytest.fixture
def ningbo_client(org, resources):
    return machine_client(org.department(NINGBO, Department.Kind.TAX), name="Ningbo tax system")


@pytest.fixture
def tax_grant(tax_data, police_data, tax_client) -> Grant:
    """A grant of id_number, name and birth_date of persons to the tax system, names masked."""
    request = request_persons(tax_data, tax_client.system)
    return catalog.approve_request(request, actor=police_data, masking={"name": "name"})


__all__ = [
    "citizen", "entities_resource", "market_data", "ningbo_client", "ningbo_data", "person",
    "persons_resource", "platform_admin", "police_data", "resources", "tax_client", "tax_data",
    "tax_grant", "tax_window",
]
