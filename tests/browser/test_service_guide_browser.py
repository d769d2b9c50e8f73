"""Finding a service in headless chromium: search in Chinese, open the guide, see the materials and where each
comes from, switch to English."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import csp_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def service_catalog(transactional_db):
    from tongban.demo.catalog import seed_catalog
    from tongban.demo.licences import seed_licence_types
    from tongban.demo.org import build_org_tree
    from tongban.demo.services import seed_service_catalog
    from tongban.kernel.actors import SystemActor
    from tongban.kernel.models import Department
    from tongban.registries import services as registries

    platform = SystemActor("tests")
    org = build_org_tree()
    for code, kind in ((registries.PERSON_REGISTRY, Department.Kind.PUBLIC_SECURITY),
                       (registries.ENTITY_REGISTRY, Department.Kind.MARKET_REGULATION),
                       (registries.BIRTH_DEATH_REGISTRY, Department.Kind.HEALTH),
                       (registries.MARRIAGE_REGISTRY, Department.Kind.CIVIL_AFFAIRS),
                       (registries.PROPERTY_REGISTRY, Department.Kind.NATURAL_RESOURCES)):
        registries.ensure_registry(actor=platform, code=code, name=code, name_en=code,
                                   owner=org.department("330100", kind))
    seed_catalog(org)
    seed_licence_types()
    seed_service_catalog()


def test_a_visitor_finds_business_registration_and_reads_its_guide_in_both_languages(
    page, live_server, service_catalog, console_errors,
):
    # a visitor with no account opens "find a service" from the header and searches, by keyboard
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="办事服务").click()
    page.get_by_label("您要办什么事？").fill("开办企业")
    page.get_by_label("您要办什么事？").press("Enter")

    # the first result is business registration; they open its guide
    first = page.locator(".service-list li h3 a").first
    expect(first).to_have_text("企业设立登记")
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("企业设立登记")

    # the guide lists the materials and where each comes from, the time limits and the apply link
    materials = page.locator("table.materials")
    expect(materials).to_contain_text("公司章程")
    expect(materials).to_contain_text("由申请人提供（PDF，最大 10 MB）")
    expect(materials).to_contain_text("从您的电子证照获取：不动产权证书")
    expect(materials).to_contain_text("从基础库获取：杭州市人口基础信息（杭州市公安局）")
    expect(page.locator("dl.facts")).to_contain_text("15 个工作日")
    expect(page.locator("dl.facts")).to_contain_text("全程网办")
    apply = page.get_by_role("link", name="在线申请").first
    assert apply.get_attribute("href") == "/services/330100-C-XK-0001/apply/"

    # they switch the page to English
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Business establishment registration")
    expect(page.locator("table.materials")).to_contain_text("Obtained from your licence: Real-estate title certificate")
    expect(page.locator("table.materials")).to_contain_text("Provided by the applicant (PDF, up to 10 MB)")
    expect(page.locator("dl.facts")).to_contain_text("15 working days")
    assert not csp_violations(console_errors)
