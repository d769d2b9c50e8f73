"""A worker that dies mid-task leaves the task "running"; a worker starting on the same host
queues it again (ADR 0018), and leaves alone what live workers and other hosts run."""

from __future__ import annotations

import subprocess
import sys
from unittest import mock

import pytest
from django.core.management import call_command
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tongban.kernel import services
from tongban.kernel.actors import SystemActor
from tongban.kernel.models import AuditRecord
from tongban.kernel.processes import ProcessState, process_state, this_process
from tongban.registries.tasks import run_registry_import

pytestmark = pytest.mark.django_db

SYSTEM = SystemActor("tests")


def dead_process() -> str:
    """Return the identity of a process of this host that has ended."""
    child = subprocess.run(
        [sys.executable, "-c", "from tongban.kernel.processes import this_process; print(this_process())"],
        check=True, capture_output=True, text=True,
    )
    return child.stdout.strip()


def claimed_task(*worker_ids: str) -> DBTaskResult:
    """Return a queued task marked running, claimed in turn by ``worker_ids``."""
    result = DBTaskResult.objects.get(pk=run_registry_import.enqueue(0).id)
    for worker_id in worker_ids:
        result.claim(worker_id)
    return result


def test_this_process_is_alive_and_an_ended_one_is_gone():
    assert process_state(this_process()) is ProcessState.ALIVE
    assert process_state(dead_process()) is ProcessState.GONE


def test_processes_of_another_host_or_unknown_form_cannot_be_judged():
    for identity in ("another-host:1:12345", "tests", "", f"{this_process().rsplit(':', 2)[0]}:1:0"):
        assert process_state(identity) is ProcessState.ELSEWHERE


def test_a_task_of_a_dead_worker_is_queued_again_with_one_audit_record():
    # given
    task = claimed_task(dead_process())
    audit_before = AuditRecord.objects.count()
    # when
    recovered = services.recover_interrupted_tasks(actor=SYSTEM)
    # then
    task.refresh_from_db()
    assert recovered == [str(task.pk)]
    assert (task.status, task.started_at) == (TaskResultStatus.READY, None)
    assert DBTaskResult.objects.ready().filter(pk=task.pk).exists()
    assert AuditRecord.objects.count() == audit_before + 1
    entry = AuditRecord.objects.order_by("seq").last()
    assert (entry.action, entry.details) == ("kernel.tasks.recovered", {"queued_again": [str(task.pk)], "failed": []})


def test_tasks_of_live_workers_and_of_other_hosts_are_left_running():
    # given
    live = claimed_task(this_process())
    elsewhere = claimed_task("another-host:4242:987654")
    audit_before = AuditRecord.objects.count()
    # when
    recovered = services.recover_interrupted_tasks(actor=SYSTEM)
    # then
    assert recovered == []
    for task in (live, elsewhere):
        task.refresh_from_db()
        assert task.status == TaskResultStatus.RUNNING
    assert AuditRecord.objects.count() == audit_before  # nothing changed, nothing recorded


def test_a_task_whose_worker_died_three_times_is_failed_not_started_again():
    # given
    task = claimed_task(dead_process(), dead_process(), dead_process())
    # when
    recovered = services.recover_interrupted_tasks(actor=SYSTEM)
    # then
    task.refresh_from_db()
    assert recovered == []
    assert task.status == TaskResultStatus.FAILED
    assert task.exception_class_path == "tongban.kernel.services.WorkerStopped"
    assert "stopped 3 times" in task.traceback
    assert AuditRecord.objects.order_by("seq").last().details == {"queued_again": [], "failed": [str(task.pk)]}


def test_the_worker_recovers_interrupted_tasks_when_it_starts():
    # given
    task = claimed_task(dead_process())
    # when: the task runs again (its import is missing, so it ends at once). Between
    # tasks the worker closes stale connections, which would close the test's own.
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    # then
    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL
    assert task.return_value == "missing"
    assert len(task.worker_ids) == 2
    assert process_state(task.worker_ids[-1]) is ProcessState.ALIVE  # named after this process
