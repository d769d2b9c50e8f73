"""The inbox in headless chromium: a citizen sees the unread count, opens a notice, and the count goes down."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import csp_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Browser-Test-Pass-31"
CASE = {"case_number": "330100-2026-000123", "service_name": "个体工商户设立登记", "due_date": "2026-12-18"}


@pytest.fixture
def citizen_with_notices(transactional_db):
    from tongban.demo.org import build_org_tree
    from tongban.demo.people import demo_people, seed_registries
    from tongban.identity import services as identity
    from tongban.kernel.actors import SystemActor
    from tongban.notices import services as notices

    org = build_org_tree()
    seed_registries(org, persons=10, entities=1)
    row = demo_people()[3]
    account = identity.register_citizen(username="inbox-citizen", password=PASSWORD, name=row["name"],
                                        id_number=row["id_number"])
    platform = SystemActor("tests")
    notices.send_notice(account, "case.accepted", CASE, actor=platform, channels=("inbox",))
    notices.send_notice(account, "case.approved", CASE, actor=platform, channels=("inbox",))
    return account


def test_a_citizen_opens_a_notice_from_the_header_and_it_is_marked_read(page, live_server, citizen_with_notices,
                                                                        console_errors):
    page.goto(f"{live_server.url}/account/sign-in/")
    page.get_by_label("用户名").fill("inbox-citizen")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    inbox_link = page.get_by_role("link", name="消息中心 2 条未读通知")
    expect(inbox_link).to_be_visible()
    inbox_link.click()
    page.get_by_role("link", name="您的申请已受理（330100-2026-000123）").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("您的申请已受理（330100-2026-000123）")
    expect(page.get_by_role("link", name="消息中心 1 条未读通知")).to_be_visible()
    page.get_by_role("link", name="返回消息中心").click()
    page.get_by_role("button", name="全部标为已读").click()
    expect(page.get_by_role("link", name="消息中心", exact=True)).to_be_visible()
    assert csp_violations(console_errors) == []
