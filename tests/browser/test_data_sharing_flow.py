"""The data-sharing loop in headless chromium, against a live server.

A tax data officer requests person fields in the workbench, the owner (public
security) grants them with names masked, the tax system calls the gateway with
its client-credentials token, and the citizen the record is about finds that
call on "who used my data".
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pyotp
import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import new_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Browser-Test-Pass-31"
PURPOSE = "纳税人登记核验"
CASE_ID = "TAX-2026-000123"


@pytest.fixture
def sharing(transactional_db):
    from tests.identity.oidc_helpers import machine_client
    from tongban.demo.catalog import seed_catalog
    from tongban.demo.org import build_org_tree
    from tongban.demo.people import demo_people, seed_registries
    from tongban.identity import services as identity
    from tongban.identity.models import Role
    from tongban.kernel.actors import SystemActor
    from tongban.kernel.models import Department

    org = build_org_tree()
    seed_registries(org, persons=30, entities=5)
    seed_catalog(org)
    person = demo_people()[7]
    identity.register_citizen(username="browser-citizen", password=PASSWORD, name=person["name"],
                              id_number=person["id_number"])
    secrets = {}
    for username, kind in (("tax-data", Department.Kind.TAX), ("police-data", Department.Kind.PUBLIC_SECURITY)):
        secrets[username] = pyotp.random_base32()
        identity.create_officer(
            actor=SystemActor("tests"), username=username, password=PASSWORD,
            department=org.department("330100", kind), roles=[Role.DATA_OFFICER], totp_secret=secrets[username],
        )
    tax_system = machine_client(org.department("330100", Department.Kind.TAX), name="税务办税系统")
    return {"person": person, "secrets": secrets, "tax_system": tax_system}


def sign_in_officer(page: Page, base_url: str, username: str, secret: str) -> None:
    page.goto(f"{base_url}/account/officer/sign-in/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="继续").click()
    page.get_by_label("身份验证器应用中的六位验证码").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base_url}/workbench/")


def test_a_granted_gateway_call_appears_on_the_citizens_data_use_page(page, browser, live_server, sharing):
    base = live_server.url
    person = sharing["person"]

    # the tax data officer requests the name and birth date of persons for the tax system
    sign_in_officer(page, base, "tax-data", sharing["secrets"]["tax-data"])
    page.goto(f"{base}/workbench/catalog/hz-persons/")
    page.get_by_role("checkbox", name=re.compile(r"^name ·")).check()
    page.get_by_role("checkbox", name=re.compile(r"^birth_date ·")).check()
    page.get_by_label("用途").fill(PURPOSE)
    page.get_by_label("法律依据").fill("《税收征收管理法》第十五条")
    page.get_by_label("使用期限至").fill((date.today() + timedelta(days=90)).isoformat())
    page.get_by_label("调用系统").select_option(label="税务办税系统 (杭州市税务局)")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(f"{base}/workbench/requests/")
    expect(page.get_by_role("status")).to_contain_text("申请已提交至资源所属部门")

    # the owner's data officer grants it, names masked
    owner_context = new_context(browser, base)
    owner = owner_context.new_page()
    sign_in_officer(owner, base, "police-data", sharing["secrets"]["police-data"])
    owner.goto(f"{base}/workbench/requests/")
    owner.get_by_label("脱敏 name").select_option(label="按姓名脱敏")
    owner.get_by_role("button", name="通过").click()
    expect(owner.get_by_text("申请已通过，授权已生效。")).to_be_visible()
    owner_context.close()

    # the tax system calls the gateway with its client-credentials token
    system = sharing["tax_system"]
    token = requests.post(f"{base}/o/token/", data={"grant_type": "client_credentials", "scope": "api"},
                          auth=(system.client_id, system.secret), timeout=10).json()["access_token"]
    answer = requests.get(f"{base}/exchange/v1/hz-persons/{person['id_number']}",
                          params={"fields": "name,birth_date", "purpose": PURPOSE, "case_id": CASE_ID},
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["birth_date"] == person["birth_date"].isoformat()

    # the citizen sees the call: the department, the fields, the purpose and the case
    citizen_context = new_context(browser, base)
    citizen = citizen_context.new_page()
    citizen.goto(f"{base}/account/sign-in/")
    citizen.get_by_label("用户名").fill("browser-citizen")
    citizen.get_by_label("密码").fill(PASSWORD)
    citizen.get_by_role("button", name="登录").click()
    citizen.goto(f"{base}/me/data-use/")
    row = citizen.get_by_role("row").filter(has_text=CASE_ID)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("杭州市税务局")
    expect(row).to_contain_text("name, birth_date")
    expect(row).to_contain_text(PURPOSE)
    citizen_context.close()
