"""Importing a registry file from the workbench, in headless chromium against a live server.

An officer of the department that owns the population registry uploads a small
CSV; the import's page waits for the background worker, and once the worker
has run, htmx polling brings the result into the page without a reload.
"""

from __future__ import annotations

import re

import pyotp
import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from tests.browser.conftest import csp_violations
from tests.registries.import_files import (
    import_storage_fixture,  # noqa: F401 - provides import_storage
    person_rows,
    run_queued_tasks,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Browser-Test-Pass-31"


@pytest.fixture
def police_officer(transactional_db, import_storage):
    """A window officer of Hangzhou public security, which owns the population registry; their TOTP secret."""
    from tongban.demo.org import build_org_tree
    from tongban.identity import services as identity
    from tongban.identity.models import Role
    from tongban.kernel.actors import SystemActor
    from tongban.kernel.models import Department
    from tongban.registries import services as registries

    org = build_org_tree()
    police = org.department("330100", Department.Kind.PUBLIC_SECURITY)
    registries.ensure_registry(actor=SystemActor("tests"), code=registries.PERSON_REGISTRY, name="人口基础库",
                               name_en="Population registry", owner=police)
    secret = pyotp.random_base32()
    identity.create_officer(actor=SystemActor("tests"), username="import-officer", password=PASSWORD,
                            department=police, roles=[Role.WINDOW_OFFICER], totp_secret=secret)
    return secret


def sign_in_in_english(page: Page, base_url: str, username: str, secret: str) -> None:
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base_url}])
    page.goto(f"{base_url}/account/officer/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Six-digit code from your authenticator app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/workbench/")


def test_an_officer_uploads_a_csv_and_watches_the_import_finish(page, live_server, police_officer, tmp_path,
                                                                console_errors):
    base = live_server.url
    csv_file = tmp_path / "新生儿户籍.csv"
    csv_file.write_text("id_number,name,sex,birth_date,address_region\n"
                        + "".join(",".join(row) + "\n" for row in person_rows(3)), encoding="utf-8")

    # the officer uploads the file from the workbench
    sign_in_in_english(page, base, "import-officer", police_officer)
    page.get_by_role("link", name="Import records").click()
    page.get_by_label("Registry").select_option(label="Population registry (杭州市公安局)")
    page.get_by_label("File").set_input_files(str(csv_file))
    page.get_by_label("Reason").fill("Births registered on paper in 2026")
    page.get_by_role("button", name="Upload and import").click()

    # the import's page says it waits for the worker, with an indeterminate progress bar
    page.wait_for_url(re.compile(r"/workbench/imports/\d+/$"))
    status = page.get_by_role("status")
    expect(status).to_contain_text("Waiting for the background worker")
    expect(page.get_by_label("Rows checked")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("新生儿户籍.csv")

    # the worker runs; the page learns the result by polling, without a reload
    run_queued_tasks()
    expect(status).to_have_text("Import finished: 3 new records imported.", timeout=10_000)
    bar = page.get_by_label("Rows checked")
    expect(bar).to_have_attribute("value", "3")
    expect(bar).to_have_attribute("max", "3")
    expect(page.locator("#import-progress-count")).to_have_text("3 of 3 rows checked")
    expect(page.get_by_text("3 new records were imported.")).to_be_visible()
    assert page.locator("[hx-get]").count() == 0  # polling has stopped

    # and the list of recent imports shows it
    page.get_by_role("link", name="All imports").click()
    row = page.get_by_role("row").filter(has_text="新生儿户籍.csv")
    expect(row).to_contain_text("Succeeded")
    assert not csp_violations(console_errors), console_errors
