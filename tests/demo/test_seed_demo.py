"""The demo region: a second seed changes nothing, and every page has something to show."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from tongban.exchange import selectors as exchange
from tongban.exchange.models import CallLogRecord
from tongban.identity.models import Account
from tongban.kernel.audit import verify_chain
from tongban.kernel.models import AuditRecord

pytestmark = pytest.mark.django_db


def test_seeding_twice_changes_nothing_and_leaves_verified_chains():
    call_command("seed_demo", stdout=StringIO())
    counts = (AuditRecord.objects.count(), CallLogRecord.objects.count(), Account.objects.count())

    call_command("seed_demo", stdout=StringIO())

    assert (AuditRecord.objects.count(), CallLogRecord.objects.count(), Account.objects.count()) == counts
    assert verify_chain() is None


def test_a_demo_citizen_sees_who_used_their_data():
    call_command("seed_demo", stdout=StringIO())
    citizen = Account.objects.get(username="citizen01")

    calls = list(exchange.calls_about_person(citizen.person_id))

    assert len(calls) == 2 and {call.department.kind for call in calls} == {"tax"}


def test_demo_accounts_list_every_officer_with_a_totp_secret():
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("demo_accounts", "--json", stdout=out)
    accounts = json.loads(out.getvalue())
    officers = [a for a in accounts if a["totp_secret"]]
    assert {"hz-window", "hz-tax-data", "hz-police-data", "platform-admin"} <= {a["username"] for a in officers}
    assert all(a["password"] for a in accounts if a["username"])
