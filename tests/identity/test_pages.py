"""Sign-up, sign-in, profile and workbench pages, through Django's test client."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import reverse

from tongban.identity.models import Account, Role
from tongban.kernel.masking import mask_id_number
from tongban.kernel.models import AuditRecord, Department
from tongban.registries.models import LegalEntity

from .conftest import PASSWORD, current_code

pytestmark = pytest.mark.django_db


def sign_up(client: Client, person: dict, username: str = "newbie", **overrides: str):
    data = {
        "username": username,
        "password": PASSWORD,
        "password_again": PASSWORD,
        "name": person["name"],
        "id_number": person["id_number"],
        **overrides,
    }
    return client.post(reverse("identity:sign_up"), data)


def test_sign_up_signs_in_and_shows_the_masked_id_on_the_profile(client, people):
    response = sign_up(client, people[3])
    assert response.status_code == 302
    profile = client.get(reverse("portal:profile"))
    text = profile.content.decode()
    assert mask_id_number(people[3]["id_number"]) in text
    assert people[3]["id_number"] not in text


def test_sign_up_with_a_wrong_id_number_shows_a_readable_error_and_creates_nothing(client, people):
    response = sign_up(client, people[3], id_number=people[4]["id_number"])
    assert response.status_code == 400
    assert "姓名与身份证号码与人口库不一致" in response.content.decode()
    assert not Account.objects.filter(username="newbie").exists()


def test_the_same_refusal_reads_in_english_when_english_is_chosen(client, people):
    client.cookies["django_language"] = "en"
    response = sign_up(client, people[3], id_number=people[4]["id_number"])
    text = response.content.decode()
    assert 'lang="en"' in text
    assert "The name and ID number do not match the population registry." in text


@pytest.fixture
def frozen_rate_window(monkeypatch):
    """Keep every request of a test inside one rate-limit window."""
    from datetime import UTC, datetime

    from tongban.kernel import ratelimit

    instant = datetime(2026, 11, 23, 8, 0, 30, tzinfo=UTC)
    monkeypatch.setattr(ratelimit.timezone, "now", lambda: instant)


def test_sign_in_is_rate_limited_per_account_with_retry_after(client, citizen, settings, frozen_rate_window):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_in": (3, 60)}
    for _ in range(3):
        client.post(reverse("identity:sign_in"), {"username": "citizen", "password": "wrong-pass-1"})
    response = client.post(reverse("identity:sign_in"), {"username": "citizen", "password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


def test_sign_in_failure_does_not_reveal_whether_the_account_exists(client, citizen):
    unknown = client.post(reverse("identity:sign_in"), {"username": "nobody", "password": PASSWORD})
    wrong = client.post(reverse("identity:sign_in"), {"username": "citizen", "password": "wrong-pass-1"})
    assert unknown.status_code == wrong.status_code == 400
    assert unknown.context["form"].errors == wrong.context["form"].errors


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("portal:profile"))
    assert response.status_code == 302
    assert reverse("identity:sign_in") in response["Location"]


def test_officer_signs_in_with_password_then_code(client, make_officer):
    officer = make_officer("officer")
    first = client.post(reverse("identity:officer_sign_in"), {"username": "officer", "password": PASSWORD})
    assert first.status_code == 302
    # no session yet: the workbench still refuses
    assert client.get(reverse("workbench:home")).status_code == 302
    second = client.post(reverse("identity:officer_second_factor"), {"code": current_code(officer)})
    assert second.status_code == 302
    page = client.get(reverse("workbench:home"))
    assert page.status_code == 200
    assert "市场监督管理局" in page.content.decode()


def test_officer_with_a_wrong_code_gets_no_session(client, make_officer):
    officer = make_officer("officer")
    client.post(reverse("identity:officer_sign_in"), {"username": "officer", "password": PASSWORD})
    wrong = "000000" if current_code(officer) != "000000" else "111111"
    response = client.post(reverse("identity:officer_second_factor"), {"code": wrong})
    assert response.status_code == 400
    assert client.get(reverse("workbench:home")).status_code == 302


def test_a_citizen_cannot_open_the_workbench_or_the_admin(client, citizen):
    client.force_login(citizen)
    assert client.get(reverse("workbench:home")).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_platform_admin_reaches_the_admin_only_after_the_second_factor(client, make_officer):
    admin = make_officer("root", kind=Department.Kind.DATA_BUREAU, roles=[Role.PLATFORM_ADMIN])
    client.force_login(admin)
    assert client.get("/admin/").status_code == 302
    client.logout()
    client.post(reverse("identity:officer_sign_in"), {"username": "root", "password": PASSWORD})
    client.post(reverse("identity:officer_second_factor"), {"code": current_code(admin)})
    assert client.get("/admin/").status_code == 200


def test_sign_out_everywhere_ends_other_sessions(people, citizen):
    laptop, phone = Client(), Client()
    for device in (laptop, phone):
        device.post(reverse("identity:sign_in"), {"username": "citizen", "password": PASSWORD})
        assert device.get(reverse("portal:profile")).status_code == 200
    laptop.post(reverse("identity:sign_out_everywhere"))
    assert phone.get(reverse("portal:profile")).status_code == 302


def test_password_change_keeps_this_session_and_ends_the_others(people, citizen):
    laptop, phone = Client(), Client()
    for device in (laptop, phone):
        device.post(reverse("identity:sign_in"), {"username": "citizen", "password": PASSWORD})
    laptop.post(reverse("identity:change_password"),
                {"old_password": PASSWORD, "new_password": "Brand-New-Secret-77"})
    assert laptop.get(reverse("portal:profile")).status_code == 200
    assert phone.get(reverse("portal:profile")).status_code == 302


def test_switching_to_an_entity_one_may_not_act_for_is_refused(client, citizen):
    client.force_login(citizen)
    entity = LegalEntity.objects.first()
    client.post(reverse("portal:acting_for"), {"entity": entity.pk})
    profile = client.get(reverse("portal:profile"))
    assert entity.name not in profile.content.decode().split('data-testid="acting-as">')[1][:200]


def test_forms_require_csrf(people):
    strict = Client(enforce_csrf_checks=True)
    response = sign_up(strict, people[3])
    assert response.status_code == 403
    assert not Account.objects.filter(username="newbie").exists()


def test_no_personal_data_in_the_logs_of_a_full_sign_up(client, people, caplog):
    caplog.set_level(logging.DEBUG)
    person = people[7]
    sign_up(client, person, username="loggy")
    client.get(reverse("portal:profile"))
    client.post(reverse("identity:sign_out"))
    client.post(reverse("identity:sign_in"), {"username": "loggy", "password": PASSWORD})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert person["id_number"] not in logged
    assert PASSWORD not in logged
    audit_text = " ".join(str(r.details) + r.target for r in AuditRecord.objects.all())
    assert person["id_number"] not in audit_text and person["name"] not in audit_text


def test_sign_up_is_rate_limited_per_identity_across_addresses(people, settings, frozen_rate_window):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "real_name": (2, 60), "sign_up": (100, 60)}
    wrong_name = {**people[3], "name": "某某某"}
    for address in ("10.0.0.1", "10.0.0.2"):
        sign_up(Client(REMOTE_ADDR=address), wrong_name)
    response = sign_up(Client(REMOTE_ADDR="10.0.0.3"), people[3])
    assert response.status_code == 429
    assert not Account.objects.filter(username="newbie").exists()


def test_pages_speak_chinese_even_to_an_english_browser_until_english_is_chosen(client):
    page = client.get(reverse("identity:sign_in"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="zh-hans"' in page.content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert 'lang="en"' in client.get(reverse("identity:sign_in")).content.decode()


def test_the_api_follows_accept_language(client):
    english = client.get("/api/v1/identity/whoami", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 401
    assert english["Content-Language"] == "en"
