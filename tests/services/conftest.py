"""Service-catalog fixtures, built through the services.

The cast: a platform administrator; the Hangzhou market-regulation
department administrator (manages business registration); the Hangzhou
public-security department administrator (another department); a
market-regulation window officer (not an administrator); a citizen. The last
three must be refused what is not theirs.
"""

from __future__ import annotations

import copy

import pytest
from django.test import Client
from django.utils import translation

from tests.catalog.fixtures import PASSWORD, SYSTEM, make_officer, make_person
from tongban.demo.catalog import seed_catalog
from tongban.demo.licences import seed_licence_types
from tongban.demo.services import ITEMS, seed_service_catalog, service_catalog_document
from tongban.identity import services as identity
from tongban.identity.models import Account, Role
from tongban.kernel.models import Department
from tongban.registries import services as registries

HANGZHOU = "330100"
BUSINESS_REGISTRATION = "330100-C-XK-0001"


def item_definition(code: str = BUSINESS_REGISTRATION, **changes) -> dict:
    """Return a demo item's definition (a deep copy) with ``changes`` applied."""
    definition = copy.deepcopy(next(item for item in ITEMS if item["code"] == code))
    definition.update(changes)
    return definition


def new_definition(**changes) -> dict:
    """Return a new item's definition, based on business registration, under another code and name."""
    definition = item_definition()
    definition.update({"code": "330100-C-XK-9001", "name": "个体工商户设立登记", "name_en": "Sole-trader registration",
                       "keywords": ["个体户", "营业执照"], **changes})
    return definition


def document(**changes) -> dict:
    """Return the demo catalog document (a deep copy) with ``changes`` applied."""
    return {**copy.deepcopy(service_catalog_document()), **changes}


@pytest.fixture(autouse=True)
def _english():
    """Assert on the English messages, whatever catalogs are compiled."""
    with translation.override("en"):
        yield


@pytest.fixture
def references(org):
    """What items refer to: the demo licence types and catalog resources (registries without records)."""
    for code, name, kind in (
        (registries.PERSON_REGISTRY, "人口基础库", Department.Kind.PUBLIC_SECURITY),
        (registries.ENTITY_REGISTRY, "法人基础库", Department.Kind.MARKET_REGULATION),
        (registries.BIRTH_DEATH_REGISTRY, "出生死亡登记库", Department.Kind.HEALTH),
        (registries.MARRIAGE_REGISTRY, "婚姻登记库", Department.Kind.CIVIL_AFFAIRS),
        (registries.PROPERTY_REGISTRY, "不动产登记库", Department.Kind.NATURAL_RESOURCES),
    ):
        registries.ensure_registry(actor=SYSTEM, code=code, name=name, name_en=name,
                                   owner=org.department(HANGZHOU, kind))
    seed_catalog(org)
    seed_licence_types()
    return org


@pytest.fixture
def catalog(references):
    """The demo service catalog, loaded through the import (every item published)."""
    return seed_service_catalog()


@pytest.fixture
def platform_admin(references) -> Account:
    return make_officer(references, "svc-platform", kind=Department.Kind.DATA_BUREAU, roles=[Role.PLATFORM_ADMIN])


@pytest.fixture
def market_admin(references) -> Account:
    return make_officer(references, "svc-market-admin", kind=Department.Kind.MARKET_REGULATION,
                        roles=[Role.DEPARTMENT_ADMIN])


@pytest.fixture
def police_admin(references) -> Account:
    """An administrator of another department: manages none of market regulation's items."""
    return make_officer(references, "svc-police-admin", kind=Department.Kind.PUBLIC_SECURITY,
                        roles=[Role.DEPARTMENT_ADMIN])


@pytest.fixture
def market_window(references) -> Account:
    """A market-regulation officer who is not an administrator."""
    return make_officer(references, "svc-market-window", kind=Department.Kind.MARKET_REGULATION,
                        roles=[Role.WINDOW_OFFICER])


@pytest.fixture
def citizen(references) -> Account:
    person = make_person()
    return identity.register_citizen(username="svc-citizen", password=PASSWORD, name=person.name,
                                      id_number=person.id_number)


def signed_in(account) -> Client:
    browser = Client()
    browser.force_login(account)
    return browser
