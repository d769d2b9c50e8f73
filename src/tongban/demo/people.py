"""The demo region's population and legal-entity registries, generated from a fixed seed.

``seed_registries`` loads them through the registries' bulk-import services;
``demo_people`` and ``demo_entities`` regenerate the same first rows without the
database, so that demo accounts can be bound to known identities.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tongban.demo.org import CITIES, DISTRICTS, DemoOrg
from tongban.kernel.actors import SystemActor
from tongban.kernel.models import Department
from tongban.registries import services as registries
from tongban.registries.generator import generate_entities, generate_persons

DEMO_SEED = 20261123
DEMO_PERSONS = 2000
DEMO_ENTITIES = 300
SEED_ACTOR = SystemActor("seed-demo")
SEED_REASON = "Demo region seeded with generated records"
REGISTRY_CITY = "330100"

DISTRICT_CODES = [code for code, _name, _name_en, _city in DISTRICTS]
# Place names used in entity names: the city's name without 市.
_CITY_PLACES = {code: name.removesuffix("市") for code, name, _name_en in CITIES}
ENTITY_PLACES = {code: _CITY_PLACES[city] for code, _name, _name_en, city in DISTRICTS}


def _persons(count: int, seed: int) -> list[dict[str, Any]]:
    return list(generate_persons(count, seed=seed, district_codes=DISTRICT_CODES))


def _entities(count: int, seed: int, persons: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    representatives = [row["id_number"] for row in persons]
    return list(generate_entities(count, seed=seed, regions=ENTITY_PLACES, representatives=representatives))


def demo_people(seed: int = DEMO_SEED, count: int = 50) -> list[dict[str, Any]]:
    """Return the first ``count`` generated persons: name, id_number, sex, birth_date.

    They are the same persons ``seed_registries`` loads (with ``persons >= count``).
    """
    return [
        {key: row[key] for key in ("name", "id_number", "sex", "birth_date")}
        for row in _persons(count, seed)
    ]


def demo_entities(seed: int = DEMO_SEED, count: int = 3, *, persons: int = DEMO_PERSONS) -> list[dict[str, Any]]:
    """Return the first ``count`` generated legal entities: uscc, name, legal_representative (an ID number).

    ``persons`` must be the number of persons seeded, since representatives are
    drawn from them. The first entities are represented by one of the first ten persons.
    """
    return [
        {key: row[key] for key in ("uscc", "name", "entity_type", "legal_representative")}
        for row in _entities(count, seed, _persons(persons, seed))
    ]


def seed_registries(
    org: DemoOrg, *, persons: int = DEMO_PERSONS, entities: int = DEMO_ENTITIES, seed: int = DEMO_SEED
) -> None:
    """Create the demo registries and load the generated persons and entities (idempotent).

    The population registry is owned by Hangzhou's public-security bureau, the
    legal-entity registry by Hangzhou's market-regulation administration. Only
    records that are not there yet are imported, so a second run writes nothing.
    """
    registries.ensure_registry(
        actor=SEED_ACTOR, code=registries.PERSON_REGISTRY, name="人口基础库", name_en="Population registry",
        owner=org.department(REGISTRY_CITY, Department.Kind.PUBLIC_SECURITY),
    )
    registries.ensure_registry(
        actor=SEED_ACTOR, code=registries.ENTITY_REGISTRY, name="法人基础库", name_en="Legal-entity registry",
        owner=org.department(REGISTRY_CITY, Department.Kind.MARKET_REGULATION),
    )
    person_rows = _persons(persons, seed)
    registries.import_persons(person_rows, actor=SEED_ACTOR, reason=SEED_REASON, skip_registered=True)
    registries.import_entities(
        _entities(entities, seed, person_rows), actor=SEED_ACTOR, reason=SEED_REASON, skip_registered=True
    )
