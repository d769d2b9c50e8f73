"""A deterministic plan of vital events and parcels that fit a generated population.

``tongban.registries.generator`` makes the persons; this module decides, from
a seed alone, who was born to whom, who married, divorced or died, and who holds
which parcel in what shares, so that every planned row passes the registries'
import services (the benchmark imports the first rows through them). Persons
are referred to by their position in the population; no database is touched.

The plan keeps to rules the services check: a birth on the child's registered
birth date with a mother 20-40 and a father 22-45 years older; marriages of
living, unmarried adults of legal age, each person at most once; divorces only
of those married, on or after the wedding; deaths only of persons who are in no
marriage (so no later divorce names them); parcel holders living adults whose
shares add up to one.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

LAST_EVENT_DAY = date(2025, 6, 30)
BIRTHS_REGISTERED_FROM = date(2000, 1, 1)
DEATHS_AMONG_BORN_BEFORE = date(1950, 1, 1)
DEATHS_FROM = date(2015, 1, 1)
ADULT_HOLDER_BORN_BY = date(2000, 1, 1)
MARRIAGE_AGE_MEN, MARRIAGE_AGE_WOMEN = 22, 20
# Percentages: of eligible men who marry, of marriages that end in divorce, of
# unmarried persons born before 1950 who die, of births naming each parent.
MARRY_PERCENT = 40
DIVORCE_PERCENT = 10
DEATH_PERCENT = 10
PARENT_KNOWN_PERCENT = 90
PERSONS_PER_PARCEL = 4
# Parcel use, its weight, and its range of area in m² (as the demo seeds them).
PARCEL_USES: Sequence[tuple[str, int, int, int]] = (
    ("residential", 60, 60, 300),
    ("commercial", 15, 200, 5000),
    ("industrial", 10, 2000, 50000),
    ("agricultural", 15, 1000, 60000),
)


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return date(day.year + years, 3, 1)


@dataclass
class Population:
    """Sex, birth date (as an ordinal) and home district (an index) of persons, by position."""

    male: bytearray = field(default_factory=bytearray)
    born: array[int] = field(default_factory=lambda: array("i"))
    home: bytearray = field(default_factory=bytearray)

    def add(self, *, male: bool, born: date, home: int) -> None:
        self.male.append(male)
        self.born.append(born.toordinal())
        self.home.append(home)

    def __len__(self) -> int:
        return len(self.born)


@dataclass(frozen=True)
class Event:
    """One planned vital event; persons are positions in the population (-1: none)."""

    kind: str
    certificate: str
    occurred_on: date
    place: int
    subject: int
    spouse: int = -1
    mother: int = -1
    father: int = -1


@dataclass(frozen=True)
class PlannedParcel:
    location_code: str
    region: int
    area: str
    use: str
    acquired_on: date
    owners: tuple[tuple[int, Fraction], ...]


@dataclass
class Plan:
    """Every vital event and parcel of a population, in the order they must be registered."""

    births: list[Event]
    deaths: list[Event]
    marriages: list[Event]
    divorces: list[Event]
    parcels: list[PlannedParcel]

    @property
    def birth_death_events(self) -> list[Event]:
        # Births first: a death registered before a birth naming the same person
        # would not matter to the services, but this is the order of real life.
        return [*self.births, *self.deaths]

    @property
    def marriage_events(self) -> list[Event]:
        # A divorce needs its marriage registered first.
        return [*self.marriages, *self.divorces]

    def events(self) -> int:
        return len(self.births) + len(self.deaths) + len(self.marriages) + len(self.divorces)

    def shares(self) -> int:
        return sum(len(parcel.owners) for parcel in self.parcels)


def _by_year(population: Population, *, male: bool, born_by: int | None = None) -> dict[int, array[int]]:
    """Return the positions of persons of one sex by birth year (born on or before ``born_by``)."""
    buckets: dict[int, array[int]] = {}
    year_of = _year_table(population)
    first = min(population.born) if len(population) else 0
    for position, (is_male, born) in enumerate(zip(population.male, population.born, strict=True)):
        if bool(is_male) != male or (born_by is not None and born > born_by):
            continue
        year = year_of[born - first]
        bucket = buckets.get(year)
        if bucket is None:
            bucket = buckets[year] = array("i")
        bucket.append(position)
    return buckets


def _year_table(population: Population) -> array[int]:
    """Return the year of each ordinal from the earliest birth on (a lookup, not a date per person)."""
    if not len(population):
        return array("h")
    first, last = min(population.born), max(population.born)
    return array("h", (date.fromordinal(ordinal).year for ordinal in range(first, last + 1)))


def _pick(rng: random.Random, buckets: dict[int, array[int]], years: range) -> int:
    """Return a random person from the buckets of ``years``, or -1 if they are all empty."""
    candidates = [year for year in years if buckets.get(year)]
    if not candidates:
        return -1
    bucket = buckets[rng.choice(candidates)]
    return int(bucket[rng.randrange(len(bucket))])


def plan(population: Population, *, seed: int, tag: str, district_codes: Sequence[str]) -> Plan:
    """Return the vital events and parcels of ``population``, the same for the same seed.

    ``tag`` (a letter or two) goes into every certificate number and parcel
    code, so that plans for two slices of one population never collide.
    """
    rng = random.Random(seed ^ 0x7174_A1E5)
    count = len(population)
    born = population.born
    married = bytearray(count)
    deceased = bytearray(count)
    year_of = _year_table(population)
    first_ordinal = min(born) if count else 0

    # Births: every person born since 2000 has a registered birth.
    women = _by_year(population, male=False)
    men = _by_year(population, male=True)
    births: list[Event] = []
    since = BIRTHS_REGISTERED_FROM.toordinal()
    for child in range(count):
        if born[child] < since:
            continue
        year = year_of[born[child] - first_ordinal]
        mother = _pick(rng, women, range(year - 40, year - 19)) if rng.randrange(100) < PARENT_KNOWN_PERCENT else -1
        father = _pick(rng, men, range(year - 45, year - 21)) if rng.randrange(100) < PARENT_KNOWN_PERCENT else -1
        births.append(Event("birth", f"B-{tag}-{len(births) + 1:09d}", date.fromordinal(born[child]),
                            population.home[child], child, mother=mother, father=father))
    del women, men

    # Marriages: a share of the men who are of age by the last event day marry a
    # woman of age born within a few years of them; nobody marries twice.
    last = LAST_EVENT_DAY
    brides = _by_year(population, male=False,
                      born_by=_years_after(last, -MARRIAGE_AGE_WOMEN).toordinal())
    for bucket in brides.values():
        # Shuffle once, then take from the end: a random bride in O(1).
        as_list = list(bucket)
        rng.shuffle(as_list)
        bucket[:] = array("i", as_list)
    latest_groom = _years_after(last, -MARRIAGE_AGE_MEN).toordinal()
    marriages: list[Event] = []
    for groom in range(count):
        if not population.male[groom] or born[groom] > latest_groom or rng.randrange(100) >= MARRY_PERCENT:
            continue
        year = year_of[born[groom] - first_ordinal]
        wanted = year + rng.randrange(-2, 6)
        bride = -1
        for offset in (0, 1, -1, 2, -2, 3, -3):
            near = brides.get(wanted + offset)
            if near:
                bride = near.pop()
                break
        if bride < 0:
            continue
        earliest = max(_years_after(date.fromordinal(born[groom]), MARRIAGE_AGE_MEN),
                       _years_after(date.fromordinal(born[bride]), MARRIAGE_AGE_WOMEN), date(1980, 1, 1))
        span = (last - earliest).days
        on = earliest + timedelta(days=rng.randrange(min(span, 3650) + 1))
        married[groom] = married[bride] = 1
        marriages.append(Event("marriage", f"M-{tag}-{len(marriages) + 1:09d}", on, population.home[bride],
                               groom, spouse=bride))
    del brides

    divorces: list[Event] = []
    couples: list[tuple[int, int]] = []
    for marriage in marriages:
        if rng.randrange(100) < DIVORCE_PERCENT:
            on = min(marriage.occurred_on + timedelta(days=1 + rng.randrange(3000)), last)
            divorces.append(Event("divorce", f"D-{tag}-{len(divorces) + 1:09d}", on, marriage.place,
                                  marriage.subject, spouse=marriage.spouse))
        else:
            couples.append((marriage.subject, marriage.spouse))

    # Deaths: some of the oldest who are in no marriage of the plan.
    deaths: list[Event] = []
    oldest = DEATHS_AMONG_BORN_BEFORE.toordinal()
    death_span = (last - DEATHS_FROM).days + 1
    for person in range(count):
        if born[person] >= oldest or married[person] or rng.randrange(100) >= DEATH_PERCENT:
            continue
        deceased[person] = 1
        on = DEATHS_FROM + timedelta(days=rng.randrange(death_span))
        deaths.append(Event("death", f"X-{tag}-{len(deaths) + 1:09d}", on, population.home[person], person))

    parcels = list(_parcels(rng, population, deceased, couples, tag=tag, district_codes=district_codes))
    return Plan(births=births, deaths=deaths, marriages=marriages, divorces=divorces, parcels=parcels)


def _parcels(
    rng: random.Random, population: Population, deceased: bytearray, couples: list[tuple[int, int]], *,
    tag: str, district_codes: Sequence[str],
) -> Iterator[PlannedParcel]:
    """Yield one parcel per few persons: held by one adult, a married couple in halves, or three in thirds."""
    count = len(population)
    adult_by = ADULT_HOLDER_BORN_BY.toordinal()
    uses = [use for use, weight, _low, _high in PARCEL_USES for _ in range(weight)]
    areas = {use: (low, high) for use, _weight, low, high in PARCEL_USES}
    # Parcel numbers count up per district: 5 digits, then subzone and zone (3 digits each).
    next_number = [0] * len(district_codes)
    if not any(born <= adult_by for born in population.born):
        return

    def adult() -> int:
        while True:
            person = rng.randrange(count)
            if population.born[person] <= adult_by and not deceased[person]:
                return person

    for _ in range(count // PERSONS_PER_PARCEL):
        draw = rng.randrange(100)
        owners: tuple[tuple[int, Fraction], ...]
        if draw < 25 and couples:
            husband, wife = couples[rng.randrange(len(couples))]
            owners = ((husband, Fraction(1, 2)), (wife, Fraction(1, 2)))
        elif draw < 30 and count >= 3:
            holders: list[int] = []
            while len(holders) < 3:
                person = adult()
                if person not in holders:
                    holders.append(person)
            owners = tuple((person, Fraction(1, 3)) for person in holders)
        else:
            owners = ((adult(), Fraction(1)),)
        region = rng.randrange(len(district_codes))
        serial = next_number[region]
        next_number[region] += 1
        number, rest = serial % 99_999 + 1, serial // 99_999
        code = f"{district_codes[region]}{rest // 999 + 1:03d}{rest % 999 + 1:03d}G{tag}{number:05d}"
        use = rng.choice(uses)
        low, high = areas[use]
        yield PlannedParcel(
            location_code=code, region=region, area=f"{rng.randrange(low * 100, high * 100) / 100:.2f}", use=use,
            acquired_on=date(1998, 1, 1) + timedelta(days=rng.randrange(9000)), owners=owners,
        )
