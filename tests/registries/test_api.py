"""The registries API: scoped reads, masked numbers, writes through services, problem+json errors."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client

from tongban.kernel.masking import mask_id_number
from tongban.kernel.models import AuditRecord
from tongban.registries.models import Person

from .builders import make_citizen, make_entity, make_person, valid_id_number

pytestmark = pytest.mark.django_db

BASE = "/api/v1/registries"
PROBLEM = "application/problem+json"


def _client(account=None) -> Client:
    client = Client()
    if account is not None:
        client.force_login(account)
    return client


def _patch(client: Client, path: str, body: dict):
    return client.patch(path, data=json.dumps(body), content_type="application/json")


def _post(client: Client, path: str, body: dict):
    return client.post(path, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def population(registries):
    return [make_person(name="王芳", sex="female"), make_person(name="李强"), make_person(name="赵敏", sex="female")]


def test_window_officer_lists_persons_with_whole_numbers(population, police):
    response = _client(police).get(f"{BASE}/persons")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [item["id_number"] for item in body["items"]] == [p.id_number for p in population]
    assert body["items"][0]["address_region"] == "330106"


def test_data_officer_lists_persons_with_masked_numbers(population, police_data_officer):
    body = _client(police_data_officer).get(f"{BASE}/persons").json()
    assert [item["id_number"] for item in body["items"]] == [mask_id_number(p.id_number) for p in population]


def test_list_is_paginated(population, police):
    body = _client(police).get(f"{BASE}/persons", {"page": 2, "page_size": 2}).json()
    assert body["count"] == 3
    assert [item["id"] for item in body["items"]] == [population[2].pk]


def test_officer_finds_a_person_by_id_number(population, police):
    body = _client(police).get(f"{BASE}/persons", {"id_number": population[1].id_number}).json()
    assert [item["name"] for item in body["items"]] == ["李强"]


def test_citizen_sees_only_their_own_record_masked(population):
    alice = population[0]
    citizen = make_citizen(alice, "alice")
    client = _client(citizen)
    body = client.get(f"{BASE}/persons").json()
    assert [(item["id"], item["id_number"]) for item in body["items"]] == [(alice.pk, mask_id_number(alice.id_number))]
    assert client.get(f"{BASE}/persons/{alice.pk}").status_code == 200
    assert client.get(f"{BASE}/persons/{population[1].pk}").status_code == 404


def test_outsider_sees_nothing_and_gets_problem_details(population, outsider):
    client = _client(outsider)
    assert client.get(f"{BASE}/persons").json() == {"items": [], "count": 0}
    response = client.get(f"{BASE}/persons/{population[0].pk}")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 404 and problem["type"].endswith("/not-found")
    assert client.get(f"{BASE}/persons/{population[0].pk}/history").status_code == 404


def test_outsider_cannot_amend_a_record_they_cannot_see(population, outsider):
    before = AuditRecord.objects.count()
    response = _patch(_client(outsider), f"{BASE}/persons/{population[0].pk}",
                      {"status": "deceased", "reason": "Prank"})
    assert response.status_code == 404
    assert Person.objects.get(pk=population[0].pk).status == Person.Status.LIVING
    assert AuditRecord.objects.count() == before


def test_outsider_cannot_register_a_person(registries, outsider):
    number = valid_id_number()
    response = _post(_client(outsider), f"{BASE}/persons", {
        "id_number": number, "name": "王伟", "sex": "male", "birth_date": "1990-03-07",
        "address_region": "330106", "reason": "Birth registration",
    })
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"].endswith("/permission-denied")
    assert not Person.objects.exists()


def test_citizen_can_read_but_not_amend_their_own_record(population):
    alice = population[0]
    response = _patch(_client(make_citizen(alice, "alice")), f"{BASE}/persons/{alice.pk}",
                      {"name": "王芳芳", "reason": "I prefer it"})
    assert response.status_code == 403
    assert Person.objects.get(pk=alice.pk).name == "王芳"


def test_officer_registers_a_person(registries, police):
    number = valid_id_number(sex="female", birth_date=date(2001, 2, 3))
    response = _post(_client(police), f"{BASE}/persons", {
        "id_number": number, "name": "陈静", "sex": "female", "birth_date": "2001-02-03",
        "address_region": "330102", "reason": "Birth registration",
    })
    assert response.status_code == 201
    assert response.json()["id_number"] == number
    assert Person.objects.get().name == "陈静"


def test_invalid_registration_is_a_422_problem_naming_the_field(registries, police):
    response = _post(_client(police), f"{BASE}/persons", {
        "id_number": "330106199003071230", "name": "陈静", "sex": "female", "birth_date": "1990-03-07",
        "address_region": "330102", "reason": "Birth registration",
    })
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["field"] == "id_number" and problem["type"].endswith("/invalid-input")
    assert not Person.objects.exists()


def test_officer_amends_a_person_and_the_history_shows_it(population, police):
    client = _client(police)
    person = population[1]
    response = _patch(client, f"{BASE}/persons/{person.pk}", {"status": "deceased", "reason": "Death certificate"})
    assert response.status_code == 200
    assert response.json()["status"] == "deceased"
    history = client.get(f"{BASE}/persons/{person.pk}/history").json()
    assert [(h["kind"], h["reason"], h["changed_by"]) for h in history] == [
        ("created", "Birth registration", "system:tests"),
        ("updated", "Death certificate", police.audit_name),
    ]
    assert history[0]["after"]["id_number"] == mask_id_number(person.id_number)


def test_amendment_without_a_reason_is_refused(population, police):
    response = _patch(_client(police), f"{BASE}/persons/{population[0].pk}", {"name": "王芳芳"})
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM


def test_entities_are_listed_for_the_owner_and_the_representative_only(population, market_officer, outsider):
    alice, bob, _carol = population
    alices, bobs = make_entity(alice), make_entity(bob, name="杭州恒信贸易有限公司")
    officer_view = _client(market_officer).get(f"{BASE}/entities").json()
    assert [item["uscc"] for item in officer_view["items"]] == [alices.uscc, bobs.uscc]
    assert officer_view["items"][0]["legal_representative_name"] == "王芳"
    citizen = _client(make_citizen(alice, "alice"))
    assert [item["id"] for item in citizen.get(f"{BASE}/entities").json()["items"]] == [alices.pk]
    assert citizen.get(f"{BASE}/entities/{bobs.pk}").status_code == 404
    assert len(citizen.get(f"{BASE}/entities/{alices.pk}/history").json()) == 1
    assert _client(outsider).get(f"{BASE}/entities").json()["count"] == 0
    assert _client(outsider).get(f"{BASE}/entities/{alices.pk}").status_code == 404


def test_anonymous_callers_are_asked_to_authenticate(population):
    response = _client().get(f"{BASE}/persons")
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM


def test_list_queries_do_not_grow_with_the_page(registries, police, market_officer, django_assert_max_num_queries):
    # given a page of ten persons and ten entities
    people = [make_person(name=f"王{i}") for i in range(10)]
    for person in people:
        make_entity(person)
    officer, market = _client(police), _client(market_officer)
    # then: session, account, appointments, count and one page query, whatever the page size
    with django_assert_max_num_queries(6):
        assert officer.get(f"{BASE}/persons").json()["count"] == 10
    with django_assert_max_num_queries(6):
        assert market.get(f"{BASE}/entities").json()["count"] == 10


def test_reading_a_person_is_audited_by_record_key_only(population, police):
    # given an officer of the owning department
    person = population[0]
    # when they open the person and search by number
    _client(police).get(f"{BASE}/persons/{person.pk}")
    _client(police).get(f"{BASE}/persons", {"id_number": person.id_number})
    # then both reads are in the audit chain, naming the record but no personal data
    viewed = AuditRecord.objects.get(action="registries.person.viewed")
    searched = AuditRecord.objects.get(action="registries.person.searched")
    assert viewed.actor == police.audit_name and viewed.target == f"person:{person.pk}"
    assert searched.details["records"] == [f"person:{person.pk}"]
    assert person.id_number not in json.dumps([viewed.details, searched.details])


def test_an_outsiders_failed_read_is_not_recorded_as_an_access(population, outsider):
    response = _client(outsider).get(f"{BASE}/persons/{population[0].pk}")
    assert response.status_code == 404
    assert not AuditRecord.objects.filter(action="registries.person.viewed").exists()
