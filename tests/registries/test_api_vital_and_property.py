"""The vital-event and parcel routes: scoped reads, writes through the services, problem+json errors."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client

from tongban.registries.models import OwnershipShare, Parcel, VitalEvent

from .builders import (
    certificate_number,
    make_citizen,
    make_entity,
    make_parcel,
    make_person,
    make_vital_event,
    parcel_code,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/registries"
PROBLEM = "application/problem+json"


def _client(account=None) -> Client:
    client = Client()
    if account is not None:
        client.force_login(account)
    return client


def _post(client: Client, path: str, body: dict):
    return client.post(path, data=json.dumps(body), content_type="application/json")


def test_health_officer_registers_a_death_by_id_number(health_officer, vital_registries):
    # given
    person = make_person()
    # when
    response = _post(_client(health_officer), f"{BASE}/vital-events", {
        "kind": "death", "occurred_on": "2025-01-02", "place": "330106", "subject": person.id_number,
        "certificate_number": certificate_number(), "reason": "Death certificate",
    })
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["subject_id"], body["place"]) == ("death", person.pk, "330106")
    assert person.id_number not in response.content.decode()
    person.refresh_from_db()
    assert person.status == "deceased"
    listed = _client(health_officer).get(f"{BASE}/vital-events").json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert _client(health_officer).get(f"{BASE}/vital-events/{body['id']}").status_code == 200


def test_registering_an_event_of_another_department_is_a_403_problem(civil_officer, vital_registries):
    person = make_person()
    response = _post(_client(civil_officer), f"{BASE}/vital-events", {
        "kind": "death", "occurred_on": "2025-01-02", "place": "330106", "subject": person.id_number,
        "certificate_number": certificate_number(), "reason": "Death certificate",
    })
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
    assert VitalEvent.objects.count() == 0


def test_an_unknown_person_is_a_422_problem_and_nothing_is_registered(health_officer, vital_registries):
    response = _post(_client(health_officer), f"{BASE}/vital-events", {
        "kind": "death", "occurred_on": "2025-01-02", "place": "330106", "subject": "110101199003071234",
        "certificate_number": certificate_number(), "reason": "Death certificate",
    })
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert response.json()["field"] == "subject"
    assert VitalEvent.objects.count() == 0


def test_outsider_sees_no_events_and_no_parcels(outsider, health_officer, vital_registries):
    person = make_person()
    event = make_vital_event("death", person)
    parcel = make_parcel([(make_person(), 1)])
    client = _client(outsider)
    assert client.get(f"{BASE}/vital-events").json() == {"items": [], "count": 0}
    assert client.get(f"{BASE}/parcels").json() == {"items": [], "count": 0}
    for path in (f"{BASE}/vital-events/{event.pk}", f"{BASE}/parcels/{parcel.pk}"):
        response = client.get(path)
        assert (response.status_code, response["Content-Type"]) == (404, PROBLEM)
    response = _post(client, f"{BASE}/parcels/{parcel.pk}/transfers",
                     {"owners": [{"person": person.id_number, "share": "1"}], "on": "2025-01-01", "reason": "x"})
    assert response.status_code == 404
    assert OwnershipShare.objects.filter(parcel=parcel).count() == 1


def test_land_officer_registers_and_transfers_a_parcel(land_officer, vital_registries):
    # given
    alice, bob = make_person(name="王芳", sex="female"), make_person(name="李强")
    company = make_entity(bob)
    client = _client(land_officer)
    # when
    response = _post(client, f"{BASE}/parcels", {
        "location_code": parcel_code(), "region": "330106", "area": "99.90", "use": "residential",
        "owners": [{"person": alice.id_number, "share": "1/2"}, {"person": bob.id_number, "share": "0.5"}],
        "acquired_on": "2018-01-01", "reason": "First registration",
    })
    assert response.status_code == 201, response.content
    parcel_id = response.json()["id"]
    transfer = _post(client, f"{BASE}/parcels/{parcel_id}/transfers", {
        "owners": [{"entity": company.uscc, "share": "1"}], "on": "2024-06-01", "reason": "Sold",
    })
    # then
    assert transfer.status_code == 200, transfer.content
    assert [(s["holder"], s["share"]) for s in transfer.json()["shares"]] == [(f"entity:{company.pk}", "1/1")]
    past = client.get(f"{BASE}/parcels/{parcel_id}", {"on": "2020-01-01"}).json()
    assert sorted(s["holder"] for s in past["shares"]) == sorted([f"person:{alice.pk}", f"person:{bob.pk}"])
    assert past["area"] == "99.90"
    assert alice.id_number not in str(past)


def test_shares_not_adding_up_are_a_422_problem(land_officer, vital_registries):
    alice = make_person()
    response = _post(_client(land_officer), f"{BASE}/parcels", {
        "location_code": parcel_code(), "region": "330106", "area": "99", "use": "residential",
        "owners": [{"person": alice.id_number, "share": "1/2"}], "acquired_on": "2018-01-01", "reason": "x",
    })
    assert (response.status_code, response["Content-Type"]) == (422, PROBLEM)
    assert response.json()["field"] == "owners"
    assert Parcel.objects.count() == 0


def test_citizen_sees_their_own_parcels_and_events(civil_officer, vital_registries):
    alice, bob = make_person(name="王芳", sex="female"), make_person(name="李强")
    make_vital_event("marriage", bob, spouse=alice, occurred_on=date(2020, 1, 1))
    mine = make_parcel([(alice, 1)])
    make_parcel([(bob, 1)])
    client = _client(make_citizen(alice, "alice"))
    assert [p["id"] for p in client.get(f"{BASE}/parcels").json()["items"]] == [mine.pk]
    assert client.get(f"{BASE}/vital-events").json()["count"] == 1


def test_parcel_history_says_who_when_and_why_and_is_hidden_from_an_outsider(land_officer, outsider,
                                                                            vital_registries):
    alice, bob = make_person(name="王芳", sex="female"), make_person(name="李强")
    parcel = make_parcel([(alice, 1)])
    _post(_client(land_officer), f"{BASE}/parcels/{parcel.pk}/transfers",
          {"owners": [{"person": bob.id_number, "share": "1"}], "on": "2024-06-01", "reason": "Sold"})
    history = _client(land_officer).get(f"{BASE}/parcels/{parcel.pk}/history").json()
    assert [(c["kind"], c["reason"], c["changed_by"]) for c in history][-1] == (
        "updated", "Sold", land_officer.audit_name)
    assert history[-1]["before"]["owners"] == [{"holder": f"person:{alice.pk}", "share": "1/1"}]
    response = _client(outsider).get(f"{BASE}/parcels/{parcel.pk}/history")
    assert (response.status_code, response["Content-Type"]) == (404, PROBLEM)
