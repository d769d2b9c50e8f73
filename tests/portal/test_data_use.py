""""Who used my data": a citizen sees every gateway call that read their record, and only theirs."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.catalog.fixtures import PASSWORD, PURPOSE, make_person
from tongban.exchange import services as exchange
from tongban.identity import services as identity
from tongban.kernel.actors import SystemActor

pytestmark = pytest.mark.django_db


def gateway_call(principal, person, *, case_id: str = "CASE-2026-0042") -> None:
    exchange.call_resource(
        actor=principal, resource_code="hz-persons", key=person.id_number,
        fields="name,birth_date", purpose=PURPOSE, case_id=case_id,
    )


@pytest.fixture
def tax_principal(tax_client):
    from tongban.identity.api_auth import SystemPrincipal

    system = tax_client.system
    return SystemPrincipal(system=system, department=system.department, client_id=tax_client.client_id,
                           scopes=frozenset({"api"}))


def test_a_citizen_sees_the_call_that_read_their_record(tax_grant, tax_principal, person, citizen):
    # given the tax system read the citizen's name and birth date for a case
    gateway_call(tax_principal, person)
    client = Client()
    client.force_login(citizen)

    # when the citizen opens "who used my data"
    page = client.get(reverse("portal:data_use"))

    # then the call is there: department, fields, purpose and case
    text = page.content.decode()
    assert page.status_code == 200
    assert "Hangzhou Tax Bureau" in text or "杭州市税务局" in text
    assert "name, birth_date" in text
    assert PURPOSE in text and "CASE-2026-0042" in text


def test_another_persons_calls_are_not_shown(tax_grant, tax_principal, person, citizen):
    stranger = make_person(name="李四")
    gateway_call(tax_principal, stranger, case_id="CASE-OF-SOMEONE-ELSE")
    client = Client()
    client.force_login(citizen)

    text = client.get(reverse("portal:data_use")).content.decode()

    assert "CASE-OF-SOMEONE-ELSE" not in text


def test_an_anonymous_visitor_is_sent_to_sign_in():
    response = Client().get(reverse("portal:data_use"))
    assert response.status_code == 302
    assert reverse("identity:sign_in") in response["Location"]


def test_an_account_without_a_real_name_sees_no_calls(tax_grant, tax_principal, person, org):
    gateway_call(tax_principal, person)
    officer = identity.create_officer(
        actor=SystemActor("tests"), username="someone", password=PASSWORD,
        department=org.department("330100", "tax"), roles=["reviewer"],
    )
    client = Client()
    client.force_login(officer)

    text = client.get(reverse("portal:data_use")).content.decode()

    assert "CASE-2026-0042" not in text
