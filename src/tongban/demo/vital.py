"""The demo region's vital events and real property, chosen from the demo population by a fixed seed.

``seed_vital_and_property`` sets up the births-and-deaths registry (Hangzhou
health), the marriage registry (Hangzhou civil affairs) and the real-property
registry (Hangzhou natural resources), then registers a handful of births and
marriages, one death and about fifty parcels through the registries' services.
It needs the persons and entities of ``demo.people.seed_registries``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from tongban.demo.org import DemoOrg
from tongban.demo.people import DEMO_SEED, DISTRICT_CODES, REGISTRY_CITY, SEED_ACTOR
from tongban.kernel.models import Department
from tongban.registries import services as registries
from tongban.registries.models import LegalEntity, Parcel, Person, VitalEvent

BIRTHS = 5
MARRIAGES = 5
PARCELS = 50
# The first persons may be bound to demo accounts: none of them dies.
PROTECTED_PERSONS = 50
LAST_EVENT_DAY = date(2025, 6, 30)
# Parcel use, its weight, and its range of area in m².
PARCEL_USES: Sequence[tuple[str, int, int, int]] = (
    (Parcel.Use.RESIDENTIAL, 60, 60, 300),
    (Parcel.Use.COMMERCIAL, 15, 200, 5000),
    (Parcel.Use.INDUSTRIAL, 10, 2000, 50000),
    (Parcel.Use.AGRICULTURAL, 15, 1000, 60000),
)


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return date(day.year + years, 3, 1)


def _ensure_registries(org: DemoOrg) -> None:
    for code, name, name_en, kind in (
        (registries.BIRTH_DEATH_REGISTRY, "出生死亡登记库", "Births and deaths", Department.Kind.HEALTH),
        (registries.MARRIAGE_REGISTRY, "婚姻登记库", "Marriages and divorces", Department.Kind.CIVIL_AFFAIRS),
        (registries.PROPERTY_REGISTRY, "不动产登记库", "Real property", Department.Kind.NATURAL_RESOURCES),
    ):
        registries.ensure_registry(actor=SEED_ACTOR, code=code, name=name, name_en=name_en,
                                   owner=org.department(REGISTRY_CITY, kind))


def _register_event(kind: str, number: str, **values: Any) -> None:
    """Register the event unless its certificate is already there (so that re-seeding writes nothing)."""
    if registries.vital_events_visible_to(SEED_ACTOR).filter(kind=kind, certificate_number=number).exists():
        return
    registries.register_vital_event(actor=SEED_ACTOR, kind=kind, certificate_number=number,
                                    reason="Demo region seeded with generated events", **values)


def _marriages(rng: random.Random, persons: Sequence[Person], taken: set[int]) -> None:
    men = [p for p in persons if p.sex == Person.Sex.MALE and p.pk not in taken
           and _years_after(p.birth_date, 22) < LAST_EVENT_DAY]
    women = [p for p in persons if p.sex == Person.Sex.FEMALE and p.pk not in taken
             and _years_after(p.birth_date, 20) < LAST_EVENT_DAY]
    for number in range(1, MARRIAGES + 1):
        husband = men.pop(rng.randrange(len(men)))
        wife = women.pop(rng.randrange(len(women)))
        taken.update({husband.pk, wife.pk})
        earliest = max(_years_after(husband.birth_date, 22), _years_after(wife.birth_date, 20), date(1980, 1, 1))
        span = max((LAST_EVENT_DAY - earliest).days, 0)
        _register_event(VitalEvent.Kind.MARRIAGE, f"DEMO-M-{number:04d}",
                        occurred_on=earliest + timedelta(days=rng.randrange(min(span, 3650) + 1)),
                        place=wife.address_region, subject=husband, spouse=wife)


def _births(rng: random.Random, persons: Sequence[Person]) -> None:
    children = [p for p in persons if p.birth_date >= date(2000, 1, 1)]
    for number in range(1, BIRTHS + 1):
        if not children:
            return
        child = children.pop(rng.randrange(len(children)))
        mothers = [p for p in persons if p.sex == Person.Sex.FEMALE
                   and _years_after(p.birth_date, 20) <= child.birth_date < _years_after(p.birth_date, 40)]
        fathers = [p for p in persons if p.sex == Person.Sex.MALE
                   and _years_after(p.birth_date, 22) <= child.birth_date < _years_after(p.birth_date, 45)]
        _register_event(VitalEvent.Kind.BIRTH, f"DEMO-B-{number:04d}", occurred_on=child.birth_date,
                        place=child.address_region, subject=child,
                        mother=rng.choice(mothers) if mothers else None,
                        father=rng.choice(fathers) if fathers else None)


def _death(rng: random.Random, persons: Sequence[Person], taken: set[int]) -> Person:
    elderly = [p for p in persons[PROTECTED_PERSONS:] if p.birth_date < date(1950, 1, 1) and p.pk not in taken]
    person = rng.choice(elderly)
    _register_event(VitalEvent.Kind.DEATH, "DEMO-D-0001", occurred_on=date(2025, 3, 1) - timedelta(rng.randrange(700)),
                    place=person.address_region, subject=person)
    return person


def _parcels(rng: random.Random, persons: Sequence[Person], entities: Sequence[LegalEntity]) -> None:
    uses = [use for use, weight, _low, _high in PARCEL_USES for _ in range(weight)]
    areas = {use: (low, high) for use, _weight, low, high in PARCEL_USES}
    existing = set(registries.parcels_visible_to(SEED_ACTOR).values_list("location_code", flat=True))
    adults = [p for p in persons if p.birth_date <= date(2000, 1, 1)]
    for number in range(1, PARCELS + 1):
        region = DISTRICT_CODES[rng.randrange(len(DISTRICT_CODES))]
        use = rng.choice(uses)
        low, high = areas[use]
        area = f"{rng.randrange(low * 100, high * 100) / 100:.2f}"
        draw = rng.randrange(20)
        if use != Parcel.Use.RESIDENTIAL and draw < 12 and entities:
            owners: list[tuple[Any, Fraction]] = [(rng.choice(entities), Fraction(1))]
        elif draw < 16:
            owners = [(rng.choice(adults), Fraction(1))]
        else:
            first, second = rng.sample(adults, 2)
            owners = [(first, Fraction(1, 2)), (second, Fraction(1, 2))]
        code = f"{region}{1 + rng.randrange(20):03d}{1 + rng.randrange(30):03d}GB{number:05d}"
        acquired_on = date(1998, 1, 1) + timedelta(days=rng.randrange(9000))
        if code in existing:
            continue
        registries.register_parcel(
            actor=SEED_ACTOR, location_code=code, region=region, area=area, use=use,
            owners=[{"holder": holder, "share": share} for holder, share in owners], acquired_on=acquired_on,
            reason="Demo region seeded with generated parcels",
        )


def seed_vital_and_property(org: DemoOrg, *, seed: int = DEMO_SEED) -> None:
    """Create the vital-event and real-property registries and their demo records (idempotent).

    Births, marriages, one death (never of one of the first persons, who may be
    demo accounts) and about fifty parcels held by persons, couples and
    entities. Every record is chosen from the seeded population by ``seed``
    alone, so a second run finds them all registered and writes nothing.
    """
    _ensure_registries(org)
    rng = random.Random(seed ^ 0x7174_A1E5)
    persons = list(registries.persons_visible_to(SEED_ACTOR).order_by("pk"))
    entities = list(registries.entities_visible_to(SEED_ACTOR).filter(status=LegalEntity.Status.ACTIVE))
    if not persons:
        return
    taken: set[int] = set()
    _marriages(rng, persons, taken)
    _births(rng, persons)
    deceased = _death(rng, persons, taken)
    _parcels(rng, [p for p in persons if p.pk != deceased.pk], entities)
