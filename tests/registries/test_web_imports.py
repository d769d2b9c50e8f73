"""Imports of uploaded files in the background: queued by an officer of the owning department,
run by the worker all or nothing, progress written batch by batch, safe to run twice."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import translation
from django.utils.translation import gettext
from django_tasks_db.models import DBTaskResult

from tongban.kernel.actors import SystemActor
from tongban.kernel.models import AuditRecord, Department
from tongban.kernel.problems import InvalidInput, NotFound, PermissionDenied
from tongban.registries import services
from tongban.registries.models import Person, RegistryImport

from .builders import HANGZHOU, make_citizen, make_person
from .import_files import (
    PERSON_COLUMNS,
    csv_upload,
    person_rows,
    run_queued_tasks,
    stored_files,
    xlsx_upload,
)

pytestmark = pytest.mark.django_db

Status = RegistryImport.Status


def _start(actor, upload, *, registry_code: str = services.PERSON_REGISTRY, skip_registered: bool = False,
           reason: str = "Migration from the old system") -> RegistryImport:
    return services.start_import(actor=actor, registry_code=registry_code, upload=upload, reason=reason,
                                 skip_registered=skip_registered, language="en")


def _nothing_queued(folder) -> bool:
    return (not RegistryImport.objects.exists() and not DBTaskResult.objects.exists()
            and stored_files(folder) == [])


# -- queueing -------------------------------------------------------------------------------------


def test_an_officer_of_the_owning_department_queues_an_import_with_one_audit_record(police, import_storage):
    # given
    audit_before = AuditRecord.objects.count()
    # when
    registry_import = _start(police, csv_upload(person_rows(3), name="户籍 2026.csv"))
    # then
    assert registry_import.status == Status.QUEUED
    assert (registry_import.filename, registry_import.total_rows, registry_import.uploaded_by) == (
        "户籍 2026.csv", 3, police)
    assert stored_files(import_storage) == [registry_import.file.name]
    assert registry_import.file.name != "户籍 2026.csv"  # stored under a name of ours
    task = DBTaskResult.objects.get()
    assert (task.task_path, task.args_kwargs["args"]) == (
        "tongban.registries.tasks.run_registry_import", [registry_import.pk])
    assert AuditRecord.objects.count() == audit_before + 1
    entry = AuditRecord.objects.order_by("seq").last()
    assert (entry.action, entry.details["import"], entry.details["rows"]) == (
        "registries.import.queued", registry_import.pk, 3)
    assert Person.objects.count() == 0  # nothing is imported before the worker runs


def test_an_officer_of_another_department_cannot_start_an_import(outsider, import_storage):
    with pytest.raises(PermissionDenied):
        _start(outsider, csv_upload(person_rows(1)))
    assert _nothing_queued(import_storage)


def test_an_officer_of_the_entity_registry_cannot_import_persons(market_officer, import_storage):
    with pytest.raises(PermissionDenied):
        _start(market_officer, csv_upload(person_rows(1)))
    assert _nothing_queued(import_storage)


def test_a_citizen_cannot_start_an_import(registries, import_storage):
    citizen = make_citizen(make_person(), "citizen-import")
    with pytest.raises(PermissionDenied):
        _start(citizen, csv_upload(person_rows(1)))
    assert _nothing_queued(import_storage)


def test_the_platform_imports_with_the_command_not_an_upload(registries, import_storage):
    with pytest.raises(PermissionDenied):
        _start(SystemActor("tests"), csv_upload(person_rows(1)))
    assert _nothing_queued(import_storage)


def test_an_unknown_registry_is_refused(police, import_storage):
    with pytest.raises(InvalidInput) as caught:
        _start(police, csv_upload(person_rows(1)), registry_code="no-such-registry")
    assert caught.value.extensions["field"] == "registry"
    assert _nothing_queued(import_storage)


def test_a_registry_without_an_importer_is_refused(org, police, import_storage):
    services.ensure_registry(actor=SystemActor("tests"), code="household-booklets", name="户口簿",
                             name_en="Household booklets",
                             owner=org.department(HANGZHOU, Department.Kind.PUBLIC_SECURITY))
    with pytest.raises(InvalidInput) as caught:
        _start(police, csv_upload(person_rows(1)), registry_code="household-booklets")
    assert "cannot be imported" in caught.value.detail
    assert [registry.code for registry in services.importable_registries(police)] == [services.PERSON_REGISTRY]


def test_a_reason_is_required(police, import_storage):
    with pytest.raises(InvalidInput) as caught:
        _start(police, csv_upload(person_rows(1)), reason="  ")
    assert caught.value.extensions["field"] == "reason"
    assert _nothing_queued(import_storage)


def _gbk_csv():
    return csv_upload(person_rows(1), encoding="gbk")


BAD_FILES = {
    "no file": (lambda: None, "Choose a .csv or .xlsx file"),
    "another kind of file": (lambda: SimpleUploadedFile("persons.txt", b"id_number\n1\n"), ".csv or .xlsx"),
    "an empty file": (lambda: SimpleUploadedFile("persons.csv", b""), "The file is empty."),
    "a file that only says it is a workbook": (
        lambda: SimpleUploadedFile("persons.xlsx", b"id_number,name\n"), "not an .xlsx workbook"),
    "a damaged workbook": (lambda: SimpleUploadedFile("persons.xlsx", b"PK\x03\x04 broken"), "cannot be read"),
    "a CSV that is not UTF-8": (_gbk_csv, "not UTF-8"),
    "unknown columns": (lambda: csv_upload(person_rows(1), columns=[*PERSON_COLUMNS[:-1], "phone"]),
                        "Unknown columns: phone."),
    "a header without rows": (lambda: csv_upload([]), "no rows below its header"),
}


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_a_bad_file_is_refused_and_nothing_is_stored(police, import_storage, case):
    # given
    make_upload, message = BAD_FILES[case]
    audit_before = AuditRecord.objects.count()
    # when
    with pytest.raises(InvalidInput) as caught:
        _start(police, make_upload())
    # then
    assert caught.value.extensions["field"] == "file"
    assert message in caught.value.detail
    assert _nothing_queued(import_storage)
    assert AuditRecord.objects.count() == audit_before


def test_a_workbook_that_expands_past_the_limit_is_refused(police, import_storage, settings):
    # given a limit below what even a small workbook expands to (as a zip bomb would exceed the real one)
    settings.REGISTRY_IMPORT_MAX_EXPANDED_BYTES = 2_000
    audit_before = AuditRecord.objects.count()
    # when
    with pytest.raises(InvalidInput) as caught:
        _start(police, xlsx_upload(person_rows(3)))
    # then
    assert "expands to more than" in caught.value.detail and caught.value.extensions["field"] == "file"
    assert _nothing_queued(import_storage) and AuditRecord.objects.count() == audit_before


def test_a_file_over_the_size_limit_is_refused(police, import_storage, settings):
    settings.REGISTRY_IMPORT_MAX_BYTES = 100
    with pytest.raises(InvalidInput) as caught:
        _start(police, csv_upload(person_rows(3)))
    assert "larger than" in caught.value.detail
    assert _nothing_queued(import_storage)


# -- running --------------------------------------------------------------------------------------


def test_the_worker_imports_every_row_and_progress_reaches_the_total(
        police, import_storage, django_capture_on_commit_callbacks):
    # given
    rows = person_rows(5)
    registry_import = _start(police, csv_upload(rows))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        run_queued_tasks()
    # then
    registry_import.refresh_from_db()
    assert registry_import.status == Status.SUCCEEDED
    assert (registry_import.imported, registry_import.rows_processed, registry_import.total_rows) == (5, 5, 5)
    assert registry_import.started_at <= registry_import.finished_at
    assert sorted(Person.objects.values_list("name", flat=True)) == sorted(row[1] for row in rows)
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert stored_files(import_storage) == []  # the uploaded file is gone once the import ends
    last_two = AuditRecord.objects.order_by("-seq").values_list("action", "actor")[:2]
    assert list(last_two) == [("registries.import.succeeded", police.audit_name),
                              ("registries.persons.imported", police.audit_name)]


def test_an_xlsx_file_is_imported(police, import_storage):
    registry_import = _start(police, xlsx_upload([[row[0], row[1], "male", "1990-03-07", 330106]
                                                 for row in person_rows(2)]))
    run_queued_tasks()
    registry_import.refresh_from_db()
    assert (registry_import.status, registry_import.imported) == (Status.SUCCEEDED, 2)


def test_bad_rows_fail_the_whole_import_with_a_report_of_file_rows(police, import_storage):
    # given rows 3 and 5 of the file (counting the header) are bad
    rows = person_rows(5)
    rows[1][3] = "1991-01-01"
    rows[3][4] = "999999"
    registry_import = _start(police, csv_upload(rows))
    audit_before = AuditRecord.objects.count()
    # when
    run_queued_tasks()
    # then
    registry_import.refresh_from_db()
    assert registry_import.status == Status.FAILED
    assert registry_import.message == "2 of 5 rows are not valid; nothing was imported."
    assert [(error["row"], error["field"]) for error in registry_import.errors] == [
        (3, "birth_date"), (5, "address_region")]
    assert (registry_import.error_count, registry_import.rows_processed, registry_import.imported) == (2, 5, None)
    assert Person.objects.count() == 0
    assert AuditRecord.objects.order_by("-seq").values_list("action", flat=True).first() == "registries.import.failed"
    assert AuditRecord.objects.count() == audit_before + 1


def test_the_report_is_written_in_the_uploader_s_language(police, import_storage):
    rows = person_rows(1)
    rows[0][3] = "1991-01-01"
    registry_import = services.start_import(actor=police, registry_code=services.PERSON_REGISTRY,
                                            upload=csv_upload(rows), reason="迁移", language="zh-hans")
    run_queued_tasks()
    registry_import.refresh_from_db()
    with translation.override("zh-hans"):
        expected = gettext("%(bad)d of %(total)d rows are not valid; nothing was imported.") % {"bad": 1, "total": 1}
    assert (registry_import.language, registry_import.message) == ("zh-hans", expected)


def test_a_second_upload_of_the_same_file_with_skip_registered_adds_nothing(police, import_storage):
    # given the file was imported once
    rows = person_rows(3)
    _start(police, csv_upload(rows))
    run_queued_tasks()
    # when the same file is uploaded again, leaving out rows already registered
    again = _start(police, csv_upload(rows), skip_registered=True)
    run_queued_tasks()
    # then nothing is added
    again.refresh_from_db()
    assert (again.status, again.imported, again.rows_processed) == (Status.SUCCEEDED, 0, 3)
    assert Person.objects.count() == 3
    # and without leaving them out, the rows are reported as already registered
    strict = _start(police, csv_upload(rows))
    run_queued_tasks()
    strict.refresh_from_db()
    assert strict.status == Status.FAILED
    assert {error["message"] for error in strict.errors} == {"A person with this ID number is already registered."}
    assert Person.objects.count() == 3


def test_a_task_that_runs_twice_imports_once(police, import_storage):
    # given
    registry_import = _start(police, csv_upload(person_rows(2)))
    run_queued_tasks()
    audit_after_first = AuditRecord.objects.count()
    # when the task runs again, as a task may
    again = services.run_import(registry_import.pk)
    # then nothing changes
    assert (again.status, again.imported) == (Status.SUCCEEDED, 2)
    assert Person.objects.count() == 2
    assert AuditRecord.objects.count() == audit_after_first


def test_the_import_runs_with_the_uploader_s_rights_when_it_runs(org, police, import_storage):
    # given the registry changes hands between the upload and the run
    registry_import = _start(police, csv_upload(person_rows(2)))
    services.ensure_registry(actor=SystemActor("tests"), code=services.PERSON_REGISTRY, name="人口基础库",
                             name_en="Population registry",
                             owner=org.department(HANGZHOU, Department.Kind.MARKET_REGULATION))
    # when
    run_queued_tasks()
    # then
    registry_import.refresh_from_db()
    assert registry_import.status == Status.FAILED
    assert registry_import.message == "Only the department that owns this registry may change its records."
    assert Person.objects.count() == 0


def test_a_crash_fails_the_import_and_the_task_records_the_error(police, import_storage, monkeypatch):
    # given
    registry_import = _start(police, csv_upload(person_rows(2)))

    def crash(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "import_rows", crash)
    # when
    run_queued_tasks()
    # then
    registry_import.refresh_from_db()
    assert registry_import.status == Status.FAILED
    assert "stopped before it finished" in registry_import.message
    task = DBTaskResult.objects.get()
    assert task.status == "FAILED" and "disk on fire" in task.traceback


def test_progress_is_written_batch_by_batch(police, import_storage, monkeypatch):
    # given batches of two rows
    monkeypatch.setattr(services, "WEB_IMPORT_BATCH_SIZE", 2)
    registry_import = _start(police, csv_upload(person_rows(5)))
    counts: list[int] = []
    original = services._ImportProgress.__call__

    def record(progress, rows):
        original(progress, rows)
        counts.append(progress.done)

    monkeypatch.setattr(services._ImportProgress, "__call__", record)
    # when
    run_queued_tasks()
    # then
    assert counts == [2, 4, 5]
    registry_import.refresh_from_db()
    assert registry_import.rows_processed == registry_import.total_rows == 5


@pytest.mark.django_db(transaction=True)
def test_another_connection_sees_the_progress_while_the_import_runs_where_the_database_allows(
        police, import_storage, monkeypatch):
    # given batches of two rows, and a reader on a connection of its own (as the page is)
    monkeypatch.setattr(services, "WEB_IMPORT_BATCH_SIZE", 2)
    registry_import = _start(police, csv_upload(person_rows(5)))
    reader = connections.create_connection(DEFAULT_DB_ALIAS)
    seen: list[int] = []
    import_persons = services.import_persons

    def import_and_look(rows, **kwargs):
        with reader.cursor() as cursor:
            cursor.execute("SELECT rows_processed FROM registries_registryimport WHERE id = %s", [registry_import.pk])
            seen.append(cursor.fetchone()[0])
        return import_persons(rows, **kwargs)

    monkeypatch.setattr(services, "import_persons", import_and_look)
    # when
    try:
        run_queued_tasks()
    finally:
        reader.close()
    # then PostgreSQL shows each batch as it ends; SQLite (one writer at a time) when the import ends
    if connections[DEFAULT_DB_ALIAS].features.has_select_for_update_skip_locked:
        assert seen == [0, 2, 4]
    else:
        assert seen == [0, 0, 0]
    registry_import.refresh_from_db()
    assert (registry_import.status, registry_import.rows_processed) == (Status.SUCCEEDED, 5)


# -- who sees imports -----------------------------------------------------------------------------


def test_officers_of_the_owning_department_see_its_imports_and_outsiders_do_not(
        police, police_data_officer, outsider, market_officer, import_storage):
    registry_import = _start(police, csv_upload(person_rows(1)))

    assert list(services.imports_visible_to(police_data_officer)) == [registry_import]
    assert services.visible_import(police_data_officer, registry_import.pk) == registry_import
    for other in (outsider, market_officer):
        assert not services.imports_visible_to(other).exists()
        with pytest.raises(NotFound):
            services.visible_import(other, registry_import.pk)


def test_the_admin_shows_imports_read_only(db):
    from django.contrib import admin
    from django.test import RequestFactory

    from tongban.identity.models import Account

    request = RequestFactory().get("/")
    request.user = Account(is_superuser=True, is_staff=True, is_active=True)
    model_admin = admin.site._registry[RegistryImport]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert "file" not in model_admin.get_fields(request)
