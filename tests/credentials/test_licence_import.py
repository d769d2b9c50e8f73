"""Legacy licences come in from a file: all rows or none, a per-row report, and re-runs add nothing."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from tests.catalog.fixtures import make_entity, make_officer, make_person
from tests.credentials.test_issue_and_verify import business_fields, published
from tongban.credentials import services as credentials
from tongban.credentials.models import Licence
from tongban.credentials.verify import verify_credential
from tongban.identity.models import Role
from tongban.kernel.models import AuditRecord, Department
from tongban.kernel.problems import InvalidInput, PermissionDenied

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(sealed):
    return sealed(Department.Kind.MARKET_REGULATION)


def legacy_rows(count: int) -> list[dict]:
    rows = []
    for number in range(count):
        entity = make_entity(make_person(), name=f"杭州老字号{number}有限公司")
        fields = business_fields(entity)
        rows.append({"holder": entity.uscc, "reference": f"330100000{number:06d}", "valid_from": "2015-03-01",
                     **fields})
    return rows


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_file_of_legacy_licences_is_issued_and_a_rerun_adds_nothing(market, tmp_path, capsys):
    path = write_csv(tmp_path / "licences.csv", legacy_rows(3))
    call_command("licence_import", "business-licence", str(path), issuer=market.uscc)
    assert "Issued 3 licences" in capsys.readouterr().out
    licences = list(Licence.objects.order_by("reference"))
    assert [licence.reference for licence in licences] == ["330100000000000", "330100000000001", "330100000000002"]
    assert all(timezone.localdate(licence.valid_from).isoformat() == "2015-03-01" for licence in licences)
    assert all(verify_credential(licence.credential, **published()).is_valid for licence in licences)
    assert AuditRecord.objects.get(action="credentials.licences.imported").details["count"] == 3
    # when the same file is imported again
    call_command("licence_import", "business-licence", str(path), issuer=market.uscc)
    # then nothing new is issued
    assert "Issued 0 licences of business-licence (3 already imported)" in capsys.readouterr().out
    assert Licence.objects.count() == 3


def test_one_bad_row_imports_nothing_and_the_report_names_row_and_column(market, tmp_path, capsys):
    rows = legacy_rows(3)
    rows[1]["holder"] = "91330100MA00000000"  # nobody
    rows[2]["established_on"] = "2015-02-30"
    path = write_csv(tmp_path / "licences.csv", rows)
    with translation.override("en"), pytest.raises(CommandError, match="2 of 3 rows are not valid"):
        call_command("licence_import", "business-licence", str(path), issuer=market.uscc)
    report = capsys.readouterr().err
    assert "row 2, holder:" in report and "row 3, fields:" in report and "established_on" in report
    assert not Licence.objects.exists()


def test_duplicate_references_and_unknown_columns_are_reported(market):
    rows = legacy_rows(2)
    rows[1]["reference"] = rows[0]["reference"]
    rows[0]["favourite_colour"] = "red"
    with pytest.raises(InvalidInput) as refused:
        credentials.import_licences(rows, actor=credentials_platform(), licence_type="business-licence",
                                    issuer=market)
    fields = [(error["row"], error["field"]) for error in refused.value.extensions["errors"]]
    assert fields == [(1, "favourite_colour"), (2, "reference")]
    assert not Licence.objects.exists()


def test_only_the_issuing_department_imports(market, org):
    window = make_officer(org, "market-window", kind=Department.Kind.MARKET_REGULATION,
                          roles=[Role.WINDOW_OFFICER])
    with pytest.raises(PermissionDenied):
        credentials.import_licences(legacy_rows(1), actor=window, licence_type="business-licence", issuer=market)
    assert not Licence.objects.exists()


def credentials_platform():
    from tests.credentials.conftest import PLATFORM

    return PLATFORM
