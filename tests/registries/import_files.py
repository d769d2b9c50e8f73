"""Files to upload for registry imports, private storage for them, and the background worker, for tests."""

from __future__ import annotations

import csv
from io import BytesIO, StringIO
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks_db.management.commands.db_worker import Worker
from openpyxl import Workbook

from .builders import valid_id_number

PERSON_COLUMNS = ["id_number", "name", "sex", "birth_date", "address_region"]


def person_rows(count: int) -> list[list[str]]:
    """Return ``count`` valid rows of new persons (columns as PERSON_COLUMNS)."""
    return [[valid_id_number(), f"王{i}", "male", "1990-03-07", "330106"] for i in range(count)]


def csv_upload(rows: list[list[str]], *, columns: list[str] = PERSON_COLUMNS, name: str = "persons.csv",
               encoding: str = "utf-8") -> SimpleUploadedFile:
    """Return an uploaded CSV file with a header row and ``rows``."""
    text = StringIO()
    writer = csv.writer(text)
    writer.writerow(columns)
    writer.writerows(rows)
    return SimpleUploadedFile(name, text.getvalue().encode(encoding), content_type="text/csv")


def xlsx_upload(rows: list[list[object]], *, columns: list[str] = PERSON_COLUMNS,
                name: str = "persons.xlsx") -> SimpleUploadedFile:
    """Return an uploaded XLSX workbook with a header row and ``rows``."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(columns)
    for row in rows:
        sheet.append(row)
    content = BytesIO()
    workbook.save(content)
    return SimpleUploadedFile(name, content.getvalue(),
                              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@pytest.fixture(name="import_storage")
def import_storage_fixture(settings, tmp_path):
    """Keep uploaded registry files under the test's own folder; return that folder.

    Import ``import_storage_fixture`` into a conftest or test module to use ``import_storage``.
    """
    folder = tmp_path / "imports"
    settings.STORAGES = {
        **settings.STORAGES,
        "registry_imports": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                             "OPTIONS": {"location": str(folder)}},
    }
    return folder


def stored_files(folder) -> list[str]:
    return sorted(path.name for path in folder.glob("*")) if folder.exists() else []


def run_queued_tasks() -> None:
    """Run every queued background task with the real worker loop (``tongban worker --batch``), then return."""
    worker = Worker(queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
                    max_tasks=None, worker_id="tests", excluded_queue_names=[])
    # Between tasks the worker closes stale connections, as after a request; in a
    # test that runs inside a transaction that would close the test's connection.
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        worker.run()
