"""One database's part of ``python -m bench``, run in a process of its own (Django serves one database per process).

1. Set up the demo org tree, the five base registries and the catalog.
2. Import the first ``--service-persons`` generated persons, with their
   marriages, births, deaths and parcels, from CSV files through
   ``tongban registry-import`` (the real import path).
3. Load the remaining persons up to ``--persons``, with theirs, in bulk
   (``bench.loading.BulkLoader``).
4. Look persons up by ID number as the app does, at full size.
5. Compare the exchange gateway with the direct lookup over HTTP (``bench.gateway``).

  python -m bench.scale --database-url URL --var-dir DIR --workdir DIR --out FILE [--persons N] ...
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from itertools import islice
from pathlib import Path
from typing import Any

from bench.common import Measure, latency_summary, setup_django, write_json
from bench.population import Population, plan

SEED = 20261123
ACTOR_NAME = "bench"
REGISTRIES = (
    # code, name, English name, owning department's kind (in Hangzhou)
    ("persons", "人口基础库", "Population registry", "public_security"),
    ("legal-entities", "法人基础库", "Legal-entity registry", "market_regulation"),
    ("births-deaths", "出生死亡登记库", "Births and deaths", "health"),
    ("marriages", "婚姻登记库", "Marriages and divorces", "civil_affairs"),
    ("real-property", "不动产登记库", "Real property", "natural_resources"),
)


def set_up(actor: Any) -> tuple[Any, dict[str, int], dict[str, int], dict[str, int]]:
    """Create the org tree, registries and catalog; return the org and the ids the bulk rows need."""
    from tongban.demo.catalog import seed_catalog
    from tongban.demo.org import build_org_tree
    from tongban.kernel.models import Region
    from tongban.registries import services as registries

    org = build_org_tree(actor=actor)
    registry_ids, owners = {}, {}
    for code, name, name_en, kind in REGISTRIES:
        registry = registries.ensure_registry(actor=actor, code=code, name=name, name_en=name_en,
                                              owner=org.department("330100", kind))
        registry_ids[code], owners[code] = registry.pk, registry.owner_id
    seed_catalog(org)
    regions = dict(Region.objects.values_list("code", "pk"))
    return org, registry_ids, owners, regions


def population_of(rows: list[dict[str, Any]], districts: list[str]) -> Population:
    population = Population()
    home_of = {code: index for index, code in enumerate(districts)}
    for row in rows:
        population.add(male=row["sex"] == "male", born=row["birth_date"], home=home_of[row["address_region"]])
    return population


def tidy_up() -> float:
    """Bring planner statistics up to date (and the visibility map, on PostgreSQL); return the seconds."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What autovacuum would do soon after a load; lookups then read no stale hint bits.
            cursor.execute("VACUUM (ANALYZE)")
        else:
            cursor.execute("ANALYZE")
    return time.perf_counter() - started


def table_rows() -> dict[str, int]:
    from tongban.kernel.models import AuditRecord
    from tongban.registries.models import OwnershipShare, Parcel, Person, RecordChange, VitalEvent

    return {
        "persons": Person.objects.count(),
        "vital events": VitalEvent.objects.count(),
        "parcels": Parcel.objects.count(),
        "ownership shares": OwnershipShare.objects.count(),
        "history entries": RecordChange.objects.count(),
        "audit records": AuditRecord.objects.count(),
    }


def database_size(database_file: Path | None) -> int:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0])
    assert database_file is not None
    return sum(path.stat().st_size for path in database_file.parent.glob(database_file.name + "*"))


def database_name() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


def measure_lookups(numbers: list[str]) -> dict[str, Any]:
    """Time ``find_person_by_id_number`` (blind index, one query, decryption) for each number, in random order."""
    from tongban.registries import services as registries

    order = list(numbers)
    random.Random(SEED).shuffle(order)
    for number in order[:200]:  # warm the connection and the code paths
        registries.find_person_by_id_number(number)
    seconds, found = [], 0
    for number in order:
        started = time.perf_counter()
        person = registries.find_person_by_id_number(number)
        seconds.append(time.perf_counter() - started)
        found += person is not None and person.id_number == number
    if found != len(order):
        raise SystemExit(f"only {found} of {len(order)} sampled persons were found")
    return latency_summary(seconds)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--var-dir", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--persons", type=int, required=True)
    parser.add_argument("--service-persons", type=int, required=True)
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="encryption processes")
    parser.add_argument("--gateway", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--gateway-seconds", type=float, default=10)
    parser.add_argument("--latency-requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server-workers", type=int, default=int(os.environ.get("TONGBAN_WORKERS", "3")))
    parser.add_argument("--server-threads", type=int, default=int(os.environ.get("TONGBAN_THREADS", "4")))
    args = parser.parse_args(argv)
    service_count = min(args.service_persons, args.persons)

    setup_django(args.var_dir, args.database_url, settings="bench.settings")
    from django.core.management import call_command
    from django.utils import timezone

    from bench import gateway
    from bench.loading import BulkLoader, Context, database_stamp, import_through_command
    from tongban.demo.people import DISTRICT_CODES
    from tongban.kernel import audit
    from tongban.kernel.actors import SystemActor
    from tongban.registries.generator import generate_persons

    clock = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    actor = SystemActor(ACTOR_NAME)
    org, registry_ids, owners, regions = set_up(actor)
    districts = list(DISTRICT_CODES)
    result: dict[str, Any] = {"database": database_name(), "persons": args.persons, "service_persons": service_count}

    # The real import path, for the first persons of the generated stream.
    stream = generate_persons(args.persons, seed=SEED, district_codes=districts)
    first = list(islice(stream, service_count))
    first_plan = plan(population_of(first, districts), seed=SEED, tag="A", district_codes=districts)
    files = args.workdir / "import-files"
    files.mkdir(parents=True, exist_ok=True)
    print(f"importing {service_count:,} persons and theirs through registry-import", file=sys.stderr)
    result["service_import"] = import_through_command(files, first, first_plan, districts)
    result["service_plan"] = {"events": first_plan.events(), "shares": first_plan.shares()}

    # The bulk path, for the rest of the same stream.
    sample_every = max(1, args.persons // max(1, args.lookups))
    sample = [row["id_number"] for row in first[::sample_every]]
    del first
    now = timezone.now()
    context = Context(copy=_is_postgresql(), registries=registry_ids, departments=owners,
                      regions={code: regions[code] for code in districts}, changed_by=f"system:{ACTOR_NAME}",
                      stamp=database_stamp(now))
    loader = BulkLoader(context, now=now, actor=actor, workers=args.workers)
    bulk: list[Measure] = []
    rest = args.persons - service_count
    population = Population()
    print(f"loading {rest:,} persons in bulk", file=sys.stderr)
    load_started = time.perf_counter()
    persons, first_pk = loader.load_persons(stream, count=rest, population=population, districts=districts,
                                            sample_every=sample_every, sample=sample)
    bulk.append(persons)
    started = time.perf_counter()
    rest_plan = plan(population, seed=SEED, tag="B", district_codes=districts)
    result["plan_seconds"] = time.perf_counter() - started
    del population

    def person_pk(position: int) -> int:
        return first_pk + position

    print(f"loading {rest_plan.events():,} vital events and {len(rest_plan.parcels):,} parcels in bulk",
          file=sys.stderr)
    bulk.append(loader.load_events("marriages", rest_plan.marriage_events, person_pk=person_pk,
                                   districts=districts))
    bulk.append(loader.load_events("births-deaths", rest_plan.birth_death_events, person_pk=person_pk,
                                   districts=districts))
    bulk.append(loader.load_parcels(rest_plan.parcels, person_pk=person_pk, districts=districts))
    loader.finish()
    result["bulk_plan"] = {"events": rest_plan.events(), "deaths": len(rest_plan.deaths),
                           "shares": rest_plan.shares()}
    del rest_plan
    result["bulk_load"] = bulk
    result["bulk_seconds"] = time.perf_counter() - load_started
    result["audit_chain_verified"] = audit.verify_chain() is None
    result["tidy_seconds"] = tidy_up()
    result["table_rows"] = table_rows()
    result["database_bytes"] = database_size(_sqlite_file(args.database_url))
    result["load_seconds"] = time.perf_counter() - clock
    write_json(args.out, result)

    print(f"looking up {len(sample):,} persons", file=sys.stderr)
    result["lookup"] = measure_lookups(sample)
    write_json(args.out, result)
    if args.gateway:
        print("comparing the gateway with the direct lookup over HTTP", file=sys.stderr)
        options = gateway.Options(concurrency=args.concurrency, seconds=args.gateway_seconds,
                                  latency_requests=args.latency_requests, rounds=args.rounds,
                                  workers=args.server_workers, threads=args.server_threads)
        result["gateway"] = gateway.run(org=org, actor=actor, keys=sample, var_dir=args.var_dir,
                                        database_url=args.database_url, workdir=args.workdir, options=options)
    result["seconds"] = time.perf_counter() - clock
    write_json(args.out, result)


def _is_postgresql() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def _sqlite_file(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:") else None


if __name__ == "__main__":
    main()
