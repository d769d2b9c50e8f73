"""Cases reuse a holder's licence instead of an upload (一证通用); every use is logged like a gateway call."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from tests.catalog.fixtures import PASSWORD, make_officer
from tongban.credentials import services as credentials
from tongban.exchange import selectors as exchange_selectors
from tongban.exchange.models import CallLogRecord
from tongban.identity.models import Role
from tongban.kernel.models import Department
from tongban.kernel.problems import InvalidInput, PermissionDenied

PURPOSE = "Household registration: proof of marriage"


@pytest.fixture
def police_officer(org):
    return make_officer(org, "police-window", kind=Department.Kind.PUBLIC_SECURITY, roles=[Role.WINDOW_OFFICER])


def use(officer, org, holder, **changes):
    arguments = {"actor": officer, "department": org.department("330100", Department.Kind.PUBLIC_SECURITY),
                 "licence_type": "marriage-certificate", "purpose": PURPOSE, "case_id": "HJ-2026-0042"}
    arguments.update(changes)
    return credentials.use_licence(holder, **arguments)


def test_a_case_reads_the_holders_valid_licence_and_the_use_shows_on_their_page(married_holder, police_officer, org):
    # given a citizen holding a marriage certificate, and a police case that needs it
    account, licence, _issuer = married_holder
    person = licence.holder_person

    # when the police window officer uses it for the case, asking for two fields
    found = use(police_officer, org, person, fields=["certificate_number", "spouse_name"])

    # then it gets exactly those, verified, and the use is logged against the person with purpose and case
    assert found is not None and found.licence_id == licence.id
    assert found.fields == {"certificate_number": "J330106-2026-000123", "spouse_name": "张丽"}
    assert found.issuer_name == licence.issuer.name
    entry = CallLogRecord.objects.get(pk=found.call)
    assert (entry.outcome, entry.person_id, entry.resource_code) == ("ok", person.pk, "licence:marriage-certificate")
    assert entry.fields_returned == ["certificate_number", "spouse_name"]
    assert (entry.purpose, entry.case_id) == (PURPOSE, "HJ-2026-0042")
    assert list(exchange_selectors.calls_about_person(person.pk)) == [entry]

    client = Client()
    client.login(username=account.username, password=PASSWORD)
    page = client.get("/me/data-use/").content.decode()
    assert "HJ-2026-0042" in page and licence.licence_type.name in page


def test_a_revoked_licence_is_not_used_and_the_attempt_is_logged(married_holder, police_officer, org):
    # given the certificate was revoked
    _account, licence, issuer = married_holder
    credentials.revoke_licence(licence, actor=issuer, reason="Registered in error")

    # when a case looks for it
    found = use(police_officer, org, licence.holder_person)

    # then nothing is returned, and the attempt is logged as refused without fields
    assert found is None
    entry = CallLogRecord.objects.order_by("-id").first()
    assert (entry.outcome, entry.reason, entry.fields_returned) == ("refused", "no_valid_licence", [])


def test_a_holder_without_the_licence_gets_none(married_holder, police_officer, org):
    from tests.catalog.fixtures import make_person

    assert use(police_officer, org, make_person(name="李四")) is None


def test_outsiders_cannot_use_a_licence_and_nothing_is_logged(married_holder, police_officer, org):
    # given a citizen, an officer of another department and nobody at all
    account, licence, issuer = married_holder
    before = CallLogRecord.objects.count()

    for outsider in (account, issuer, None):
        with translation.override("en"), pytest.raises(PermissionDenied):
            use(outsider, org, licence.holder_person)

    assert CallLogRecord.objects.count() == before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"purpose": " "}, "purpose"),
        ({"case_id": ""}, "purpose"),
        ({"licence_type": "no-such-type"}, "no such licence type"),
        ({"licence_type": "business-licence"}, "kind of holder"),
        ({"fields": ["salary"]}, "no field salary"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_logged(married_holder, police_officer, org, changes, message):
    _account, licence, _issuer = married_holder
    before = CallLogRecord.objects.count()

    with translation.override("en"), pytest.raises(InvalidInput, match=message):
        use(police_officer, org, licence.holder_person, **changes)

    assert CallLogRecord.objects.count() == before
