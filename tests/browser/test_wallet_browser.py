"""The wallet in headless chromium: a citizen shows a licence with one chosen field, and whoever opens the link
sees the verdict and that field, nothing more; a citizen downloads the signed PDF, whose QR code is one of
their links."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import csp_violations, new_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Browser-Test-Pass-31"


@pytest.fixture
def married_citizen(transactional_db):
    from tongban.credentials import services as credentials
    from tongban.demo.licences import seed_licence_types
    from tongban.demo.org import build_org_tree
    from tongban.demo.people import demo_people, seed_registries
    from tongban.identity import services as identity
    from tongban.kernel.actors import SystemActor
    from tongban.kernel.models import Department
    from tongban.registries import services as registries

    platform = SystemActor("tests")
    org = build_org_tree()
    seed_registries(org, persons=30, entities=5)
    credentials.ensure_platform_ca(actor=platform)
    seed_licence_types()
    civil = org.department("330100", Department.Kind.CIVIL_AFFAIRS)
    credentials.create_seal(civil, actor=platform)
    person_row, spouse_row = demo_people()[7], demo_people()[8]
    identity.register_citizen(username="browser-citizen", password=PASSWORD, name=person_row["name"],
                              id_number=person_row["id_number"])
    person = registries.find_person_by_id_number(person_row["id_number"])
    credentials.issue_licence(
        actor=platform, licence_type="marriage-certificate", holder=person, issuer=civil,
        fields={"certificate_number": "J330106-2026-000777", "name": person_row["name"],
                "id_number": person_row["id_number"], "spouse_name": spouse_row["name"],
                "spouse_id_number": spouse_row["id_number"], "registered_on": "2026-05-20"},
    )
    return {"person": person_row, "spouse": spouse_row, "issuer": civil.name}


def open_certificate(page, base: str) -> None:
    """Sign in as the married citizen and open their marriage certificate from the wallet, as they would."""
    page.goto(f"{base}/account/sign-in/")
    page.get_by_label("用户名").fill("browser-citizen")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="我的证照").click()
    page.get_by_role("link", name="结婚证").click()


def test_a_citizen_shows_one_chosen_field_and_the_link_shows_the_verdict_and_only_that(
    page, browser, live_server, married_citizen, console_errors,
):
    base = live_server.url
    # the wallet lists the marriage certificate; its page shows everything to the holder
    open_certificate(page, base)
    expect(page.get_by_role("heading", level=1)).to_have_text("结婚证")
    expect(page.locator("dl.fields")).to_contain_text(married_citizen["spouse"]["name"])

    # the holder ticks the registration date (by keyboard) and makes a link for an hour
    page.get_by_label("登记日期").focus()
    page.keyboard.press("Space")
    expect(page.get_by_label("登记日期")).to_be_checked()
    page.get_by_label("链接有效时长").select_option(label="1 小时")
    page.get_by_role("button", name="生成链接").click()
    expect(page.get_by_role("status").or_(page.locator(".messages"))).to_contain_text("链接已生成")
    link = page.locator("a.share-link").first.get_attribute("href")
    assert link and "/v/" in link

    # someone with no account opens the link (as a QR code would) and sees the verdict and the chosen field
    visitor_context = new_context(browser, base)
    visitor = visitor_context.new_page()
    visitor.goto(link)
    expect(visitor.get_by_role("status")).to_contain_text("有效：由颁证部门签发")
    shown = visitor.locator("dl.fields")
    expect(shown).to_contain_text(married_citizen["issuer"])
    expect(shown).to_contain_text("登记日期")
    expect(shown).to_contain_text("2026-05-20")
    expect(shown).not_to_contain_text(married_citizen["spouse"]["name"])
    expect(shown).not_to_contain_text(married_citizen["person"]["id_number"])
    visitor_context.close()

    # the holder withdraws the link; it shows nothing any more
    page.get_by_role("button", name="撤回").click()
    expect(page.locator("a.share-link")).to_have_count(0)
    gone_context = new_context(browser, base)
    gone = gone_context.new_page()
    gone.goto(link)
    expect(gone.get_by_role("status")).to_contain_text("此链接已不再出示证照")
    gone_context.close()
    assert not csp_violations(console_errors)


def test_a_citizen_downloads_the_signed_pdf_and_its_qr_code_is_listed_with_their_links(
    page, browser, live_server, married_citizen, console_errors,
):
    base = live_server.url
    open_certificate(page, base)

    # the holder downloads the PDF: a file, not a page
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载 PDF").click()
    download = download_info.value
    assert download.suggested_filename.startswith("marriage-certificate-")
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as document:
        assert document.read(5) == b"%PDF-"

    # back on the licence page, the PDF's QR code is one of the holder's links
    page.reload()
    row = page.locator("tr", has_text="PDF 上的二维码")
    expect(row).to_contain_text("PDF 上印出的全部内容")
    link = row.locator("a.share-link").get_attribute("href")
    assert link and "/v/" in link

    # whoever scans it sees the verdict and everything the PDF prints
    visitor_context = new_context(browser, base)
    visitor = visitor_context.new_page()
    visitor.goto(link)
    expect(visitor.get_by_role("status")).to_contain_text("有效：由颁证部门签发")
    expect(visitor.locator("dl.fields")).to_contain_text(married_citizen["spouse"]["name"])
    visitor_context.close()
    assert not csp_violations(console_errors)
