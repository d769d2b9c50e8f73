"""The vital-event and real-property registries through the gateway, keyed by the subject's ID number.

A department system granted "marital status" or "property held" reads what the
marriage or real-property registry holds about one person; the call is logged
against that person like a read of the population registry.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.catalog.fixtures import LEGAL_BASIS, PURPOSE, in_days, make_officer, token_for
from tests.exchange.test_gateway import call, last_call, problem
from tests.registries.builders import (
    make_parcel,
    make_vital_event,
    set_up_vital_and_property_registries,
    valid_id_number,
)
from tests.registries.builders import make_person as make_registered_person
from tongban.catalog import services as catalog
from tongban.catalog.models import CatalogResource
from tongban.demo.catalog import MARITAL_STATUS_RESOURCE, PROPERTY_PERSONS_RESOURCE, seed_catalog
from tongban.identity.models import Role
from tongban.kernel.models import Department
from tongban.registries import services as registries


@pytest.fixture
def subject_resources(org, resources):
    set_up_vital_and_property_registries(org)
    seed_catalog(org)
    return org


def grant(resource_code: str, fields: list[str], *, requester, owner, system):
    request = catalog.request_access(
        actor=requester, resource=CatalogResource.objects.get(code=resource_code), fields=fields,
        purpose=PURPOSE, legal_basis=LEGAL_BASIS, valid_until=in_days(30), system=system,
    )
    return catalog.approve_request(request, actor=owner)


@pytest.fixture
def spouse(subject_resources):
    return make_registered_person(name="李芳", sex="female", birth_date=date(1991, 2, 3))


def test_the_marriage_registry_answers_marital_status_and_spouse_by_id_number(subject_resources, tax_data,
                                                                              tax_client, person, spouse):
    civil = make_officer(subject_resources, "hz-civil-data", kind=Department.Kind.CIVIL_AFFAIRS,
                         roles=[Role.DATA_OFFICER])
    grant(MARITAL_STATUS_RESOURCE, ["marital_status", "spouse_name"], requester=tax_data, owner=civil,
          system=tax_client.system)
    token = token_for(tax_client)
    fields = "marital_status,spouse_name"

    before = call(token, MARITAL_STATUS_RESOURCE, person.id_number, fields=fields)
    make_vital_event("marriage", person, spouse=spouse, occurred_on=date(2020, 10, 1))
    married = call(token, MARITAL_STATUS_RESOURCE, person.id_number, fields=fields)
    make_vital_event("divorce", person, spouse=spouse, occurred_on=date(2023, 3, 1))
    divorced = call(token, MARITAL_STATUS_RESOURCE, person.id_number, fields=fields)

    assert before.json()["data"] == {"marital_status": "never_married", "spouse_name": None}
    assert married.json()["data"] == {"marital_status": "married", "spouse_name": "李芳"}
    assert divorced.json()["data"] == {"marital_status": "divorced", "spouse_name": None}
    entry = last_call()
    assert entry.person_id == person.pk and entry.resource_code == MARITAL_STATUS_RESOURCE


def test_a_spouses_death_makes_the_survivor_widowed(subject_resources, person, spouse):
    make_vital_event("marriage", person, spouse=spouse, occurred_on=date(2020, 10, 1))
    make_vital_event("death", spouse, occurred_on=date(2025, 1, 9))

    facts = registries.marital_facts(person)

    assert facts["marital_status"] == "widowed" and facts["spouse_id_number"] is None
    assert facts["last_event"] == "marriage" and facts["last_event_on"] == "2020-10-01"


def test_the_births_registry_answers_the_birth_with_the_parents(subject_resources, person, spouse):
    child = make_registered_person(name="王小宝", sex="male", birth_date=date(2024, 5, 20))
    make_vital_event("birth", child, occurred_on=date(2024, 5, 20), mother=spouse, father=person)

    facts = registries.vital_facts(child)

    assert facts["birth_registered"] and facts["birth_date"] == "2024-05-20"
    assert facts["mother_id_number"] == spouse.id_number and facts["father_id_number"] == person.id_number
    assert not facts["deceased"] and facts["death_date"] is None


def test_the_property_registry_answers_the_parcels_a_person_holds_today(subject_resources, tax_data, tax_client,
                                                                        person, spouse):
    land = make_officer(subject_resources, "hz-land-data", kind=Department.Kind.NATURAL_RESOURCES,
                        roles=[Role.DATA_OFFICER])
    grant(PROPERTY_PERSONS_RESOURCE, ["parcel_count", "parcels"], requester=tax_data, owner=land,
          system=tax_client.system)
    parcel = make_parcel([(person, "1/2"), (spouse, "1/2")], area="98.60")

    response = call(token_for(tax_client), PROPERTY_PERSONS_RESOURCE, person.id_number, fields="parcel_count,parcels")

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["parcel_count"] == 1
    assert data["parcels"] == [{"location_code": parcel.location_code, "region": "330106", "use": "residential",
                                "area": "98.60", "share": "1/2", "acquired_on": "2015-06-01"}]


def test_an_unknown_person_is_refused_and_logged(subject_resources, tax_data, tax_client):
    civil = make_officer(subject_resources, "hz-civil-data", kind=Department.Kind.CIVIL_AFFAIRS,
                         roles=[Role.DATA_OFFICER])
    grant(MARITAL_STATUS_RESOURCE, ["marital_status"], requester=tax_data, owner=civil, system=tax_client.system)
    stranger = valid_id_number(area="110101", birth_date=date(1979, 1, 2))  # valid, but never registered

    response = call(token_for(tax_client), MARITAL_STATUS_RESOURCE, stranger, fields="marital_status")

    assert response.status_code == 404 and problem(response)["reason"] == "subject_not_found"
    assert last_call().outcome == "refused" and last_call().person_id is None
