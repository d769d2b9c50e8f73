"""``tongban registry-import``: CSV and XLSX files, a per-row report, all or nothing, idempotent re-runs."""

from __future__ import annotations

import csv
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from tongban.kernel.models import AuditRecord
from tongban.kernel.problems import InvalidInput, PermissionDenied
from tongban.registries import services
from tongban.registries.models import LegalEntity, OwnershipShare, Parcel, Person, RecordChange

from .builders import make_entity, make_person, parcel_code, valid_id_number, valid_uscc

pytestmark = pytest.mark.django_db

PERSON_COLUMNS = ["id_number", "name", "sex", "birth_date", "address_region"]


def _person_rows(count: int) -> list[list[str]]:
    return [[valid_id_number(), f"王{i}", "male", "1990-03-07", "330106"] for i in range(count)]


def _write_csv(path, columns, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def _write_xlsx(path, columns, rows):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(columns)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("registry_import", *args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _counts() -> tuple[int, int, int, int]:
    return (Person.objects.count(), LegalEntity.objects.count(), RecordChange.objects.count(),
            AuditRecord.objects.count())


def test_csv_of_persons_is_imported_in_batches(registries, tmp_path):
    # given
    rows = _person_rows(7)
    path = _write_csv(tmp_path / "persons.csv", PERSON_COLUMNS, rows)
    # when
    out, _err = _run("persons", str(path), "--reason", "Migration", "--batch-size", "3")
    # then
    assert "Imported 7 new records" in out
    assert sorted(Person.objects.values_list("name", flat=True)) == sorted(row[1] for row in rows)
    assert AuditRecord.objects.filter(action="registries.persons.imported").count() == 3


def test_xlsx_with_dates_and_numeric_codes_is_imported(registries, tmp_path):
    rows = [[valid_id_number(), "李四", "male", date(1990, 3, 7), 330106]]
    path = _write_xlsx(tmp_path / "persons.xlsx", PERSON_COLUMNS, rows)
    out, _err = _run("persons", str(path), "--reason", "Migration")
    assert "Imported 1 new records" in out
    person = Person.objects.get()
    assert (person.birth_date, person.address_region.code) == (date(1990, 3, 7), "330106")


def test_bad_rows_are_reported_with_file_row_numbers_and_nothing_is_imported(registries, tmp_path):
    # given rows 3 and 6 of the file (after the header) are bad, in different batches
    rows = _person_rows(6)
    rows[1][3] = "1991-01-01"
    rows[4][4] = "999999"
    path = _write_xlsx(tmp_path / "persons.xlsx", PERSON_COLUMNS, rows)
    before = _counts()
    # when
    with pytest.raises(CommandError) as caught:
        out, err = StringIO(), StringIO()
        call_command("registry_import", "persons", str(path), "--reason", "Migration", "--batch-size", "2",
                     "--no-progress", stdout=out, stderr=err)
    # then
    assert "2 of 6 rows are not valid; nothing was imported." in str(caught.value)
    assert "row 3, birth_date:" in err.getvalue()
    assert "row 6, address_region: Unknown region code." in err.getvalue()
    assert _counts() == before


def test_a_rerun_with_skip_registered_adds_only_new_rows(registries, tmp_path):
    rows = _person_rows(3)
    path = _write_csv(tmp_path / "persons.csv", PERSON_COLUMNS, rows)
    _run("persons", str(path), "--reason", "First run")
    before = _counts()
    out, _err = _run("persons", str(path), "--reason", "Second run", "--skip-registered")
    assert "Imported 0 new records" in out
    assert _counts() == before
    with pytest.raises(CommandError):
        _run("persons", str(path), "--reason", "Third run without skipping")
    assert _counts() == before


def test_entities_are_imported_with_their_representative_by_id_number(registries, tmp_path):
    owner = make_person()
    path = _write_csv(
        tmp_path / "entities.csv",
        ["uscc", "name", "entity_type", "legal_representative", "registered_region", "established_on"],
        [[valid_uscc(), "杭州示例有限公司", "company", owner.id_number, "330106", ""]],
    )
    out, _err = _run("legal-entities", str(path), "--reason", "Migration")
    assert "Imported 1 new records" in out
    assert LegalEntity.objects.get().legal_representative == owner


def test_unknown_columns_and_unsupported_files_are_refused(registries, tmp_path):
    path = _write_csv(tmp_path / "persons.csv", [*PERSON_COLUMNS, "phone"], _person_rows(1))
    with pytest.raises(CommandError, match="Unknown columns: phone"):
        _run("persons", str(path), "--reason", "Migration")
    other = tmp_path / "persons.json"
    other.write_text("[]")
    with pytest.raises(CommandError, match=r"\.csv or \.xlsx"):
        _run("persons", str(other), "--reason", "Migration")
    broken = tmp_path / "broken.xlsx"
    broken.write_text("not a workbook")
    with pytest.raises(CommandError, match="cannot be read"):
        _run("persons", str(broken), "--reason", "Migration")
    assert Person.objects.count() == 0


def test_the_progress_bar_counts_the_rows(registries, tmp_path, capsys):
    path = _write_csv(tmp_path / "persons.csv", PERSON_COLUMNS, _person_rows(4))
    call_command("registry_import", "persons", str(path), "--reason", "Migration", stdout=StringIO())
    assert "4/4" in capsys.readouterr().err


def test_import_rows_refuses_an_outsider_before_reading_anything(outsider):
    def rows():
        raise AssertionError("the file must not be read")
        yield  # pragma: no cover

    with pytest.raises(PermissionDenied):
        services.import_rows("persons", rows(), actor=outsider, reason="Migration")
    with pytest.raises(InvalidInput) as caught:
        services.import_rows("vital-events", rows(), actor=outsider, reason="Migration")
    assert caught.value.extensions["field"] == "registry"


def _vital_csv(path, rows):
    return _write_csv(path, ["kind", "occurred_on", "place", "subject", "spouse", "certificate_number"], rows)


def test_marriages_and_divorces_are_imported_in_row_order(civil_officer, tmp_path):
    # given a marriage and, later in the file, its divorce
    husband, wife = make_person(name="李强"), make_person(name="王芳", sex="female")
    path = _vital_csv(tmp_path / "marriages.csv", [
        ["marriage", "2015-05-20", "330106", husband.id_number, wife.id_number, "J330106-2015-001"],
        ["divorce", "2020-01-10", "330106", wife.id_number, husband.id_number, "L330106-2020-001"],
    ])
    # when
    out, _err = _run("marriages", str(path), "--reason", "Paper archive digitized")
    # then
    assert "Imported 2 new records" in out
    assert services.current_spouse_id(husband) is None
    assert AuditRecord.objects.filter(action="registries.vital_events.imported").count() == 1
    out, _err = _run("marriages", str(path), "--reason", "Again", "--skip-registered")
    assert "Imported 0 new records" in out


def test_a_bad_vital_event_row_rolls_back_the_deaths_before_it(health_officer, tmp_path):
    # given row 2 is a good death and row 3 refers to nobody
    person = make_person()
    path = _vital_csv(tmp_path / "deaths.csv", [
        ["death", "2024-01-01", "330106", person.id_number, "", "D-2024-001"],
        ["death", "2024-01-01", "330106", "110101199003071234", "", "D-2024-002"],
        ["marriage", "2024-01-01", "330106", person.id_number, "", "J-2024-001"],
    ])
    before = _counts()
    # when
    with pytest.raises(CommandError, match="2 of 3 rows"):
        err = StringIO()
        call_command("registry_import", "births-deaths", str(path), "--reason", "Archive", "--no-progress",
                     stdout=StringIO(), stderr=err)
    # then
    assert "row 3, subject:" in err.getvalue()
    assert "row 4, kind:" in err.getvalue()
    person.refresh_from_db()
    assert person.status == Person.Status.LIVING
    assert _counts() == before


def test_outsider_cannot_import_vital_events(outsider, vital_registries):
    with pytest.raises(PermissionDenied):
        services.import_vital_events([], actor=outsider, registry_code=services.BIRTH_DEATH_REGISTRY,
                                     reason="Archive")


def test_parcels_are_imported_with_owners_written_in_one_cell(land_officer, tmp_path):
    # given
    alice, bob = make_person(name="王芳", sex="female"), make_person(name="李强")
    company = make_entity(bob)
    columns = ["location_code", "region", "area", "use", "owners", "acquired_on"]
    path = _write_xlsx(tmp_path / "parcels.xlsx", columns, [
        [parcel_code(), 330106, 120.5, "residential", f"person:{alice.id_number}=1/2; person:{bob.id_number}=1/2",
         date(2010, 1, 1)],
        [parcel_code(), "330106", "5000", "industrial", f"entity:{company.uscc}=1", "2012-03-04"],
    ])
    # when
    out, _err = _run("real-property", str(path), "--reason", "Cadastre migration")
    # then
    assert "Imported 2 new records" in out
    assert OwnershipShare.objects.count() == 3
    assert AuditRecord.objects.filter(action="registries.parcels.imported").count() == 1


def test_a_parcel_row_with_shares_not_adding_up_is_reported(land_officer, tmp_path):
    alice = make_person()
    columns = ["location_code", "region", "area", "use", "owners", "acquired_on"]
    path = _write_csv(tmp_path / "parcels.csv", columns, [
        [parcel_code(), "330106", "80", "residential", f"person:{alice.id_number}=1", "2010-01-01"],
        [parcel_code(), "330106", "80", "residential", f"person:{alice.id_number}=1/2", "2010-01-01"],
        [parcel_code(), "330106", "80", "residential", "alice=1", "2010-01-01"],
    ])
    with pytest.raises(CommandError, match="2 of 3 rows"):
        err = StringIO()
        call_command("registry_import", "real-property", str(path), "--reason", "Cadastre", "--no-progress",
                     stdout=StringIO(), stderr=err)
    assert "row 3, owners:" in err.getvalue() and "row 4, owners:" in err.getvalue()
    assert Parcel.objects.count() == 0
