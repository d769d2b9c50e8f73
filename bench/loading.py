"""Loading a province-size registry: through the import services, and in bulk.

Two paths, reported apart:

- ``import_through_command`` writes the rows to CSV files and runs
  ``tongban registry-import`` on them (file parsing, every validation, all or
  nothing, one audit record per 5,000-row batch). Its rate is the import rate an
  operator gets.
- ``BulkLoader`` writes the rows the services would write for the same kind of
  input (the record, its history entry with the ID number masked, one audit
  record per 5,000-row batch, the ID number encrypted and blind-indexed by the
  CryptoProvider) straight into the tables: COPY on PostgreSQL, executemany on
  SQLite. It skips the per-row validation and lookups, which is why it is fast
  enough to reach ten million persons; the rows are valid by construction
  (the same generator and plan whose first rows the services accept).

Encryption and the blind index cost more than generating a row, so the bulk
path encrypts in worker processes (one per CPU) while the main process
generates the next rows and the database writes the previous ones.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench.common import Measure
from bench.population import Event, Plan, PlannedParcel, Population

# Rows per transaction and per audit record, as ``tongban registry-import`` batches a file.
BATCH = 5000
REASON = "Benchmark: province-size registry load"


# -- the real import path -------------------------------------------------------------------------


def _person_csv_rows(persons: Sequence[dict[str, Any]]) -> Iterator[list[str]]:
    yield ["id_number", "name", "sex", "birth_date", "address_region", "nationality"]
    for row in persons:
        yield [row["id_number"], row["name"], row["sex"], row["birth_date"].isoformat(), row["address_region"],
               row["nationality"]]


def _event_csv_rows(events: Sequence[Event], numbers: Sequence[str], districts: Sequence[str]) -> Iterator[list[str]]:
    def number(position: int) -> str:
        return numbers[position] if position >= 0 else ""

    yield ["kind", "occurred_on", "place", "subject", "spouse", "mother", "father", "certificate_number"]
    for event in events:
        yield [event.kind, event.occurred_on.isoformat(), districts[event.place], number(event.subject),
               number(event.spouse), number(event.mother), number(event.father), event.certificate]


def _parcel_csv_rows(parcels: Sequence[PlannedParcel], numbers: Sequence[str],
                     districts: Sequence[str]) -> Iterator[list[str]]:
    yield ["location_code", "region", "area", "use", "owners", "acquired_on"]
    for parcel in parcels:
        owners = "; ".join(f"person:{numbers[person]}={share}" for person, share in parcel.owners)
        yield [parcel.location_code, districts[parcel.region], parcel.area, parcel.use, owners,
               parcel.acquired_on.isoformat()]


def write_csv(path: Path, rows: Iterable[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def import_through_command(
    directory: Path, persons: Sequence[dict[str, Any]], plan: Plan, districts: Sequence[str]
) -> list[Measure]:
    """Import ``persons`` and their plan from CSV files with ``tongban registry-import``; return one measure per file.

    Files are imported in the order the services need: persons, marriages
    (a divorce after its marriage), births and deaths (a death after the
    marriages, as the plan never lets a married person die), parcels (holders
    must be living).
    """
    from django.core.management import call_command

    from tongban.registries import services as registries

    numbers = [row["id_number"] for row in persons]
    files = [
        (registries.PERSON_REGISTRY, len(persons), _person_csv_rows(persons)),
        (registries.MARRIAGE_REGISTRY, len(plan.marriage_events),
         _event_csv_rows(plan.marriage_events, numbers, districts)),
        (registries.BIRTH_DEATH_REGISTRY, len(plan.birth_death_events),
         _event_csv_rows(plan.birth_death_events, numbers, districts)),
        (registries.PROPERTY_REGISTRY, len(plan.parcels), _parcel_csv_rows(plan.parcels, numbers, districts)),
    ]
    measures = []
    for code, count, rows in files:
        path = directory / f"{code}.csv"
        write_csv(path, rows)
        output = io.StringIO()
        started = time.perf_counter()
        call_command("registry_import", code, str(path), reason=REASON, no_progress=True, stdout=output)
        measures.append(Measure(code, count, time.perf_counter() - started))
        if f"Imported {count} new records" not in output.getvalue():
            raise SystemExit(f"registry-import {code}: {output.getvalue().strip()}")
    return measures


# -- the bulk path --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What the rows need from the database, looked up once: ids, the actor's name, the time."""

    copy: bool  # PostgreSQL COPY text (True) or tuples for executemany (False)
    registries: dict[str, int]
    departments: dict[str, int]  # registry code -> owning department, for vital events
    regions: dict[str, int]  # district code -> Region pk
    changed_by: str
    stamp: str  # "now", as the database column takes it


def _copy_text(value: Any) -> str:
    # COPY's text format: \N is NULL; backslash, tab and line breaks are escaped.
    if value is None:
        return "\\N"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


class Rows:
    """Rows for one table, in the form its database loads fastest."""

    def __init__(self, copy: bool) -> None:
        self.copy = copy
        self.items: list[Any] = []

    def add(self, *values: Any) -> None:
        if not self.copy:
            self.items.append(values)
            return
        line = "\t".join(["\\N" if value is None else str(value) for value in values])
        # Almost no value needs escaping: check the whole line once, escape value by value only then.
        # (Each NULL is one backslash of its own.)
        if (line.count("\t") != len(values) - 1 or line.count("\\") != values.count(None)
                or "\n" in line or "\r" in line):
            line = "\t".join(map(_copy_text, values))
        self.items.append(line)

    def payload(self) -> Any:
        return ("\n".join(self.items) + "\n").encode() if self.copy else self.items

    def __len__(self) -> int:
        return len(self.items)


PERSON_COLUMNS = ("id", "registry_id", "id_number", "id_number_index", "name", "sex", "birth_date",
                  "nationality", "address_region_id", "status", "created_at", "updated_at")
CHANGE_COLUMNS = ("id", "registry_id", "record_key", "person_id", "entity_id", "parcel_id", "kind", "before",
                  "after", "reason", "changed_by", "changed_at")
EVENT_COLUMNS = ("id", "registry_id", "kind", "occurred_on", "place_id", "subject_id", "spouse_id", "mother_id",
                 "father_id", "department_id", "certificate_number", "reason", "registered_by", "registered_at")
PARCEL_COLUMNS = ("id", "registry_id", "location_code", "region_id", "area", "use", "created_at", "updated_at")
SHARE_COLUMNS = ("id", "parcel_id", "holder_person_id", "holder_entity_id", "numerator", "denominator",
                 "acquired_on", "ended_on")

# Set in each worker process by ``_start_worker``.
_WORKER: dict[str, Any] = {}


def _start_worker(context: Context) -> None:
    import django

    # Spawned workers inherit the phase's environment (settings, key directory)
    # and need only the CryptoProvider; they never open a database connection.
    django.setup()
    _WORKER["context"] = context


def encode_persons(batch: list[tuple[int, int, str, str, str, str, str]]) -> tuple[int, Any, Any]:
    """Return the count, the person rows and their history rows for ``(pk, change_pk, number, name, sex, birth, region)``.

    The same values ``import_persons`` writes: the ID number encrypted and
    blind-indexed through the CryptoProvider, the history entry's snapshot with
    the number masked.
    """
    from tongban.kernel.crypto import get_crypto_provider
    from tongban.kernel.masking import mask_id_number
    from tongban.registries.models import ID_NUMBER_PURPOSE

    context: Context = _WORKER["context"]
    provider = get_crypto_provider()
    registry = context.registries["persons"]
    persons, changes = Rows(context.copy), Rows(context.copy)
    for pk, change_pk, number, name, sex, birth, region in batch:
        persons.add(pk, registry, provider.encrypt(number, purpose=ID_NUMBER_PURPOSE),
                    provider.blind_index(number, purpose=ID_NUMBER_PURPOSE), name, sex, birth, "CHN",
                    context.regions[region], "living", context.stamp, context.stamp)
        # The keys in the order of registries.services.PERSON_FIELDS, as _snapshot writes them.
        after = {"id_number": mask_id_number(number), "name": name, "sex": sex, "birth_date": birth,
                 "nationality": "CHN", "address_region": region, "status": "living"}
        # Non-ASCII kept as it is for COPY, so that the line needs no escaping (jsonb stores the same value).
        changes.add(change_pk, registry, f"person:{pk}", pk, None, None, "created", "{}",
                    json.dumps(after, ensure_ascii=not context.copy), REASON, context.changed_by, context.stamp)
    return len(persons), persons.payload(), changes.payload()


def ordered_map(pool: Any, function: Callable[[Any], Any], items: Iterable[Any], window: int) -> Iterator[Any]:
    """Yield ``function(item)`` computed in ``pool``, in order, with at most ``window`` items in flight.

    ``Pool.imap`` would read the whole input ahead, which for ten million
    generated rows means holding them all in memory.
    """
    pending: deque[Any] = deque()
    for item in items:
        pending.append(pool.apply_async(function, (item,)))
        if len(pending) >= window:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


class BackgroundWriter:
    """Run database writes in one thread of their own, in order, while the caller prepares the next ones.

    The database does a COPY's work in its own process and psycopg releases the
    GIL while it waits, so rows are generated and encrypted meanwhile. The
    thread has its own connection (Django's are per thread). The first error
    stops the writing and is raised to the caller.
    """

    def __init__(self, depth: int = 4) -> None:
        self.jobs: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="bench-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from django.db import connection

        try:
            while (job := self.jobs.get()) is not None:
                if self.error is None:  # after an error, only drain so that submit never blocks
                    try:
                        job()
                    except BaseException as error:
                        self.error = error
        finally:
            connection.close()

    def submit(self, job: Callable[[], None]) -> None:
        if self.error is not None:
            raise self.error
        self.jobs.put(job)

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.jobs.put(None)
        self.thread.join()
        if self.error is not None and exc_info[0] is None:
            raise self.error


class BulkLoader:
    """Write registry rows straight into the tables, a batch per transaction with its audit record."""

    def __init__(self, context: Context, *, now: datetime, actor: Any, workers: int) -> None:
        self.context = context
        self.now = now
        self.actor = actor
        self.workers = workers

    # -- writing ----------------------------------------------------------------------------------

    def _write(self, table: str, columns: Sequence[str], payload: Any) -> None:
        from django.db import connection

        quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
        with connection.cursor() as cursor:
            if self.context.copy:
                with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    copy.write(payload)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", payload)

    @staticmethod
    def next_pk(model: Any) -> int:
        from django.db.models import Max

        return int(model.objects.aggregate(last=Max("pk"))["last"] or 0) + 1

    # -- persons ----------------------------------------------------------------------------------

    def load_persons(
        self, rows: Iterator[dict[str, Any]], *, count: int, population: Population, districts: Sequence[str],
        sample_every: int, sample: list[str],
    ) -> tuple[Measure, int]:
        """Load ``count`` generated persons with their history; return the measure and the first pk.

        Fills ``population`` (for the plan) and ``sample`` (every
        ``sample_every``-th ID number, for the lookups) as rows go by.
        """
        from django.db import transaction

        from tongban.kernel import audit
        from tongban.registries.models import Person, RecordChange

        first_pk, first_change = self.next_pk(Person), self.next_pk(RecordChange)
        home_of = {code: index for index, code in enumerate(districts)}

        def batches() -> Iterator[list[tuple[int, int, str, str, str, str, str]]]:
            batch: list[tuple[int, int, str, str, str, str, str]] = []
            for offset, row in enumerate(rows):
                if offset >= count:
                    break
                number, birth = row["id_number"], row["birth_date"]
                population.add(male=row["sex"] == "male", born=birth, home=home_of[row["address_region"]])
                if offset % sample_every == 0:
                    sample.append(number)
                batch.append((first_pk + offset, first_change + offset, number, row["name"], row["sex"],
                              birth.isoformat(), row["address_region"]))
                if len(batch) == BATCH:
                    yield batch
                    batch = []
            if batch:
                yield batch

        def write(persons: Any, changes: Any, details: dict[str, int]) -> None:
            with transaction.atomic():
                self._write(Person._meta.db_table, PERSON_COLUMNS, persons)
                self._write(RecordChange._meta.db_table, CHANGE_COLUMNS, changes)
                audit.record("registries.persons.imported", actor=self.actor, target="registry:persons",
                             details=details)

        started = time.perf_counter()
        loaded = 0
        spawn = multiprocessing.get_context("spawn")
        with (spawn.Pool(self.workers, initializer=_start_worker, initargs=(self.context,)) as pool,
              BackgroundWriter() as writer):
            for size, persons, changes in ordered_map(pool, encode_persons, batches(), window=2 * self.workers + 2):
                details = {"count": size, "first": first_pk + loaded, "last": first_pk + loaded + size - 1}
                writer.submit(partial(write, persons, changes, details))
                loaded += size
        return Measure("persons", loaded, time.perf_counter() - started), first_pk

    # -- vital events -----------------------------------------------------------------------------

    def load_events(self, code: str, events: Sequence[Event], *, person_pk: Callable[[int], int],
                    districts: Sequence[str]) -> Measure:
        """Load one vital-event registry's events; a death also marks its person deceased, with history."""
        from django.db import transaction

        from tongban.kernel import audit
        from tongban.registries.models import Person, RecordChange, VitalEvent

        context = self.context
        registry, department = context.registries[code], context.departments[code]
        regions = [context.regions[code] for code in districts]
        persons_registry = context.registries["persons"]
        next_event, next_change = self.next_pk(VitalEvent), self.next_pk(RecordChange)

        def pk(position: int) -> int | None:
            return person_pk(position) if position >= 0 else None

        def write(rows: Any, changes: Any, dead: list[int], details: dict[str, int]) -> None:
            with transaction.atomic():
                self._write(VitalEvent._meta.db_table, EVENT_COLUMNS, rows)
                if dead:
                    Person.objects.filter(pk__in=dead).update(status="deceased", updated_at=self.now)
                    self._write(RecordChange._meta.db_table, CHANGE_COLUMNS, changes)
                audit.record("registries.vital_events.imported", actor=self.actor, target=f"registry:{code}",
                             details=details)

        started = time.perf_counter()
        with BackgroundWriter() as writer:
            for start in range(0, len(events), BATCH):
                batch = events[start:start + BATCH]
                rows, changes = Rows(context.copy), Rows(context.copy)
                dead: list[int] = []
                for offset, event in enumerate(batch):
                    rows.add(next_event + offset, registry, event.kind, event.occurred_on.isoformat(),
                             regions[event.place], pk(event.subject), pk(event.spouse), pk(event.mother),
                             pk(event.father), department, event.certificate, REASON, context.changed_by,
                             context.stamp)
                    if event.kind == "death":
                        subject = person_pk(event.subject)
                        dead.append(subject)
                        changes.add(next_change, persons_registry, f"person:{subject}", subject, None, None,
                                    "updated", '{"status": "living"}', '{"status": "deceased"}', REASON,
                                    context.changed_by, context.stamp)
                        next_change += 1
                details = {"count": len(batch), "first": next_event, "last": next_event + len(batch) - 1,
                           "deaths": len(dead)}
                writer.submit(partial(write, rows.payload(), changes.payload(), dead, details))
                next_event += len(batch)
        return Measure(code, len(events), time.perf_counter() - started)

    # -- parcels ----------------------------------------------------------------------------------

    def load_parcels(self, parcels: Sequence[PlannedParcel], *, person_pk: Callable[[int], int],
                     districts: Sequence[str]) -> Measure:
        """Load parcels with their ownership shares and history entries."""
        from django.db import transaction

        from tongban.kernel import audit
        from tongban.registries.models import OwnershipShare, Parcel, RecordChange

        context = self.context
        registry = context.registries["real-property"]
        regions = [context.regions[code] for code in districts]
        next_parcel, next_share = self.next_pk(Parcel), self.next_pk(OwnershipShare)
        next_change = self.next_pk(RecordChange)

        def write(rows: Any, shares: Any, changes: Any, details: dict[str, int]) -> None:
            with transaction.atomic():
                self._write(Parcel._meta.db_table, PARCEL_COLUMNS, rows)
                self._write(OwnershipShare._meta.db_table, SHARE_COLUMNS, shares)
                self._write(RecordChange._meta.db_table, CHANGE_COLUMNS, changes)
                audit.record("registries.parcels.imported", actor=self.actor, target="registry:real-property",
                             details=details)

        started = time.perf_counter()
        with BackgroundWriter() as writer:
            for start in range(0, len(parcels), BATCH):
                batch = parcels[start:start + BATCH]
                rows, shares, changes = Rows(context.copy), Rows(context.copy), Rows(context.copy)
                for offset, parcel in enumerate(batch):
                    pk = next_parcel + offset
                    acquired = parcel.acquired_on.isoformat()
                    rows.add(pk, registry, parcel.location_code, regions[parcel.region], parcel.area, parcel.use,
                             context.stamp, context.stamp)
                    owners = []
                    for person, share in parcel.owners:
                        holder = person_pk(person)
                        shares.add(next_share, pk, holder, None, share.numerator, share.denominator, acquired, None)
                        next_share += 1
                        owners.append({"holder": f"person:{holder}", "share": f"{share.numerator}/{share.denominator}"})
                    after = {"location_code": parcel.location_code, "region": districts[parcel.region],
                             "area": parcel.area, "use": parcel.use, "acquired_on": acquired,
                             "owners": sorted(owners, key=lambda owner: owner["holder"])}
                    changes.add(next_change, registry, f"parcel:{pk}", None, None, pk, "created", "{}",
                                json.dumps(after), REASON, context.changed_by, context.stamp)
                    next_change += 1
                details = {"count": len(batch), "first": next_parcel, "last": next_parcel + len(batch) - 1}
                writer.submit(partial(write, rows.payload(), shares.payload(), changes.payload(), details))
                next_parcel += len(batch)
        return Measure("real-property", len(parcels), time.perf_counter() - started)

    # -- afterwards -------------------------------------------------------------------------------

    def finish(self) -> None:
        """Move the primary-key sequences past the rows written with explicit keys (PostgreSQL)."""
        from django.core.management.color import no_style
        from django.db import connection

        from tongban.registries.models import (
            OwnershipShare,
            Parcel,
            Person,
            RecordChange,
            VitalEvent,
        )

        statements = connection.ops.sequence_reset_sql(
            no_style(), [Person, RecordChange, VitalEvent, Parcel, OwnershipShare]
        )
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def database_stamp(now: datetime) -> str:
    """Return ``now`` as the connected database's datetime columns take it in text."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return now.isoformat()
    return str(connection.ops.adapt_datetimefield_value(now))
