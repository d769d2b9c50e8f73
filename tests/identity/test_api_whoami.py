"""``GET /api/v1/identity/whoami`` names the caller without personal identifiers."""

from __future__ import annotations

import pytest
from django.test import Client

from tongban.identity.models import Account, Appointment, Role
from tongban.kernel.models import Department
from tongban.kernel.problems import PROBLEM_CONTENT_TYPE

pytestmark = pytest.mark.django_db

WHOAMI = "/api/v1/identity/whoami"


def test_a_signed_in_officer_sees_their_account_and_departments(org):
    # given an officer appointed in two departments
    market = org.department("330100", Department.Kind.MARKET_REGULATION)
    health = org.department("330100", Department.Kind.HEALTH)
    officer = Account.objects.create_user(username="officer-w", kind=Account.Kind.OFFICER)
    Appointment.objects.create(account=officer, department=market, role=Role.WINDOW_OFFICER)
    Appointment.objects.create(account=officer, department=health, role=Role.REVIEWER)
    browser = Client()
    browser.force_login(officer)
    # when
    response = browser.get(WHOAMI)
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "account" and body["username"] == "officer-w"
    assert body["client_id"] is None and body["assurance_level"] == 1
    assert sorted(d["uscc"] for d in body["departments"]) == sorted([market.uscc, health.uscc])


def test_a_citizen_sees_their_assurance_level_and_no_personal_identifiers(citizen):
    browser = Client()
    browser.force_login(citizen)
    body = browser.get(WHOAMI).json()
    assert body == {
        "kind": "account",
        "username": citizen.username,
        "client_id": None,
        "departments": [],
        "assurance_level": 2,
    }
    assert citizen.person.name not in str(body)


def test_an_anonymous_caller_gets_a_problem_401():
    response = Client().get(WHOAMI)
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE


def test_a_deactivated_account_is_refused(org):
    account = Account.objects.create_user(username="gone")
    browser = Client()
    browser.force_login(account)
    Account.objects.filter(pk=account.pk).update(is_active=False)
    assert browser.get(WHOAMI).status_code == 401
