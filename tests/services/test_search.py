"""Finding published items: Chinese queries by character bigrams, English words, and the filters."""

from __future__ import annotations

import pytest

from tests.services.conftest import BUSINESS_REGISTRATION, new_definition
from tongban.services import search, selectors
from tongban.services import services as services

pytestmark = pytest.mark.django_db


def codes(**filters) -> list[str]:
    return [item.code for item in selectors.published_items(**filters)]


def test_query_terms_are_bigrams_of_chinese_and_words_of_english():
    assert search.query_terms("开办企业") == ["开办", "办企", "企业"]
    assert search.query_terms("营业执照 办理") == ["营业", "业执", "执照", "办理"]
    assert search.query_terms("税") == ["税"]
    assert search.query_terms("Business Registrations of the ＣＩＴＹ") == ["business", "registration", "city"]


@pytest.mark.parametrize("query", ["营业执照 办理", "开办企业", "企业设立", "注册公司", "business registration"])
def test_business_registration_is_found_first_by_what_people_type(catalog, query):
    found = codes(query=query)

    assert found and found[0] == BUSINESS_REGISTRATION


def test_a_query_sharing_too_few_terms_finds_nothing(catalog):
    # "办理" alone is half of nothing these items are about
    assert codes(query="量子计算") == []
    assert BUSINESS_REGISTRATION not in codes(query="结婚登记")


def test_birth_queries_find_the_birth_items(catalog):
    found = codes(query="新生儿 出生")

    assert set(found[:2]) == {"330100-A-QR-0001", "330100-F-GG-0001"}


def test_items_sharing_more_and_heavier_terms_rank_higher(catalog):
    # 开办企业: business registration has it as a keyword and 企业 in its name; the seal and tax items
    # share two of its three bigrams through their keyword 新办企业 (the seal item has 企业 in its name)
    found = codes(query="开办企业")

    assert found == [BUSINESS_REGISTRATION, "330100-A-GG-0001", "330100-G-QR-0001"]


def test_drafts_and_withdrawn_items_are_not_found(catalog, market_admin):
    services.create_item(actor=market_admin, definition=new_definition())
    withdrawn = selectors.published_item("330100-C-XK-0002")
    services.withdraw_item(withdrawn, actor=market_admin, reason="Replaced")

    assert "330100-C-XK-9001" not in codes(query="个体户")
    assert "330100-C-XK-0002" not in codes(query="食品经营许可")


def test_filters_by_topic_life_event_department_region_and_audience(catalog, references):
    market = references.department("330100", "market_regulation")

    assert codes(topic="marriage") == ["330100-B-QR-0001"]
    assert codes(life_event="start-a-business") == sorted(
        ["330100-C-XK-0001", "330100-A-GG-0001", "330100-G-QR-0001", "330100-D-QR-0001"])
    assert codes(department=market.uscc) == ["330100-C-XK-0001", "330100-C-XK-0002"]
    assert len(codes(region="330000")) == len(codes(region="330100")) == 16
    assert codes(region="330200") == []
    assert "330100-B-QR-0001" not in codes(audience="business")
    assert "330100-D-QR-0001" in codes(audience="business")  # for both


def test_filters_combine_with_the_query(catalog):
    assert codes(query="开办企业", topic="tax") == ["330100-G-QR-0001"]
    assert codes(query="开办企业", life_event="birth") == []


def test_a_filtered_search_keeps_its_scores_per_item(catalog):
    # the topic filter is a subquery: it must not multiply the rows the score sums
    plain = {item.code: item.score for item in selectors.published_items(query="开办企业")}
    filtered = {item.code: item.score for item in selectors.published_items(query="开办企业",
                                                                            topic="business_registration")}

    assert filtered and all(plain[code] == score for code, score in filtered.items())
