"""Writes to the org tree. Every write is audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from stdnum.cn import uscc as uscc_number

from tongban.kernel import audit
from tongban.kernel.models import Department, Position, Region
from tongban.kernel.problems import InvalidInput
from tongban.kernel.processes import ProcessState, process_state

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
