"""Reading a registry record "as of" a past moment, rebuilt from its history."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tongban.kernel.masking import mask_id_number
from tongban.registries import services
from tongban.registries.models import Person

from .builders import make_entity, make_person, valid_id_number

pytestmark = pytest.mark.django_db

BASE = "/api/v1/registries"


def _client(account) -> Client:
    client = Client()
    client.force_login(account)
    return client


def test_person_as_of_gives_the_fields_as_they_were(police, registries):
    # given
    person = make_person(name="张伟", address_region="330106")
    registered = timezone.now()
    services.amend_person(person, actor=police, changes={"name": "张大伟", "address_region": "330102"},
                          reason="Name change registered")
    renamed = timezone.now()
    services.amend_person(person, actor=police, changes={"status": "deceased"}, reason="Death registered")
    # when
    then = services.person_as_of(person, registered)
    later = services.person_as_of(person, renamed)
    # then
    assert (then.name, then.address_region.code, then.status) == ("张伟", "330106", "living")
    assert (later.name, later.address_region.code, later.status) == ("张大伟", "330102", "living")
    assert services.person_as_of(person, timezone.now()).status == "deceased"
    assert then.id_number == person.id_number
    person.refresh_from_db()
    assert (person.name, person.status) == ("张大伟", "deceased")  # reading never writes


def test_person_as_of_before_registration_is_none(registries):
    before = timezone.now() - timedelta(seconds=1)
    person = make_person()
    assert services.person_as_of(person, before) is None


def test_a_corrected_id_number_keeps_the_current_number_in_the_past_view(police, registries):
    person = make_person(birth_date=date(1990, 3, 7))
    registered = timezone.now()
    new_number = valid_id_number(birth_date=date(1990, 3, 7))
    services.amend_person(person, actor=police, changes={"id_number": new_number}, reason="Number corrected")
    assert services.person_as_of(person, registered).id_number == new_number


def test_entity_as_of_gives_the_representative_and_status_of_then(market_officer, registries):
    first, second = make_person(name="李强"), make_person(name="王芳", sex="female")
    entity = make_entity(first, name="杭州甲公司")
    registered = timezone.now()
    services.amend_entity(entity, actor=market_officer,
                          changes={"legal_representative": second, "status": "suspended", "name": "杭州乙公司"},
                          reason="Change registered")
    then = services.entity_as_of(entity, registered)
    assert (then.name, then.legal_representative, then.status) == ("杭州甲公司", first, "active")


def test_api_reads_a_person_as_of_a_date(police, registries):
    person = make_person(name="张伟")
    registered = timezone.now()
    services.amend_person(person, actor=police, changes={"name": "张大伟"}, reason="Name change")
    client = _client(police)
    body = client.get(f"{BASE}/persons/{person.pk}", {"as_of": registered.isoformat()}).json()
    assert (body["name"], body["id_number"]) == ("张伟", person.id_number)
    assert client.get(f"{BASE}/persons/{person.pk}").json()["name"] == "张大伟"


def test_api_as_of_before_registration_is_a_404_problem(police, registries):
    person = make_person()
    response = _client(police).get(f"{BASE}/persons/{person.pk}", {"as_of": "2000-01-01T00:00:00Z"})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_api_bad_as_of_is_a_problem(police, registries):
    person = make_person()
    response = _client(police).get(f"{BASE}/persons/{person.pk}", {"as_of": "last tuesday"})
    assert response.status_code in (400, 422)
    assert response["Content-Type"] == "application/problem+json"


def test_api_reads_an_entity_as_of_a_date(market_officer, registries):
    entity = make_entity(make_person())
    registered = timezone.now()
    services.amend_entity(entity, actor=market_officer, changes={"status": "suspended"}, reason="Suspended")
    body = _client(market_officer).get(f"{BASE}/entities/{entity.pk}", {"as_of": registered.isoformat()}).json()
    assert body["status"] == "active"


def test_outsider_cannot_read_the_past_either(outsider, registries):
    person = make_person()
    entity = make_entity(person)
    client = _client(outsider)
    for path in (f"{BASE}/persons/{person.pk}", f"{BASE}/entities/{entity.pk}"):
        response = client.get(path, {"as_of": timezone.now().isoformat()})
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
    assert mask_id_number(person.id_number) not in response.content.decode()
    assert Person.objects.get(pk=person.pk).name == person.name
