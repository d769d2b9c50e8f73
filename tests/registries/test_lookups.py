"""Encryption at rest, blind-index lookups and the reads identity relies on."""

from __future__ import annotations

import pytest
from django.db import connection

from tongban.registries import services
from tongban.registries.models import LegalEntity, Person

from .builders import SYSTEM, make_entity, make_person

pytestmark = pytest.mark.django_db


def _raw_row(person: Person) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id_number, id_number_index FROM {Person._meta.db_table} WHERE id = %s", [person.pk]
        )
        return cursor.fetchone()


def test_id_number_is_encrypted_at_rest(person):
    stored, index = _raw_row(person)
    assert person.id_number not in stored
    assert person.id_number[6:14] not in stored  # not even the birth date leaks
    assert person.id_number not in index


def test_two_registrations_never_share_a_ciphertext(registries):
    first, second = make_person(), make_person()
    assert _raw_row(first)[0] != _raw_row(second)[0]


def test_blind_index_finds_the_person_however_the_number_is_written(person):
    number = person.id_number
    assert services.find_person_by_id_number(number) == person
    assert services.find_person_by_id_number(f"{number[:6]} {number[6:14]}-{number[14:]}") == person
    assert services.find_person_by_id_number(number.lower()) == person


def test_lookup_of_an_unknown_or_empty_number_finds_nobody(person):
    assert services.find_person_by_id_number("110101199003071234") is None
    assert services.find_person_by_id_number("") is None


def test_real_name_match_needs_both_name_and_number(person):
    assert services.match_real_name(name="张伟", id_number=person.id_number) == person
    assert services.match_real_name(name=" 张伟 ", id_number=person.id_number.lower()) == person
    assert services.match_real_name(name="张三", id_number=person.id_number) is None
    other = make_person(name="李强")
    assert services.match_real_name(name="张伟", id_number=other.id_number) is None


def test_a_deceased_person_has_no_real_name_match(person):
    services.amend_person(person, actor=SYSTEM, changes={"status": "deceased"}, reason="Death registered")
    assert services.match_real_name(name="张伟", id_number=person.id_number) is None


def test_entities_represented_by_a_person_are_only_theirs(person):
    own = make_entity(person)
    make_entity(make_person(name="李强"), name="宁波海曙贸易有限公司", region="330203")
    assert list(services.entities_represented_by(person)) == [own]


def test_entity_is_found_by_its_code_in_any_spelling(person):
    entity = make_entity(person)
    assert services.find_entity_by_uscc(entity.uscc) == entity
    assert services.find_entity_by_uscc(f"{entity.uscc[:8]} {entity.uscc[8:].lower()}") == entity
    assert services.find_entity_by_uscc("") is None
    assert LegalEntity.objects.count() == 1
