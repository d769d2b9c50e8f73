"""The demo vital events and parcels: chosen by the seed, registered through the services, seeded once."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tongban.demo.people import demo_people, seed_registries
from tongban.demo.vital import seed_vital_and_property
from tongban.kernel.audit import verify_chain
from tongban.kernel.models import AuditRecord, Department
from tongban.registries import services
from tongban.registries.models import (
    OwnershipShare,
    Parcel,
    Person,
    RecordChange,
    Registry,
    VitalEvent,
)

pytestmark = pytest.mark.django_db


def _state() -> tuple[int, ...]:
    return (Registry.objects.count(), VitalEvent.objects.count(), Parcel.objects.count(),
            OwnershipShare.objects.count(), RecordChange.objects.count(), AuditRecord.objects.count())


@pytest.fixture
def seeded(org):
    seed_registries(org, persons=300, entities=30)
    seed_vital_and_property(org)
    return org


def test_seed_registers_births_marriages_one_death_and_parcels(seeded):
    org = seeded
    owners = {code: Registry.objects.get(code=code).owner for code in (
        services.BIRTH_DEATH_REGISTRY, services.MARRIAGE_REGISTRY, services.PROPERTY_REGISTRY)}
    assert owners[services.BIRTH_DEATH_REGISTRY] == org.department("330100", Department.Kind.HEALTH)
    assert owners[services.MARRIAGE_REGISTRY] == org.department("330100", Department.Kind.CIVIL_AFFAIRS)
    assert owners[services.PROPERTY_REGISTRY] == org.department("330100", Department.Kind.NATURAL_RESOURCES)
    kinds = sorted(VitalEvent.objects.values_list("kind", flat=True))
    assert kinds.count("birth") == 5 and kinds.count("marriage") == 5 and kinds.count("death") == 1
    deceased = Person.objects.get(status=Person.Status.DECEASED)
    assert deceased == VitalEvent.objects.get(kind="death").subject
    demo_numbers = {row["id_number"] for row in demo_people()}
    assert deceased.id_number not in demo_numbers
    assert Parcel.objects.count() == 50
    for parcel in Parcel.objects.all():
        shares = services.parcel_shares(parcel)
        assert sum(Fraction(s.numerator, s.denominator) for s in shares) == 1
    assert OwnershipShare.objects.filter(holder_entity__isnull=False).exists()
    assert OwnershipShare.objects.filter(holder_person__isnull=False).exists()
    assert verify_chain() is None


def test_second_seed_writes_nothing(seeded):
    before = _state()
    seed_vital_and_property(seeded)
    assert _state() == before
