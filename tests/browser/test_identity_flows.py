"""Browser tests of the identity pages in headless chromium against a live server."""

from __future__ import annotations

import pyotp
import pytest

from tongban.kernel.masking import mask_id_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Browser-Test-Pass-31"


@pytest.fixture
def population(transactional_db):
    from tongban.demo.org import build_org_tree
    from tongban.demo.people import demo_people, seed_registries

    org = build_org_tree()
    seed_registries(org, persons=30, entities=5)
    return org, demo_people()[:30]


def test_citizen_registers_with_a_demo_identity_and_sees_the_masked_id(page, live_server, population):
    _, people = population
    person = people[12]
    page.goto(f"{live_server.url}/account/sign-up/")
    # the form is operated by its labels, as a screen-reader user would
    page.get_by_label("用户名").fill("browser-citizen")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_label("再次输入密码").fill(PASSWORD)
    page.get_by_label("身份证上的姓名").fill(person["name"])
    page.get_by_label("身份证号码").fill(person["id_number"])
    page.get_by_role("button", name="注册").click()
    page.wait_for_url(f"{live_server.url}/me/")
    masked = page.get_by_test_id("masked-id").inner_text()
    assert masked == mask_id_number(person["id_number"])
    assert person["id_number"] not in page.content()


def test_a_wrong_id_number_is_refused_with_a_readable_message(page, live_server, population):
    _, people = population
    page.goto(f"{live_server.url}/account/sign-up/")
    page.get_by_label("用户名").fill("browser-citizen")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_label("再次输入密码").fill(PASSWORD)
    page.get_by_label("身份证上的姓名").fill(people[12]["name"])
    page.get_by_label("身份证号码").fill(people[13]["id_number"])
    page.get_by_role("button", name="注册").click()
    alert = page.get_by_role("alert")
    assert "姓名与身份证号码与人口库不一致" in alert.inner_text()
    assert page.url.endswith("/account/sign-up/")


def test_officer_signs_in_with_totp(page, live_server, population):
    from tongban.identity import services as identity
    from tongban.identity.models import Role
    from tongban.kernel.actors import SystemActor
    from tongban.kernel.models import Department

    org, _ = population
    secret = pyotp.random_base32()
    identity.create_officer(
        actor=SystemActor("tests"), username="browser-officer", password=PASSWORD,
        department=org.department("330100", Department.Kind.CIVIL_AFFAIRS), roles=[Role.REVIEWER],
        totp_secret=secret,
    )
    page.goto(f"{live_server.url}/account/officer/sign-in/")
    page.get_by_label("用户名").fill("browser-officer")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="继续").click()
    page.get_by_label("身份验证器应用中的六位验证码").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/workbench/")
    assert "杭州市民政局" in page.content()
