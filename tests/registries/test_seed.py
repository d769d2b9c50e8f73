"""The demo registries: seeded once, re-seeding changes nothing."""

from __future__ import annotations

import pytest

from tongban.demo.people import demo_entities, demo_people, seed_registries
from tongban.kernel.audit import verify_chain
from tongban.kernel.models import AuditRecord, Department
from tongban.registries import services
from tongban.registries.models import LegalEntity, Person, RecordChange, Registry

pytestmark = pytest.mark.django_db


def _state() -> tuple[int, int, int, int, int]:
    return (Registry.objects.count(), Person.objects.count(), LegalEntity.objects.count(),
            RecordChange.objects.count(), AuditRecord.objects.count())


def test_seed_creates_the_registries_and_their_records(org):
    # when
    seed_registries(org, persons=200, entities=30)
    # then
    persons = Registry.objects.get(code=services.PERSON_REGISTRY)
    entities = Registry.objects.get(code=services.ENTITY_REGISTRY)
    assert persons.owner == org.department("330100", Department.Kind.PUBLIC_SECURITY)
    assert entities.owner == org.department("330100", Department.Kind.MARKET_REGULATION)
    assert (Person.objects.count(), LegalEntity.objects.count(), RecordChange.objects.count()) == (200, 30, 230)
    imports = AuditRecord.objects.filter(action__endswith=".imported")
    assert sorted(imports.values_list("action", flat=True)) == ["registries.entities.imported",
                                                                 "registries.persons.imported"]
    assert verify_chain() is None


def test_second_seed_adds_no_rows_and_no_audit_records(org):
    seed_registries(org, persons=100, entities=10)
    before = _state()
    seed_registries(org, persons=100, entities=10)
    assert _state() == before


def test_a_larger_seed_adds_only_the_missing_records(org):
    seed_registries(org, persons=50, entities=5)
    seed_registries(org, persons=80, entities=8)
    assert (Person.objects.count(), LegalEntity.objects.count()) == (80, 8)


def test_demo_people_are_the_seeded_persons(org):
    seed_registries(org, persons=60, entities=6)
    for entry in demo_people()[:50]:
        person = services.match_real_name(name=entry["name"], id_number=entry["id_number"])
        assert person is not None and person.birth_date == entry["birth_date"]


def test_a_demo_business_owner_is_among_the_first_ten_people(org):
    seed_registries(org, persons=60, entities=6)
    first_ten = {entry["id_number"] for entry in demo_people()[:10]}
    entity = LegalEntity.objects.order_by("pk").first()
    assert entity.legal_representative.id_number in first_ten
    assert demo_entities(persons=60)[0]["uscc"] == entity.uscc


def test_seeding_the_default_demo_size_stays_consistent(org):
    seed_registries(org)
    assert (Person.objects.count(), LegalEntity.objects.count()) == (2000, 300)
    assert AuditRecord.objects.filter(action__endswith=".imported").count() == 2
