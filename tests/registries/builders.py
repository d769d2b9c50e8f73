"""Registry test data, built through the services (never by saving models directly)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date

from tongban.identity import services as identity
from tongban.identity.models import Account, Role
from tongban.kernel.actors import SystemActor
from tongban.kernel.models import Department
from tongban.registries import services
from tongban.registries.generator import make_id_number, make_uscc, organization_code
from tongban.registries.models import LegalEntity, Person, Registry

SYSTEM = SystemActor("tests")
PASSWORD = "Correct-Horse-Battery-9"
HANGZHOU = "330100"
NINGBO = "330200"

_serial = itertools.count(1)


def valid_id_number(*, area: str = "330106", birth_date: date = date(1990, 3, 7), sex: str = "male") -> str:
    """Return a fresh valid ID number (unique within a test run) for the area, birth date and sex."""
    slot = next(_serial) % 499
    return make_id_number(area, birth_date, 2 * slot + 1 if sex == "male" else 2 * slot + 2)


def valid_uscc(*, prefix: str = "91", region: str = "330106") -> str:
    """Return a fresh valid unified social credit code."""
    return make_uscc(prefix, region, organization_code(f"{next(_serial) + 10_000_000:08d}"))


def set_up_registries(org) -> tuple[Registry, Registry]:
    """Create the population registry (Hangzhou public security) and the legal-entity registry
    (Hangzhou market regulation)."""
    persons = services.ensure_registry(
        actor=SYSTEM, code=services.PERSON_REGISTRY, name="人口基础库", name_en="Population registry",
        owner=org.department(HANGZHOU, Department.Kind.PUBLIC_SECURITY),
    )
    entities = services.ensure_registry(
        actor=SYSTEM, code=services.ENTITY_REGISTRY, name="法人基础库", name_en="Legal-entity registry",
        owner=org.department(HANGZHOU, Department.Kind.MARKET_REGULATION),
    )
    return persons, entities


def make_person(
    *,
    actor=SYSTEM,
    name: str = "张伟",
    sex: str = "male",
    birth_date: date = date(1990, 3, 7),
    area: str = "330106",
    address_region: str = "330106",
    reason: str = "Birth registration",
) -> Person:
    return services.register_person(
        actor=actor, id_number=valid_id_number(area=area, birth_date=birth_date, sex=sex), name=name,
        sex=sex, birth_date=birth_date, address_region=address_region, reason=reason,
    )


def make_entity(
    representative: Person,
    *,
    actor=SYSTEM,
    name: str = "杭州瑞丰科技有限公司",
    entity_type: str = LegalEntity.EntityType.COMPANY,
    region: str = "330106",
    reason: str = "Business licence issued",
) -> LegalEntity:
    return services.register_entity(
        actor=actor, uscc=valid_uscc(region=region), name=name, entity_type=entity_type,
        legal_representative=representative, registered_region=region,
        established_on=date(2020, 5, 1), reason=reason,
    )


def make_officer(
    org, username: str, *, city: str = HANGZHOU, kind: str = Department.Kind.PUBLIC_SECURITY,
    roles: Sequence[str] = (Role.WINDOW_OFFICER,),
) -> Account:
    return identity.create_officer(
        actor=SYSTEM, username=username, password=PASSWORD, department=org.department(city, kind),
        roles=list(roles),
    )


def make_citizen(person: Person, username: str) -> Account:
    """Return a real-name verified citizen account bound to ``person``."""
    return identity.register_citizen(
        username=username, password=PASSWORD, name=person.name, id_number=person.id_number
    )
