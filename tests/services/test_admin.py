"""The admin manages items through the services: forms, materials inline, actions, import and export."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.services.conftest import BUSINESS_REGISTRATION, document
from tongban.identity.models import Account
from tongban.kernel.models import AuditRecord
from tongban.services.models import ServiceItem

pytestmark = pytest.mark.django_db

ADD = "/admin/services/serviceitem/add/"
LIST = "/admin/services/serviceitem/"


def admin_client(account: Account) -> Client:
    """A client signed in to the admin site (staff, second factor passed)."""
    Account.objects.filter(pk=account.pk).update(is_staff=True)
    client = Client()
    client.force_login(Account.objects.get(pk=account.pk))
    session = client.session
    session["second_factor"] = True
    session.save()
    return client


def item_form(department, **changes) -> dict:
    data = {
        "code": "330100-C-XK-8001", "name": "广告发布登记", "name_en": "Advertising registration",
        "item_type": "licensing", "department": department.pk, "region": department.region.pk,
        "audience": "business", "legal_basis": "《中华人民共和国广告法》第二十九条", "conditions": "具有广告发布能力。",
        "statutory_days": "10", "promised_days": "3", "fees": "[]", "handling_mode": "fully_online",
        "in_person_trips": "0", "result_kind": "document", "result_name": "广告发布登记证",
        "keywords": json.dumps(["广告", "登记"]), "form_schema": "{}", "form_ui": "{}", "topics": ["permits"],
        "materials-TOTAL_FORMS": "1", "materials-INITIAL_FORMS": "0", "materials-MIN_NUM_FORMS": "0",
        "materials-MAX_NUM_FORMS": "1000",
        "materials-0-name": "营业执照", "materials-0-required": "on", "materials-0-source": "licence",
        "materials-0-licence_type": "", "materials-0-accepted_types": "[]", "materials-0-resource_fields": "[]",
    }
    data.update(changes)
    return data


def test_a_department_admin_adds_an_item_with_a_material_through_the_service(references, market_admin):
    from tongban.credentials.models import LicenceType

    market = references.department("330100", "market_regulation")
    licence = LicenceType.objects.get(code="business-licence")

    response = admin_client(market_admin).post(ADD, item_form(market, **{"materials-0-licence_type": licence.pk}))

    assert response.status_code == 302, response.content.decode()[-3000:]
    item = ServiceItem.objects.get(code="330100-C-XK-8001")
    assert (item.status, item.version) == ("draft", 1)
    assert [(m.name, m.licence_type.code) for m in item.materials.all()] == [("营业执照", "business-licence")]
    assert list(item.topics.values_list("topic", flat=True)) == ["permits"]
    assert AuditRecord.objects.filter(action="services.item.created").count() == 1


def test_the_admin_form_shows_a_broken_rule_and_saves_nothing(references, market_admin):
    market = references.department("330100", "market_regulation")

    response = admin_client(market_admin).post(ADD, item_form(market, promised_days="30"))

    assert response.status_code == 200
    assert "承诺时限不得超过法定时限。" in response.content.decode()
    assert not ServiceItem.objects.exists()


def test_a_licence_material_without_a_licence_type_is_refused_in_the_inline(references, market_admin):
    market = references.department("330100", "market_regulation")

    response = admin_client(market_admin).post(ADD, item_form(market))

    assert response.status_code == 200 and not ServiceItem.objects.exists()


def test_another_departments_admin_sees_and_changes_none_of_its_items(catalog, police_admin):
    client = admin_client(police_admin)

    listing = client.get(LIST).content.decode()
    assert "330100-A-QR-0001" in listing and BUSINESS_REGISTRATION not in listing
    item = ServiceItem.objects.get(code=BUSINESS_REGISTRATION)
    assert client.get(f"{LIST}{item.pk}/change/").status_code == 302  # "does not exist" for them


def test_a_citizen_with_staff_rights_manages_nothing(catalog, citizen):
    assert admin_client(citizen).get(LIST).status_code == 403


def test_the_publish_and_withdraw_actions_go_through_the_services(catalog, market_admin):
    client = admin_client(market_admin)
    item = ServiceItem.objects.get(code=BUSINESS_REGISTRATION)

    client.post(LIST, {"action": "withdraw_selected", "_selected_action": [item.pk]})
    item.refresh_from_db()
    assert item.status == "withdrawn"
    client.post(LIST, {"action": "publish_selected", "_selected_action": [item.pk]})
    item.refresh_from_db()
    assert item.status == "published"
    assert AuditRecord.objects.filter(action__in=["services.item.withdrawn", "services.item.published"]).count() == 2


def test_the_export_action_downloads_a_catalog_file(catalog, market_admin):
    item = ServiceItem.objects.get(code=BUSINESS_REGISTRATION)

    response = admin_client(market_admin).post(LIST, {"action": "export_selected", "_selected_action": [item.pk]})

    exported = json.loads(response.content)
    assert exported["region"] == "330100" and [i["code"] for i in exported["items"]] == [BUSINESS_REGISTRATION]


def test_the_import_page_imports_a_file_or_lists_its_problems(references, platform_admin):
    client = admin_client(platform_admin)
    bad = document()
    bad["items"][0]["statutory_days"] = 0

    refused = client.post(f"{LIST}import/", {"file": SimpleUploadedFile(
        "catalog.json", json.dumps(bad).encode(), content_type="application/json")})
    assert refused.status_code == 200 and "promised_days" in refused.content.decode()
    assert not ServiceItem.objects.exists()

    imported = client.post(f"{LIST}import/", {"file": SimpleUploadedFile(
        "catalog.json", json.dumps(document()).encode(), content_type="application/json")})
    assert imported.status_code == 302 and ServiceItem.objects.count() == 16
