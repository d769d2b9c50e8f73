"""Who sees which records, and who sees whole ID numbers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tongban.kernel.masking import mask_id_number
from tongban.kernel.models import Department
from tongban.kernel.problems import NotFound
from tongban.registries import selectors, services

from .builders import SYSTEM, make_citizen, make_entity, make_person

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class DepartmentSystemDouble:
    """A department system that only carries its department (no department_ids)."""

    department: Department
    audit_name: str = "client:test"


@pytest.fixture
def population(registries):
    alice = make_person(name="王芳", sex="female")
    bob = make_person(name="李强")
    carol = make_person(name="赵敏", sex="female")
    return alice, bob, carol


def test_officer_of_the_owning_department_sees_every_person(population, police):
    assert list(selectors.persons_visible_to(police)) == list(population)


def test_citizen_sees_only_themselves(population):
    alice, bob, _carol = population
    citizen = make_citizen(alice, "alice")
    assert list(selectors.persons_visible_to(citizen)) == [alice]
    with pytest.raises(NotFound):
        selectors.visible_person(citizen, bob.pk)


def test_officer_of_another_department_sees_nobody(population, outsider, market_officer):
    assert not selectors.persons_visible_to(outsider).exists()
    # Owning the legal-entity registry does not open the population registry.
    assert not selectors.persons_visible_to(market_officer).exists()
    with pytest.raises(NotFound):
        selectors.person_history(outsider, population[0].pk)


def test_anonymous_sees_nothing(population):
    person = population[0]
    make_entity(person)
    assert not selectors.persons_visible_to(None).exists()
    assert not selectors.entities_visible_to(None).exists()


def test_platform_sees_everything(population):
    assert selectors.persons_visible_to(SYSTEM).count() == 3


def test_department_system_acts_for_its_department(population, org):
    owner = DepartmentSystemDouble(org.department("330100", Department.Kind.PUBLIC_SECURITY))
    other = DepartmentSystemDouble(org.department("330200", Department.Kind.PUBLIC_SECURITY))
    assert selectors.persons_visible_to(owner).count() == 3
    assert not selectors.persons_visible_to(other).exists()
    services.amend_person(population[0], actor=owner, changes={"name": "王芳芳"}, reason="Correction")


def test_lookup_by_id_number_stays_inside_the_scope(population, police, outsider):
    alice = population[0]
    assert list(selectors.persons_visible_to(police, id_number=alice.id_number.lower())) == [alice]
    assert not selectors.persons_visible_to(outsider, id_number=alice.id_number).exists()


def test_entities_are_seen_by_the_owning_department_and_by_their_representative(population, market_officer,
                                                                              police, outsider):
    alice, bob, _carol = population
    alices = make_entity(alice)
    bobs = make_entity(bob, name="杭州恒信贸易有限公司")
    citizen = make_citizen(alice, "alice")
    assert list(selectors.entities_visible_to(market_officer)) == [alices, bobs]
    assert list(selectors.entities_visible_to(citizen)) == [alices]
    assert not selectors.entities_visible_to(police).exists()
    assert not selectors.entities_visible_to(outsider).exists()
    with pytest.raises(NotFound):
        selectors.visible_entity(citizen, bobs.pk)


def test_whole_numbers_only_for_roles_that_need_them(population, police, police_data_officer, outsider):
    alice = population[0]
    citizen = make_citizen(alice, "alice")
    assert selectors.present_id_number(alice, police) == alice.id_number
    assert selectors.present_id_number(alice, police_data_officer) == mask_id_number(alice.id_number)
    assert selectors.present_id_number(alice, citizen) == mask_id_number(alice.id_number)
    assert selectors.present_id_number(alice, outsider) == alice.id_number  # role permits; scope decides
    assert selectors.present_id_number(alice, None) == mask_id_number(alice.id_number)
