"""An import whose worker is killed outright (SIGKILL) mid-import is not lost: the next worker
on the host starts it again from the first row and imports every row once (ADR 0018).

The workers are real ``tongban worker`` processes on the test database, as on a server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tongban.kernel.models import AuditRecord
from tongban.registries import services
from tongban.registries.models import Person, RegistryImport

from .builders import valid_id_number
from .import_files import csv_upload

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 4000
WAIT_SECONDS = 120


def _database_url() -> str:
    database = connection.settings_dict
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{database['NAME']}"
    credentials = quote(database["USER"]) + (f":{quote(database['PASSWORD'])}" if database["PASSWORD"] else "")
    return f"postgres://{credentials}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


def _worker(*arguments: str) -> subprocess.Popen[bytes]:
    """Start ``tongban worker`` in a process of its own, on the test database and var folder."""
    environment = {**os.environ, "DATABASE_URL": _database_url(), "TONGBAN_VAR_DIR": str(settings.VAR_DIR)}
    return subprocess.Popen(
        [sys.executable, "-m", "tongban.cli", "worker", "--no-reload", "--no-startup-delay", "--interval", "0.1",
         *arguments],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def _distinct_person_rows(count: int) -> list[list[str]]:
    """Return ``count`` rows of new persons with distinct ID numbers (a few hundred per birth date)."""
    rows = []
    for index in range(count):
        born = date(1950, 1, 1) + timedelta(days=index // 400)
        rows.append([valid_id_number(birth_date=born), f"王{index}", "male", born.isoformat(), "330106"])
    return rows


@pytest.fixture
def uploaded(police):
    """An import of ROWS new persons, queued by a window officer, in the server's import storage."""
    registry_import = services.start_import(
        actor=police, registry_code=services.PERSON_REGISTRY, upload=csv_upload(_distinct_person_rows(ROWS)),
        reason="Migration from the old system", skip_registered=False, language="en",
    )
    yield registry_import
    stored = Path(settings.STORAGES["registry_imports"]["OPTIONS"]["location"]) / registry_import.file.name
    stored.unlink(missing_ok=True)


def test_an_import_killed_mid_run_is_started_again_by_the_next_worker_and_imports_every_row_once(uploaded):
    # given: a worker is in the middle of the import
    first = _worker()
    try:
        _wait_for(lambda: RegistryImport.objects.get(pk=uploaded.pk).status == RegistryImport.Status.RUNNING,
                  "the first worker to start the import")
        # when: it is killed outright, as the out-of-memory killer would
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    # then: the import is left running, and nothing of it was committed
    stalled = RegistryImport.objects.get(pk=uploaded.pk)
    assert stalled.status == RegistryImport.Status.RUNNING
    assert stalled.runner and str(first.pid) in stalled.runner
    assert Person.objects.count() == 0
    assert DBTaskResult.objects.get().status == TaskResultStatus.RUNNING

    # when: a worker starts on the same host and runs what is queued
    second = _worker("--batch")
    output, _ = second.communicate(timeout=WAIT_SECONDS)
    # then: it queued the task again and the import ran to the end, once
    assert second.returncode == 0, output.decode(errors="replace")
    assert b"Queued again 1 task(s)" in output
    finished = RegistryImport.objects.get(pk=uploaded.pk)
    assert (finished.status, finished.imported, finished.rows_processed) == (
        RegistryImport.Status.SUCCEEDED, ROWS, ROWS), (finished.message, finished.errors[:3])
    assert str(second.pid) in finished.runner
    assert Person.objects.count() == ROWS
    task = DBTaskResult.objects.get()
    assert task.status == TaskResultStatus.SUCCESSFUL
    assert len(task.worker_ids) == 2
    actions = list(AuditRecord.objects.order_by("seq").values_list("action", flat=True))
    after_queued = actions[actions.index("registries.import.queued") + 1:]
    assert after_queued[:2] == ["kernel.tasks.recovered", "registries.import.restarted"]
    assert after_queued[-1] == "registries.import.succeeded"
    assert set(after_queued[2:-1]) == {"registries.persons.imported"}  # one per batch of rows
    assert not finished.file  # the stored file is deleted once the import has ended


def test_a_second_run_of_an_import_whose_runner_lives_changes_nothing(uploaded):
    # given: the import is running in a live process (this one)
    RegistryImport.objects.filter(pk=uploaded.pk).update(status=RegistryImport.Status.RUNNING,
                                                         runner=_live_runner())
    audit_before = AuditRecord.objects.count()
    # when: the task runs a second time
    result = services.run_import(uploaded.pk)
    # then: it does not take the import over
    assert result.status == RegistryImport.Status.RUNNING
    assert Person.objects.count() == 0
    assert AuditRecord.objects.count() == audit_before


def _live_runner() -> str:
    from tongban.kernel.processes import this_process

    return this_process()
