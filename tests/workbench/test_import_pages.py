"""Workbench pages to import a registry file: upload, a progress view polled by htmx, the result."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from tests.registries.import_files import (
    csv_upload,
    person_rows,
    run_queued_tasks,
    stored_files,
)
from tongban.registries import services as registries
from tongban.registries.models import Person, RegistryImport

from .test_catalog_pages import officer_client as _officer_client

pytestmark = pytest.mark.django_db

REASON = "Migration from the old system"


def officer_client(account) -> Client:
    """A signed-in officer's client that chose English (pages and reports are then in English)."""
    client = _officer_client(account)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _upload(client: Client, upload, *, registry: str = registries.PERSON_REGISTRY, **extra):
    data = {"registry": registry, "reason": REASON, **extra}
    if upload is not None:
        data["file"] = upload
    return client.post(reverse("workbench:imports"), data)


def _nothing_created(folder) -> bool:
    return not RegistryImport.objects.exists() and not DBTaskResult.objects.exists() and stored_files(folder) == []


def test_an_officer_uploads_a_file_and_the_page_shows_the_imported_count(police_data, import_storage):
    # given
    client = officer_client(police_data)
    form = client.get(reverse("workbench:imports")).content.decode()
    assert 'value="persons"' in form and 'enctype="multipart/form-data"' in form
    # when the officer uploads a file
    response = _upload(client, csv_upload(person_rows(4)))
    # then the import's page shows it waiting, and asks for its progress every two seconds
    registry_import = RegistryImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("workbench:import_detail", args=[registry_import.pk])
    waiting = client.get(response["Location"])
    page = waiting.content.decode()
    assert "Waiting for the background worker" in page
    assert 'role="status"' in page and 'aria-live="polite"' in page
    assert f'hx-get="{response["Location"]}"' in page and 'hx-trigger="every 2s"' in page
    assert '<label for="import-progress-bar">' in page
    # when the worker has run, the next poll gets the result and no further polling
    run_queued_tasks()
    poll = client.get(response["Location"], headers={"HX-Request": "true"})
    fragment = poll.content.decode()
    assert poll.status_code == 200 and "HX-Request" in poll["Vary"]
    assert "<html" not in fragment and "hx-get" not in fragment
    assert 'max="4" value="4"' in fragment and "4 of 4 rows checked" in fragment
    assert "4 new records were imported." in fragment
    assert 'hx-swap-oob="innerHTML"' in fragment and "Import finished: 4 new records imported." in fragment
    assert Person.objects.count() == 4
    # and the list shows the import
    listing = client.get(reverse("workbench:imports")).content.decode()
    assert "persons.csv" in listing and "Succeeded" in listing


def test_bad_rows_are_listed_with_their_row_column_and_message(police_data, import_storage):
    # given
    rows = person_rows(3)
    rows[2][3] = "1991-01-01"
    client = officer_client(police_data)
    location = _upload(client, csv_upload(rows), skip_registered="on")["Location"]
    # when
    run_queued_tasks()
    page = client.get(location).content.decode()
    # then
    assert "The import failed; nothing was imported." in page
    assert "1 of 3 rows are not valid; nothing was imported." in page
    assert "<td>4</td><td><code>birth_date</code></td><td>The birth date does not match the ID number.</td>" in page
    assert "hx-get" not in page
    assert Person.objects.count() == 0


def test_an_upload_without_a_file_says_so_and_changes_nothing(police_data, import_storage):
    response = _upload(officer_client(police_data), None)

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert _nothing_created(import_storage)


@pytest.mark.parametrize(("upload", "message"), [
    (SimpleUploadedFile("persons.txt", b"id_number\n"), "Give a .csv or .xlsx file."),
    (SimpleUploadedFile("persons.xlsx", b"not a workbook"), "This is not an .xlsx workbook."),
])
def test_a_wrong_kind_of_file_is_refused_on_the_form(police_data, import_storage, upload, message):
    response = _upload(officer_client(police_data), upload)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert _nothing_created(import_storage)


def test_a_file_over_the_limit_is_refused(police_data, import_storage, settings):
    settings.REGISTRY_IMPORT_MAX_BYTES = 50

    response = _upload(officer_client(police_data), csv_upload(person_rows(3)))

    assert response.status_code == 422
    assert "The file is larger than 50" in response.content.decode()
    assert _nothing_created(import_storage)


def test_an_unknown_registry_is_refused(police_data, import_storage):
    response = _upload(officer_client(police_data), csv_upload(person_rows(1)), registry="no-such-registry")

    assert response.status_code == 422
    assert "Choose a registry." in response.content.decode()
    assert _nothing_created(import_storage)


def test_an_officer_of_another_department_may_not_import_or_see_imports(
        police_data, ningbo_data, tax_data, import_storage):
    # given an import of the population registry
    location = _upload(officer_client(police_data), csv_upload(person_rows(1)))["Location"]
    for outsider in (ningbo_data, tax_data):
        client = officer_client(outsider)
        # when they open the page, they are offered no registry and see no import
        page = client.get(reverse("workbench:imports")).content.decode()
        assert "Your departments own no registry that files can be imported into." in page
        assert "persons.csv" not in page
        # and a forged upload is refused, a forged address is not found
        response = _upload(client, csv_upload(person_rows(1)))
        assert response.status_code == 403
        assert "Only the department that owns this registry may change its records." in response.content.decode()
        assert client.get(location).status_code == 404
    assert RegistryImport.objects.count() == 1


def test_a_citizen_or_a_visitor_is_sent_to_the_officer_sign_in(citizen, police_data, import_storage):
    location = _upload(officer_client(police_data), csv_upload(person_rows(1)))["Location"]
    citizen_client = Client()
    citizen_client.force_login(citizen)
    citizen_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for client in (citizen_client, Client()):
        for response in (client.get(reverse("workbench:imports")), client.get(location),
                         _upload(client, csv_upload(person_rows(1)))):
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("identity:officer_sign_in"))
    assert RegistryImport.objects.count() == 1


def test_the_list_of_imports_costs_the_same_queries_however_long(police_data, import_storage):
    client = officer_client(police_data)
    _upload(client, csv_upload(person_rows(1)))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("workbench:imports"))
    for _ in range(3):
        _upload(client, csv_upload(person_rows(1)))
    with CaptureQueriesContext(connection) as four:
        client.get(reverse("workbench:imports"))
    assert len(four.captured_queries) == len(one.captured_queries)
