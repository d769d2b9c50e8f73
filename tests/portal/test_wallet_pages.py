"""The wallet pages: a holder sees and shares their licences; the share link shows only what they chose."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.catalog.fixtures import PASSWORD, make_person
from tongban.credentials.models import Share
from tongban.identity import services as identity

pytestmark = pytest.mark.django_db


def test_the_holder_shares_a_licence_and_the_link_shows_only_the_chosen_field(holder):
    browser, licence, _officer = holder
    assert "结婚证" in browser.get("/me/licences/").content.decode()
    page = browser.get(f"/me/licences/{licence.pk}/").content.decode()
    assert "张丽" in page  # the holder sees everything
    response = browser.post(f"/me/licences/{licence.pk}/share/", {"fields": ["registered_on"], "duration": "1h"},
                            follow=True)
    link = re.search(r'href="(http://testserver/v/[^"]+)"', response.content.decode()).group(1)
    shown = Client().get(link.removeprefix("http://testserver"))
    body = shown.content.decode()
    assert shown.status_code == 200 and shown["Cache-Control"] == "no-store"
    assert "有效" in body and "2026-05-20" in body and "张丽" not in body
    assert licence.holder_person.id_number not in body


def test_a_withdrawn_link_is_gone(holder):
    browser, licence, _officer = holder
    browser.post(f"/me/licences/{licence.pk}/share/", {"duration": "10m"})
    share = Share.objects.get()
    browser.post(f"/me/licences/{licence.pk}/shares/{share.pk}/withdraw/")
    assert Client().get(f"/v/{share.token}/").status_code == 410
    assert Client().get("/v/not-a-token/").status_code == 404


def test_someone_else_cannot_see_or_share_the_licence(holder):
    _browser, licence, _officer = holder
    stranger_person = make_person(name="李四")
    stranger = identity.register_citizen(username="li", password=PASSWORD, name=stranger_person.name,
                                         id_number=stranger_person.id_number)
    other = Client()
    other.force_login(stranger)
    assert other.get(f"/me/licences/{licence.pk}/").status_code == 404
    assert other.post(f"/me/licences/{licence.pk}/share/", {"duration": "1h"}).status_code == 404
    assert "结婚证" not in other.get("/me/licences/").content.decode()
    assert not Share.objects.exists()
    assert Client().get("/me/licences/").status_code == 302  # anonymous: sign in first


def test_a_bad_share_request_says_why_and_makes_no_link(holder):
    browser, licence, _officer = holder
    response = browser.post(f"/me/licences/{licence.pk}/share/", {"fields": ["certificate_number"],
                                                                 "duration": "1h"}, follow=True)
    assert "不能选择性出示" in response.content.decode()
    assert not Share.objects.exists()
