"""The public catalog: the API and the portal's search, service guide and life-event pages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from tests.services.conftest import BUSINESS_REGISTRATION, new_definition
from tongban.services import selectors
from tongban.services import services as services

pytestmark = pytest.mark.django_db

API = "/api/v1/services"


def test_anyone_finds_items_through_the_api_best_match_first(catalog):
    response = Client().get(f"{API}/items", {"q": "营业执照 办理"})

    assert response.status_code == 200
    body = response.json()
    assert body["items"][0]["code"] == BUSINESS_REGISTRATION and body["count"] >= 1
    assert body["items"][0]["department"]["name"] == "杭州市市场监督管理局"


def test_the_api_filters_by_topic_life_event_department_and_region(catalog, references):
    client = Client()
    market = references.department("330100", "market_regulation")

    def codes(**params):
        return [item["code"] for item in client.get(f"{API}/items", params).json()["items"]]

    assert codes(topic="marriage") == ["330100-B-QR-0001"]
    assert len(codes(life_event="after-death")) == 2
    assert codes(department=market.uscc) == ["330100-C-XK-0001", "330100-C-XK-0002"]
    assert codes(region="330200") == []


def test_the_api_gives_every_standard_element_of_an_item(catalog):
    item = Client().get(f"{API}/items/330100-E-QR-0001").json()

    assert item["type"] == "confirmation" and item["status"] == "published"
    assert (item["statutory_days"], item["promised_days"]) == (30, 5)
    assert item["handling_mode"] == "online_preview" and item["in_person_trips"] == 1
    assert [fee["amount"] for fee in item["fees"]] == ["80.00", "10.00"]
    assert item["result"] == {"kind": "licence", "licence_type": "real-estate-title", "name": "不动产权证书",
                              "name_en": "Real-estate title certificate"}
    assert [d["name"] for d in item["joint_departments"]] == ["杭州市税务局"]
    assert item["legal_basis"].startswith("《中华人民共和国民法典》") and item["conditions"]
    sources = {m["name"]: m["source"] for m in item["materials"]}
    assert sources["不动产权证书"]["licence_type"] == "real-estate-title"
    assert sources["卖方不动产登记信息"]["resource"] == "hz-property-persons"
    assert sources["不动产买卖合同"]["accepted_types"] == ["pdf"]
    assert item["form_ui"]["prefill"]["location_code"]["licence_type"] == "real-estate-title"
    assert "housing" in item["topics"] and item["keywords"]


def test_the_api_hides_drafts_and_unknown_items(catalog, market_admin):
    services.create_item(actor=market_admin, definition=new_definition())

    assert Client().get(f"{API}/items/330100-C-XK-9001").status_code == 404
    missing = Client().get(f"{API}/items/nothing")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/problem+json"


def test_the_search_page_finds_business_registration_for_a_chinese_query(catalog):
    response = Client().get("/services/", {"q": "开办企业"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("企业设立登记") < html.index("企业印章刻制备案")
    assert 'label for="service-q"' in html and 'id="service-topic"' in html


def test_the_search_page_lists_life_events_and_filters_by_them(catalog):
    page = Client().get("/services/").content.decode()
    assert "/services/life-events/birth/" in page

    filtered = Client().get("/services/", {"life_event": "after-death"}).content.decode()
    assert "死亡人员户口注销" in filtered and "企业设立登记" not in filtered


def test_the_guide_shows_every_standard_element_and_where_each_material_comes_from(catalog):
    item = selectors.published_item("330100-E-QR-0001")

    html = Client().get(f"/services/{item.code}/").content.decode()

    for element in ("行政确认", "杭州市自然资源和规划局", "杭州市税务局", "杭州市", "网上预审",
                    "30 个工作日", "5 个工作日", "不动产登记费（住宅）", "80.00", "不动产权证书",
                    "《中华人民共和国民法典》第二百零九条", "不动产买卖合同依法成立"):
        assert element in html, element
    assert "由申请人提供（PDF，最大 10 MB）" in html or "PDF" in html
    assert "杭州市个人不动产登记信息" in html
    assert f'href="/services/{item.code}/apply/"' in html


def test_the_guide_speaks_english_when_asked(catalog):
    with translation.override("en"):
        client = Client()
        client.cookies["django_language"] = "en"
        html = client.get(f"/services/{BUSINESS_REGISTRATION}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Business establishment registration" in html
    assert "Obtained from your licence: Real-estate title certificate" in html
    assert "Obtained from the registry: Hangzhou population data" in html
    assert "Provided by the applicant (PDF, up to 10 MB)" in html
    assert "Instant approval" in html and "Apply online" in html


def test_the_guide_of_a_draft_or_withdrawn_item_is_not_found(catalog, market_admin):
    services.create_item(actor=market_admin, definition=new_definition())
    services.withdraw_item(selectors.published_item("330100-C-XK-0002"), actor=market_admin, reason="Replaced")

    assert Client().get("/services/330100-C-XK-9001/").status_code == 404
    assert Client().get("/services/330100-C-XK-0002/").status_code == 404


def test_a_life_event_page_lists_its_items_in_order(catalog):
    html = Client().get("/services/life-events/start-a-business/").content.decode()

    positions = [html.index(name) for name in ("企业设立登记", "企业印章刻制备案", "新办纳税人信息确认", "社会保险参保登记")]
    assert positions == sorted(positions)
    assert Client().get("/services/life-events/nothing/").status_code == 404


def test_the_search_page_runs_a_fixed_number_of_queries(catalog, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        Client().get("/services/", {"q": "登记"})
