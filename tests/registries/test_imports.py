"""Bulk imports: every row validated first, all or nothing, one audit record per batch."""

from __future__ import annotations

from datetime import date

import pytest

from tongban.kernel.masking import mask_id_number
from tongban.kernel.models import AuditRecord
from tongban.kernel.problems import InvalidInput, PermissionDenied
from tongban.registries import services
from tongban.registries.models import LegalEntity, Person, RecordChange

from .builders import SYSTEM, valid_id_number, valid_uscc

pytestmark = pytest.mark.django_db


def _person_row(**overrides):
    row = {"id_number": valid_id_number(), "name": "王伟", "sex": "male", "birth_date": date(1990, 3, 7),
           "address_region": "330106"}
    row.update(overrides)
    return row


def _counts() -> tuple[int, int, int, int]:
    return (Person.objects.count(), LegalEntity.objects.count(), RecordChange.objects.count(),
            AuditRecord.objects.count())


def test_import_creates_persons_with_history_and_one_audit_record(police):
    # given
    rows = [_person_row() for _ in range(5)]
    audit_before = AuditRecord.objects.count()
    # when
    created = services.import_persons(rows, actor=police, reason="Migration from the old system")
    # then
    assert created == 5
    persons = list(Person.objects.order_by("pk"))
    assert [p.id_number for p in persons] == [row["id_number"] for row in rows]
    assert all(services.find_person_by_id_number(row["id_number"]) for row in rows)
    history = list(RecordChange.objects.order_by("pk"))
    assert [h.person_id for h in history] == [p.pk for p in persons]
    assert history[0].after["id_number"] == mask_id_number(rows[0]["id_number"])
    assert {(h.changed_by, h.reason) for h in history} == {(police.audit_name, "Migration from the old system")}
    assert AuditRecord.objects.count() == audit_before + 1
    entry = AuditRecord.objects.order_by("seq").last()
    assert (entry.action, entry.details["count"]) == ("registries.persons.imported", 5)


def test_one_bad_row_rejects_the_whole_batch_with_a_report_of_row_numbers(police):
    # given rows 2 and 4 are bad, row 5 repeats row 1
    rows = [_person_row() for _ in range(5)]
    rows[1]["id_number"] = rows[1]["id_number"][:-1] + ("0" if rows[1]["id_number"][-1] != "0" else "1")
    rows[3]["birth_date"] = date(1991, 1, 1)
    rows[4]["id_number"] = rows[0]["id_number"]
    before = _counts()
    # when
    with pytest.raises(InvalidInput) as caught:
        services.import_persons(rows, actor=police, reason="Migration")
    # then
    report = caught.value.extensions
    assert [(e["row"], e["field"]) for e in report["errors"]] == [
        (2, "id_number"), (4, "birth_date"), (5, "id_number")
    ]
    assert "row 1" in report["errors"][2]["message"]
    assert report["error_count"] == 3
    assert "3 of 5 rows" in caught.value.detail
    assert _counts() == before


def test_rows_already_registered_are_reported(police):
    existing = _person_row()
    services.import_persons([existing], actor=police, reason="First batch")
    before = _counts()
    with pytest.raises(InvalidInput) as caught:
        services.import_persons([_person_row(), existing], actor=police, reason="Second batch")
    assert caught.value.extensions["errors"] == [
        {"row": 2, "field": "id_number", "message": "A person with this ID number is already registered."}
    ]
    assert _counts() == before


def test_rerun_with_skip_registered_imports_only_new_rows(police):
    first = [_person_row(), _person_row()]
    services.import_persons(first, actor=police, reason="First batch")
    audit_before = AuditRecord.objects.count()
    assert services.import_persons(first, actor=police, reason="Again", skip_registered=True) == 0
    assert AuditRecord.objects.count() == audit_before
    assert services.import_persons([*first, _person_row()], actor=police, reason="More",
                                   skip_registered=True) == 1
    assert Person.objects.count() == 3


def test_unknown_columns_are_refused(police):
    with pytest.raises(InvalidInput) as caught:
        services.import_persons([_person_row(phone="13800000000")], actor=police, reason="Migration")
    assert caught.value.extensions["errors"][0]["field"] == "phone"


def test_officer_of_another_department_cannot_import(outsider):
    before = _counts()
    with pytest.raises(PermissionDenied):
        services.import_persons([_person_row()], actor=outsider, reason="Migration")
    assert _counts() == before


def test_entity_import_finds_representatives_by_id_number(market_officer):
    # given
    owners = [_person_row(), _person_row(name="李娜", sex="female", id_number=valid_id_number(sex="female"))]
    services.import_persons(owners, actor=SYSTEM, reason="Population")
    rows = [
        {"uscc": valid_uscc(), "name": "杭州瑞丰科技有限公司", "entity_type": "company",
         "legal_representative": owners[index]["id_number"].lower(), "registered_region": "330106",
         "established_on": "2018-07-01"}
        for index in (0, 1, 1)
    ]
    audit_before = AuditRecord.objects.count()
    # when
    created = services.import_entities(rows, actor=market_officer, reason="Licences")
    # then
    assert created == 3
    second = services.find_person_by_id_number(owners[1]["id_number"])
    assert services.entities_represented_by(second).count() == 2
    assert RecordChange.objects.filter(entity__isnull=False).count() == 3
    assert AuditRecord.objects.count() == audit_before + 1


def test_entity_import_reports_unknown_representatives_and_bad_codes(market_officer, person):
    code = valid_uscc()
    rows = [
        {"uscc": code, "name": "甲公司", "entity_type": "company", "legal_representative": person.id_number,
         "registered_region": "330106"},
        {"uscc": valid_uscc(), "name": "乙公司", "entity_type": "company",
         "legal_representative": valid_id_number(), "registered_region": "330106"},
        {"uscc": code[:-1] + ("0" if code[-1] != "0" else "1"), "name": "丙公司", "entity_type": "company",
         "legal_representative": person.id_number, "registered_region": "330106"},
        {"uscc": code, "name": "丁公司", "entity_type": "company", "legal_representative": person.id_number,
         "registered_region": "330106"},
    ]
    before = _counts()
    with pytest.raises(InvalidInput) as caught:
        services.import_entities(rows, actor=market_officer, reason="Licences")
    assert [(e["row"], e["field"]) for e in caught.value.extensions["errors"]] == [
        (2, "legal_representative"), (3, "uscc"), (4, "uscc")
    ]
    assert _counts() == before


def test_population_officer_cannot_import_entities(police, person):
    with pytest.raises(PermissionDenied):
        services.import_entities([], actor=police, reason="Licences")
