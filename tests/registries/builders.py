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


def set_up_vital_and_property_registries(org) -> tuple[Registry, Registry, Registry]:
    """Create the births-and-deaths registry (Hangzhou health), the marriage registry (Hangzhou
    civil affairs) and the real-property registry (Hangzhou natural resources)."""
    births = services.ensure_registry(
        actor=SYSTEM, code=services.BIRTH_DEATH_REGISTRY, name="出生死亡登记", name_en="Births and deaths",
        owner=org.department(HANGZHOU, Department.Kind.HEALTH),
    )
    marriages = services.ensure_registry(
        actor=SYSTEM, code=services.MARRIAGE_REGISTRY, name="婚姻登记", name_en="Marriages and divorces",
        owner=org.department(HANGZHOU, Department.Kind.CIVIL_AFFAIRS),
    )
    property_registry = services.ensure_registry(
        actor=SYSTEM, code=services.PROPERTY_REGISTRY, name="不动产登记", name_en="Real property",
        owner=org.department(HANGZHOU, Department.Kind.NATURAL_RESOURCES),
    )
    return births, marriages, property_registry


def certificate_number(prefix: str = "C") -> str:
    """Return a fresh certificate number."""
    return f"{prefix}{next(_serial):08d}"


def parcel_code(region: str = "330106") -> str:
    """Return a fresh valid parcel code (宗地代码) in ``region``."""
    return f"{region}001002GB{next(_serial) % 100_000:05d}"


def make_vital_event(kind: str, subject: Person, *, actor=SYSTEM, occurred_on: date | None = None,
                     place: str = "330106", reason: str = "Certificate presented", **persons):
    return services.register_vital_event(
        actor=actor, kind=kind, occurred_on=occurred_on or date(2024, 5, 20), place=place, subject=subject,
        certificate_number=certificate_number(kind[0].upper()), reason=reason, **persons,
    )


def make_parcel(owners, *, actor=SYSTEM, region: str = "330106", area: str = "120.50",
                use: str = "residential", acquired_on: date = date(2015, 6, 1), reason: str = "First registration"):
    """Register a parcel; ``owners`` is a list of (holder, share) pairs."""
    return services.register_parcel(
        actor=actor, location_code=parcel_code(region), region=region, area=area, use=use,
        owners=[{"holder": holder, "share": share} for holder, share in owners], acquired_on=acquired_on,
        reason=reason,
    )
