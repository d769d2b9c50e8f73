"""Registering and amending persons: validation, authorization, history and audit."""

from __future__ import annotations

from datetime import date

import pytest

from tongban.kernel.audit import verify_chain
from tongban.kernel.masking import mask_id_number
from tongban.kernel.models import AuditRecord
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied
from tongban.registries import services
from tongban.registries.models import Person, RecordChange

from .builders import SYSTEM, make_person, valid_id_number

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int]:
    return Person.objects.count(), RecordChange.objects.count(), AuditRecord.objects.count()


def _register(actor=SYSTEM, **overrides):
    values = {
        "id_number": valid_id_number(), "name": "王芳", "sex": "male", "birth_date": date(1990, 3, 7),
        "address_region": "330106", "reason": "Household registration",
    }
    values.update(overrides)
    return services.register_person(actor=actor, **values)


# -- registration ---------------------------------------------------------------------------------


def test_owner_officer_registers_a_person_with_history_and_one_audit_record(police):
    # given
    number = valid_id_number(sex="female", birth_date=date(1988, 12, 1))
    audit_before = AuditRecord.objects.count()
    # when
    person = _register(police, id_number=number, sex="female", birth_date=date(1988, 12, 1))
    # then
    assert person.id_number == number
    assert person.status == Person.Status.LIVING
    assert person.nationality == "CHN"
    change = person.history.get()
    assert change.kind == RecordChange.Kind.CREATED
    assert change.changed_by == police.audit_name
    assert change.reason == "Household registration"
    assert change.after["id_number"] == mask_id_number(number)
    assert change.after["address_region"] == "330106"
    entry = AuditRecord.objects.get(seq=audit_before + 1)
    assert (entry.action, entry.actor, entry.target) == ("registries.person.registered", police.audit_name,
                                                         f"person:{person.pk}")
    assert number not in str(entry.details) and "王芳" not in str(entry.details)
    assert AuditRecord.objects.count() == audit_before + 1
    assert verify_chain() is None


def test_id_number_is_normalized_before_it_is_stored(registries):
    number = valid_id_number()
    person = _register(id_number=f" {number[:6]} {number[6:14]} {number[14:].lower()} ")
    assert person.id_number == number


def test_a_person_born_before_their_area_code_existed_is_accepted(registries):
    # stdnum's ric.validate refuses 330102 before 1983, but numbers carry the
    # code of the place of issue, so such numbers are genuine.
    number = valid_id_number(area="330102", birth_date=date(1950, 6, 1), sex="female")
    person = _register(id_number=number, sex="female", birth_date=date(1950, 6, 1))
    assert person.birth_date == date(1950, 6, 1)


def _with_wrong_check_digit(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


@pytest.mark.parametrize(
    "mangle, message",
    [
        (_with_wrong_check_digit, "check digit"),
        (lambda number: number[:-1], "17 digits"),
        (lambda number: number[:10] + "1332" + number[14:], "birth date"),
        (lambda number: "999999" + number[6:], "area code"),
    ],
    ids=["bad-checksum", "too-short", "impossible-date", "unknown-area"],
)
def test_invalid_id_numbers_are_refused_and_nothing_is_written(registries, mangle, message):
    # given a number made invalid (with its check digit recomputed where the test is not about it)
    from stdnum.cn import ric

    number = mangle(valid_id_number())
    if message in ("birth date", "area code"):
        number = number[:17] + ric.calc_check_digit(number)
    before = _counts()
    # when / then
    with pytest.raises(InvalidInput, match=message) as caught:
        _register(id_number=number)
    assert caught.value.extensions["field"] == "id_number"
    assert str(caught.value).startswith("The ID number is not valid")
    assert _counts() == before


def test_birth_date_that_disagrees_with_the_number_is_refused(registries):
    before = _counts()
    with pytest.raises(InvalidInput, match="birth date does not match") as caught:
        _register(id_number=valid_id_number(birth_date=date(1990, 3, 7)), birth_date=date(1990, 3, 8))
    assert caught.value.extensions["field"] == "birth_date"
    assert _counts() == before


def test_sex_that_disagrees_with_the_number_is_refused(registries):
    # the 17th digit is odd for men: a man's number registered as a woman
    before = _counts()
    with pytest.raises(InvalidInput, match="sex does not match"):
        _register(id_number=valid_id_number(sex="male"), sex="female")
    assert _counts() == before


def test_a_number_cannot_be_registered_twice(person):
    before = _counts()
    with pytest.raises(InvalidInput, match="already registered"):
        _register(id_number=person.id_number, name="另一人")
    assert _counts() == before


@pytest.mark.parametrize(
    "overrides",
    [{"name": "  "}, {"sex": "unknown"}, {"address_region": "999999"}, {"nationality": "China"},
     {"reason": ""}, {"birth_date": "07/03/1990"}],
    ids=["no-name", "bad-sex", "unknown-region", "bad-nationality", "no-reason", "bad-date-format"],
)
def test_other_bad_values_are_refused(registries, overrides):
    before = _counts()
    with pytest.raises(InvalidInput):
        _register(**overrides)
    assert _counts() == before


def test_officer_of_another_department_cannot_register_a_person(outsider):
    before = _counts()
    with pytest.raises(PermissionDenied):
        _register(outsider)
    assert _counts() == before


def test_officer_of_the_entity_registry_cannot_register_a_person(market_officer):
    with pytest.raises(PermissionDenied):
        _register(market_officer)


def test_a_citizen_cannot_register_a_person(person):
    from .builders import make_citizen

    citizen = make_citizen(person, "citizen")
    with pytest.raises(PermissionDenied):
        _register(citizen)


def test_refusal_does_not_reveal_whether_a_number_is_registered(person, outsider):
    # Authorization comes first: an outsider learns nothing from the error.
    with pytest.raises(PermissionDenied):
        _register(outsider, id_number=person.id_number)


def test_registering_without_the_registry_set_up_is_a_conflict(db):
    with pytest.raises(Conflict):
        _register()


# -- amendments -----------------------------------------------------------------------------------


def test_amendment_keeps_who_when_why_and_the_changed_fields_only(person, police):
    # when
    services.amend_person(person, actor=police, changes={"name": "张伟明", "address_region": "330102"},
                          reason="Name change approved")
    # then
    person.refresh_from_db()
    assert (person.name, person.address_region.code) == ("张伟明", "330102")
    change = person.history.order_by("pk").last()
    assert change.kind == RecordChange.Kind.UPDATED
    assert change.before == {"name": "张伟", "address_region": "330106"}
    assert change.after == {"name": "张伟明", "address_region": "330102"}
    assert (change.changed_by, change.reason) == (police.audit_name, "Name change approved")
    entry = AuditRecord.objects.order_by("seq").last()
    assert entry.action == "registries.person.amended"
    assert entry.details == {"registry": "persons", "fields": ["name", "address_region"]}


def test_marking_a_person_deceased_is_an_amendment_of_status(person, police):
    services.amend_person(person, actor=police, changes={"status": "deceased"}, reason="Death certificate 123")
    assert Person.objects.get(pk=person.pk).status == Person.Status.DECEASED
    assert person.history.last().after == {"status": "deceased"}


def test_changing_the_id_number_masks_both_numbers_in_history_and_moves_the_index(person, police):
    # given
    old = person.id_number
    new = valid_id_number(area="330102")
    # when
    services.amend_person(person, actor=police, changes={"id_number": new}, reason="Area code changed")
    # then
    assert services.find_person_by_id_number(new).pk == person.pk
    assert services.find_person_by_id_number(old) is None
    change = person.history.last()
    assert change.before == {"id_number": mask_id_number(old)}
    assert change.after == {"id_number": mask_id_number(new)}
    assert old not in str(change.before) and new not in str(change.after)


def test_amendment_that_breaks_consistency_with_the_number_is_refused(person, police):
    before = _counts()
    with pytest.raises(InvalidInput, match="sex does not match"):
        services.amend_person(person, actor=police, changes={"sex": "female"}, reason="Typo")
    assert _counts() == before
    assert Person.objects.get(pk=person.pk).sex == "male"


def test_amendment_to_another_persons_number_is_refused(person, police):
    other = make_person(name="李强")
    with pytest.raises(InvalidInput, match="already registered"):
        services.amend_person(person, actor=police, changes={"id_number": other.id_number}, reason="Merge")


def test_amendment_of_unknown_fields_is_refused(person, police):
    with pytest.raises(InvalidInput, match="cannot be amended"):
        services.amend_person(person, actor=police, changes={"id_number_index": "x"}, reason="Hack")


def test_amendment_that_changes_nothing_writes_nothing(person, police):
    before = _counts()
    services.amend_person(person, actor=police, changes={"name": " 张伟 "}, reason="Check")
    assert _counts() == before


def test_officer_of_another_department_cannot_amend_a_person(person, outsider):
    before = _counts()
    with pytest.raises(PermissionDenied):
        services.amend_person(person, actor=outsider, changes={"status": "deceased"}, reason="Prank")
    assert _counts() == before
    assert Person.objects.get(pk=person.pk).status == Person.Status.LIVING
