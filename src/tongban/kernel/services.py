"""Writes to the org tree and the working-day calendar. Every write is audited.

The calendar's arithmetic (pure reads) is re-exported here and in
``selectors`` for the blocks above: ``add_working_days``, ``TimeLimit``, …
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from stdnum.cn import uscc as uscc_number

from tongban.kernel import audit
from tongban.kernel.calendar import (
    DEFAULT_ARRANGEMENTS_FILE,
    CalendarNotLoaded,
    Deadline,
    DeadlineState,
    Pause,
    TimeLimit,
    add_working_days,
    deadline_state,
    is_working_day,
    read_arrangements,
    working_days_between,
)
from tongban.kernel.models import CalendarDay, CalendarYear, Department, Position, Region
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied
from tongban.kernel.processes import ProcessState, process_state

__all__ = [
    "DEFAULT_ARRANGEMENTS_FILE",
    "MAX_TASK_STARTS",
    "CalendarLoad",
    "CalendarNotLoaded",
    "Deadline",
    "DeadlineState",
    "Pause",
    "TimeLimit",
    "WorkerStopped",
    "add_calendar_day",
    "add_working_days",
    "create_department",
    "create_position",
    "create_region",
    "deadline_state",
    "is_working_day",
    "load_holiday_arrangements",
    "recover_interrupted_tasks",
    "region_level_for",
    "remove_calendar_day",
    "working_days_between",
]

ADD_CALENDAR_DAY = "kernel.add_calendarday"
DELETE_CALENDAR_DAY = "kernel.delete_calendarday"
# A task whose worker died under it this many times is not started again: the
# task itself is the likely cause (it runs the worker out of memory, say).
MAX_TASK_STARTS = 3

_LEVEL_BY_SUFFIX = (("0000", Region.Level.PROVINCE), ("00", Region.Level.CITY))


def region_level_for(code: str) -> str:
    """Return the level a 6-digit division code denotes."""
    for suffix, level in _LEVEL_BY_SUFFIX:
        if code.endswith(suffix):
            return level
    return Region.Level.DISTRICT


class WorkerStopped(Exception):
    """A task's worker process ended while the task ran (killed, out of memory, power lost)."""


@transaction.atomic
def recover_interrupted_tasks(*, actor: Any) -> list[str]:
    """Queue again the tasks that workers on this host left running when they died; return their ids.

    A task is interrupted when the worker that claimed it last (its identity
    from ``kernel.processes.this_process``) no longer runs. Tasks are
    idempotent (ADR 0009), so it runs again from the start; one started
    ``MAX_TASK_STARTS`` times is marked failed instead, with the reason. Tasks
    of live workers and of other hosts are left alone (ADR 0018). One audit
    record when anything was recovered.
    """
    recovered: list[str] = []
    failed: list[str] = []
    running = DBTaskResult.objects.select_for_update().filter(status=TaskResultStatus.RUNNING)
    for result in running.order_by("enqueued_at"):
        if not result.worker_ids or process_state(result.worker_ids[-1]) is not ProcessState.GONE:
            continue
        if len(result.worker_ids) >= MAX_TASK_STARTS:
            result.status = TaskResultStatus.FAILED
            result.finished_at = timezone.now()
            result.exception_class_path = f"{WorkerStopped.__module__}.{WorkerStopped.__qualname__}"
            result.traceback = (f"{WorkerStopped.__qualname__}: the worker running this task stopped "
                                f"{len(result.worker_ids)} times; the task is not started again.\n")
            result.save(update_fields=["status", "finished_at", "exception_class_path", "traceback"])
            failed.append(str(result.pk))
        else:
            result.status = TaskResultStatus.READY
            result.started_at = None
            result.save(update_fields=["status", "started_at"])
            recovered.append(str(result.pk))
    if recovered or failed:
        audit.record("kernel.tasks.recovered", actor=actor, target="tasks",
                     details={"queued_again": recovered, "failed": failed})
    return recovered


@transaction.atomic
def create_region(*, actor: Any, code: str, name: str, name_en: str = "", parent: Region | None = None) -> Region:
    """Create a region; raise InvalidInput for a malformed code or a parent that does not contain it."""
    if len(code) != 6 or not code.isdigit():
        raise InvalidInput("A region code has six digits.")
    level = region_level_for(code)
    if level == Region.Level.PROVINCE and parent is not None:
        raise InvalidInput("A province has no parent region.")
    if level != Region.Level.PROVINCE:
        prefix = code[:2] if level == Region.Level.CITY else code[:4]
        if parent is None or not parent.code.startswith(prefix):
            raise InvalidInput(f"Region {code} must sit under the region whose code starts with {prefix}.")
    region = Region.objects.create(code=code, name=name, name_en=name_en, level=level, parent=parent)
    audit.record("kernel.region.created", actor=actor, target=f"region:{code}")
    return region


@transaction.atomic
def create_department(
    *, actor: Any, uscc: str, name: str, kind: str, region: Region, name_en: str = ""
) -> Department:
    """Create a department; raise InvalidInput for an invalid unified social credit code."""
    if not uscc_number.is_valid(uscc):
        raise InvalidInput("The unified social credit code is not valid.")
    if kind not in Department.Kind.values:
        raise InvalidInput(f"Unknown department kind {kind!r}.")
    department = Department.objects.create(
        uscc=uscc_number.compact(uscc), name=name, name_en=name_en, kind=kind, region=region
    )
    audit.record("kernel.department.created", actor=actor, target=f"department:{department.pk}")
    return department


@transaction.atomic
def create_position(*, actor: Any, department: Department, title: str, title_en: str = "") -> Position:
    """Create a post in a department."""
    position = Position.objects.create(department=department, title=title, title_en=title_en)
    audit.record("kernel.position.created", actor=actor, target=f"position:{position.pk}")
    return position


# --- the working-day calendar ------------------------------------------------------


def _require(actor: Any, perm: str) -> None:
    check = getattr(actor, "has_perm", None)
    if not (callable(check) and check(perm)):
        raise PermissionDenied("Only platform administrators manage the working-day calendar.")


@transaction.atomic
def add_calendar_day(
    *,
    actor: Any,
    date: dt.date,
    kind: str,
    name: str,
    name_en: str = "",
    region: Region | None = None,
    source: str = "",
) -> CalendarDay:
    """Add a holiday or an adjusted working day, national or for ``region`` and the regions under it.

    Return the new day. Raise PermissionDenied unless the actor may manage the
    calendar (platform administrators), InvalidInput for an unknown kind or an
    empty name, Conflict if the date already has a day in the same region.
    """
    _require(actor, ADD_CALENDAR_DAY)
    if kind not in CalendarDay.Kind.values:
        raise InvalidInput(f"Unknown calendar day kind {kind!r}.")
    name = name.strip()
    if not name:
        raise InvalidInput("A calendar day needs a name.")
    if CalendarDay.objects.filter(date=date, region=region).exists():
        where = f"region {region.code}" if region is not None else "the national calendar"
        raise Conflict(f"{date.isoformat()} already has a day in {where}.")
    day = CalendarDay.objects.create(
        date=date, kind=kind, name=name, name_en=name_en.strip(), region=region, source=source.strip()
    )
    audit.record(
        "kernel.calendar_day.added", actor=actor, target=f"calendar_day:{day.pk}",
        details={"date": date.isoformat(), "kind": kind, "region": region.code if region else None},
    )
    return day


@transaction.atomic
def remove_calendar_day(day: CalendarDay, *, actor: Any) -> None:
    """Remove a holiday or an adjusted working day: the date follows the weekend rule again.

    Raise PermissionDenied unless the actor may manage the calendar.
    """
    _require(actor, DELETE_CALENDAR_DAY)
    # Log before deleting, while the row still exists.
    audit.record(
        "kernel.calendar_day.removed", actor=actor, target=f"calendar_day:{day.pk}",
        details={"date": day.date.isoformat(), "kind": day.kind,
                 "region": day.region.code if day.region is not None else None},
    )
    CalendarDay.objects.filter(pk=day.pk).delete()


@dataclass(frozen=True)
class CalendarLoad:
    """What loading a holiday arrangements file changed."""

    years: tuple[int, ...]
    created: int = 0
    updated: int = 0
    removed: int = 0
    notices: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed or self.notices)


@transaction.atomic
def load_holiday_arrangements(*, actor: Any, path: Path | str = DEFAULT_ARRANGEMENTS_FILE) -> CalendarLoad:
    """Load the national holiday arrangements of the file at ``path`` (idempotent).

    For every year in the file, the year's notice is recorded (``CalendarYear``)
    and the national days it sets are created or corrected; national days that
    name the same notice but are no longer in the file are removed. Days added
    by an administrator under another source, and regional days, are kept.
    Loading an unchanged file writes nothing (and audits nothing); otherwise
    one audit record counts the changes. Raise PermissionDenied unless the
    actor may manage the calendar, InvalidInput for a malformed file.
    """
    _require(actor, ADD_CALENDAR_DAY)
    _require(actor, DELETE_CALENDAR_DAY)
    try:
        arrangements = read_arrangements(path)
    except ValueError as error:
        raise InvalidInput(str(error)) from error
    created = updated = removed = notices = 0
    for arrangement in arrangements:
        notice = {"notice": arrangement.notice, "document_number": arrangement.document_number,
                  "published_on": arrangement.published_on}
        year = CalendarYear.objects.select_for_update().filter(year=arrangement.year).first()
        if year is None:
            CalendarYear.objects.create(year=arrangement.year, loaded_at=timezone.now(), **notice)
            notices += 1
        elif any(getattr(year, key) != value for key, value in notice.items()):
            CalendarYear.objects.filter(pk=year.pk).update(loaded_at=timezone.now(), **notice)
            notices += 1
        wanted = {day.date: day for day in arrangement.days}
        existing = {
            # No ordering: the default one joins the region, which FOR UPDATE refuses on PostgreSQL.
            row.date: row for row in CalendarDay.objects.select_for_update().filter(
                region__isnull=True, date__in=list(wanted)
            ).order_by()
        }
        for day in arrangement.days:
            fields = {"kind": day.kind, "name": day.name, "name_en": day.name_en,
                      "source": arrangement.document_number}
            row = existing.get(day.date)
            if row is None:
                CalendarDay.objects.create(date=day.date, region=None, **fields)
                created += 1
            elif any(getattr(row, key) != value for key, value in fields.items()):
                CalendarDay.objects.filter(pk=row.pk).update(**fields)
                updated += 1
        removed += CalendarDay.objects.filter(
            region__isnull=True, source=arrangement.document_number
        ).exclude(date__in=list(wanted)).delete()[0]
    result = CalendarLoad(years=tuple(a.year for a in arrangements), created=created, updated=updated,
                          removed=removed, notices=notices)
    if result.changed:
        audit.record(
            "kernel.calendar.loaded", actor=actor, target="calendar:national",
            details={"years": list(result.years), "created": created, "updated": updated,
                     "removed": removed, "notices": notices},
        )
    return result
