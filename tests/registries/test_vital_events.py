"""Vital events: births and deaths by health, marriages and divorces by civil affairs."""

from __future__ import annotations

from datetime import date

import pytest

from tongban.kernel.models import AuditRecord
from tongban.kernel.problems import InvalidInput, PermissionDenied
from tongban.registries import services
from tongban.registries.models import Person, RecordChange, VitalEvent

from .builders import certificate_number, make_citizen, make_person, make_vital_event

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int]:
    return (VitalEvent.objects.count(), RecordChange.objects.count(), AuditRecord.objects.count(),
            Person.objects.filter(status=Person.Status.DECEASED).count())


@pytest.fixture
def couple(vital_registries):
    return make_person(name="李强", sex="male"), make_person(name="王芳", sex="female", birth_date=date(1992, 8, 1))


def test_health_registers_a_birth_with_the_parents(health_officer, couple):
    # given
    father, mother = couple
    child = make_person(name="李小龙", birth_date=date(2024, 2, 29))
    # when
    event = services.register_vital_event(
        actor=health_officer, kind="birth", occurred_on=date(2024, 2, 29), place="330106", subject=child,
        mother=mother, father=father, certificate_number="p330106-2024-0001", reason="Birth certificate issued",
    )
    # then
    event.refresh_from_db()
    assert (event.kind, event.subject, event.mother, event.father) == ("birth", child, mother, father)
    assert event.certificate_number == "P330106-2024-0001"
    assert event.department == health_officer.appointments.first().department
    assert event.registered_by == health_officer.audit_name
    entry = AuditRecord.objects.order_by("seq").last()
    assert (entry.action, entry.target) == ("registries.vital_event.registered", f"vital_event:{event.pk}")
    assert entry.details["kind"] == "birth"
    assert sorted(entry.details["persons"]) == sorted(f"person:{p.pk}" for p in (child, mother, father))


def test_registered_death_marks_the_person_deceased_with_history(health_officer, vital_registries):
    # given
    person = make_person(name="赵敏", sex="female")
    # when
    event = services.register_vital_event(
        actor=health_officer, kind="death", occurred_on="2025-01-02", place="330102", subject=person,
        certificate_number=certificate_number(), reason="Death certificate from the hospital",
    )
    # then
    person.refresh_from_db()
    assert person.status == Person.Status.DECEASED
    change = RecordChange.objects.filter(person=person).order_by("pk").last()
    assert (change.kind, change.before, change.after) == ("updated", {"status": "living"}, {"status": "deceased"})
    assert (change.changed_by, change.reason) == (health_officer.audit_name, "Death certificate from the hospital")
    # one audit record for the whole registration
    assert AuditRecord.objects.filter(action="registries.person.amended").count() == 0
    assert AuditRecord.objects.filter(action="registries.vital_event.registered", target=f"vital_event:{event.pk}").count() == 1


def test_a_second_death_is_refused_and_changes_nothing(health_officer, vital_registries):
    person = make_person()
    make_vital_event("death", person, actor=health_officer)
    before = _counts()
    with pytest.raises(InvalidInput) as caught:
        make_vital_event("death", person, actor=health_officer)
    assert caught.value.extensions["field"] == "subject"
    assert _counts() == before


def test_civil_affairs_registers_a_marriage_and_refuses_a_second_one(civil_officer, couple):
    # given
    husband, wife = couple
    other = make_person(name="周杰", sex="male", birth_date=date(1988, 1, 1))
    make_vital_event("marriage", husband, actor=civil_officer, spouse=wife, occurred_on=date(2020, 5, 20))
    assert services.current_spouse_id(wife) == husband.pk
    before = _counts()
    # when / then
    with pytest.raises(InvalidInput) as caught:
        make_vital_event("marriage", other, actor=civil_officer, spouse=wife)
    assert caught.value.extensions["field"] == "spouse"
    assert "already married" in caught.value.detail
    assert _counts() == before


def test_after_a_divorce_a_person_may_marry_again(civil_officer, couple):
    husband, wife = couple
    other = make_person(name="周杰", sex="male", birth_date=date(1988, 1, 1))
    make_vital_event("marriage", husband, actor=civil_officer, spouse=wife, occurred_on=date(2018, 5, 20))
    make_vital_event("divorce", wife, actor=civil_officer, spouse=husband, occurred_on=date(2022, 3, 1))
    assert services.current_spouse_id(wife) is None
    make_vital_event("marriage", wife, actor=civil_officer, spouse=other, occurred_on=date(2024, 10, 1))
    assert services.current_spouse_id(wife) == other.pk
    assert services.current_spouse_id(husband) is None


def test_death_of_a_spouse_ends_the_marriage(civil_officer, health_officer, couple):
    husband, wife = couple
    make_vital_event("marriage", husband, actor=civil_officer, spouse=wife, occurred_on=date(2018, 5, 20))
    make_vital_event("death", husband, actor=health_officer, occurred_on=date(2023, 1, 1))
    assert services.current_spouse_id(wife) is None


def test_divorce_of_persons_not_married_to_each_other_is_refused(civil_officer, couple):
    husband, wife = couple
    before = _counts()
    with pytest.raises(InvalidInput) as caught:
        make_vital_event("divorce", husband, actor=civil_officer, spouse=wife)
    assert caught.value.extensions["field"] == "spouse"
    assert _counts() == before


def test_marriage_under_the_legal_age_is_refused(civil_officer, couple):
    husband, _wife = couple
    young = make_person(name="小红", sex="female", birth_date=date(2006, 1, 1))
    with pytest.raises(InvalidInput) as caught:
        make_vital_event("marriage", husband, actor=civil_officer, spouse=young, occurred_on=date(2025, 1, 1))
    assert caught.value.extensions["field"] == "spouse"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "adoption"}, "kind"),
        ({"occurred_on": "2024-13-01"}, "occurred_on"),
        ({"occurred_on": date(2999, 1, 1)}, "occurred_on"),
        ({"occurred_on": date(1950, 1, 1)}, "occurred_on"),
        ({"place": "999999"}, "place"),
        ({"certificate_number": "no spaces"}, "certificate_number"),
        ({"subject": "someone"}, "subject"),
        ({"spouse": "partner"}, "spouse"),
        ({"reason": " "}, "reason"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(health_officer, vital_registries, changes, field):
    person = make_person()
    arguments = {"actor": health_officer, "kind": "death", "occurred_on": date(2024, 1, 1), "place": "330106",
                 "subject": person, "certificate_number": certificate_number(), "reason": "Certificate"}
    arguments.update(changes)
    before = _counts()
    with pytest.raises(InvalidInput) as caught:
        services.register_vital_event(**arguments)
    assert caught.value.extensions["field"] == field
    assert _counts() == before


def test_a_reused_certificate_number_is_refused(health_officer, vital_registries):
    first, second = make_person(), make_person()
    number = certificate_number()
    services.register_vital_event(actor=health_officer, kind="death", occurred_on=date(2024, 1, 1),
                                  place="330106", subject=first, certificate_number=number, reason="Certificate")
    with pytest.raises(InvalidInput) as caught:
        services.register_vital_event(actor=health_officer, kind="death", occurred_on=date(2024, 1, 1),
                                      place="330106", subject=second, certificate_number=number,
                                      reason="Certificate")
    assert caught.value.extensions["field"] == "certificate_number"
    second.refresh_from_db()
    assert second.status == Person.Status.LIVING


def test_birth_date_must_match_and_parents_must_fit(health_officer, couple):
    father, mother = couple
    child = make_person(birth_date=date(2024, 2, 29))
    with pytest.raises(InvalidInput) as caught:
        make_vital_event("birth", child, actor=health_officer, occurred_on=date(2024, 3, 1))
    assert caught.value.extensions["field"] == "occurred_on"
    with pytest.raises(InvalidInput) as caught:
        make_vital_event("birth", child, actor=health_officer, occurred_on=date(2024, 2, 29), mother=father)
    assert caught.value.extensions["field"] == "mother"
    with pytest.raises(InvalidInput) as caught:
        make_vital_event("death", child, actor=health_officer, mother=mother)
    assert caught.value.extensions["field"] == "mother"


def test_only_the_owning_department_registers_each_kind(health_officer, civil_officer, couple, outsider):
    husband, wife = couple
    before = _counts()
    for actor, kind, extra in (
        (civil_officer, "death", {}),
        (health_officer, "marriage", {"spouse": wife}),
        (outsider, "death", {}),
        (outsider, "marriage", {"spouse": wife}),
    ):
        with pytest.raises(PermissionDenied):
            make_vital_event(kind, husband, actor=actor, **extra)
    assert _counts() == before


def test_events_are_seen_by_the_owner_and_the_persons_named_but_not_by_an_outsider(
    health_officer, civil_officer, couple, outsider
):
    husband, wife = couple
    marriage = make_vital_event("marriage", husband, actor=civil_officer, spouse=wife, occurred_on=date(2020, 1, 1))
    stranger = make_person(name="陈明")
    death = make_vital_event("death", stranger, actor=health_officer)
    assert list(services.vital_events_visible_to(civil_officer)) == [marriage]
    assert list(services.vital_events_visible_to(health_officer)) == [death]
    assert list(services.vital_events_visible_to(make_citizen(wife, "wife"))) == [marriage]
    assert list(services.vital_events_visible_to(outsider)) == []
