"""A region's catalog as a JSON file: export, import all or nothing, idempotent by code and version."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from jsonschema import Draft202012Validator

from tests.services.conftest import BUSINESS_REGISTRATION, document, new_definition
from tongban.kernel.models import AuditRecord
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied
from tongban.services import selectors
from tongban.services import services as services
from tongban.services.models import LifeEvent, ServiceItem

pytestmark = pytest.mark.django_db


def test_the_catalog_schema_is_a_valid_json_schema_and_the_demo_matches_it():
    Draft202012Validator.check_schema(services.catalog_schema())

    assert not list(Draft202012Validator(services.catalog_schema()).iter_errors(document()))


def test_importing_the_demo_catalog_twice_changes_nothing_the_second_time(references, platform_admin):
    first = services.import_catalog(document(), actor=platform_admin)
    assert len(first.created) == 16 and first.life_events == ["birth", "start-a-business", "after-death"]
    before = AuditRecord.objects.count()

    second = services.import_catalog(json.dumps(document(), ensure_ascii=False), actor=platform_admin)

    assert (second.created, second.updated, len(second.unchanged), second.life_events) == ([], [], 16, [])
    assert AuditRecord.objects.count() == before


def test_an_export_imports_into_an_empty_catalog_as_it_was(catalog, platform_admin):
    # given the region's catalog exported, then emptied
    exported = selectors.export_catalog(platform_admin, "330100")
    LifeEvent.objects.all().delete()
    ServiceItem.objects.all().delete()

    # when the file is imported
    again = services.import_catalog(json.dumps(exported, ensure_ascii=False), actor=platform_admin)

    # then the catalog is as it was: the same export, every material with its source
    assert len(again.created) == 16
    assert {**selectors.export_catalog(platform_admin, "330100"), "exported_at": ""} == {**exported, "exported_at": ""}
    business = next(item for item in exported["items"] if item["code"] == BUSINESS_REGISTRATION)
    assert business["materials"][0]["source"] == {
        "kind": "registry", "resource": "hz-persons", "fields": ["id_number", "name", "status"]}
    assert business["result"] == {"kind": "licence", "licence_type": "business-licence"}


def test_a_higher_version_updates_the_item(catalog, platform_admin):
    changed = document()
    item = next(i for i in changed["items"] if i["code"] == BUSINESS_REGISTRATION)
    item.update(version=2, promised_days=2)

    result = services.import_catalog(changed, actor=platform_admin)

    assert result.updated == [BUSINESS_REGISTRATION]
    stored = ServiceItem.objects.get(code=BUSINESS_REGISTRATION)
    assert (stored.version, stored.promised_days) == (2, 2)


def test_same_version_with_other_content_or_an_older_version_is_refused(catalog, platform_admin):
    changed = document()
    next(i for i in changed["items"] if i["code"] == BUSINESS_REGISTRATION)["promised_days"] = 2

    with pytest.raises(Conflict) as refused:
        services.import_catalog(changed, actor=platform_admin)

    assert refused.value.extensions["errors"][0]["code"] == BUSINESS_REGISTRATION
    assert ServiceItem.objects.get(code=BUSINESS_REGISTRATION).promised_days == 1


def test_one_bad_item_rolls_back_the_whole_import(references, platform_admin):
    # given a file whose last item promises more days than the law allows
    bad = document()
    bad["items"][-1]["promised_days"] = 99
    before = AuditRecord.objects.count()

    # when it is imported
    with pytest.raises(InvalidInput) as refused:
        services.import_catalog(bad, actor=platform_admin)

    # then nothing is imported, and the report names the item and the element
    errors = refused.value.extensions["errors"]
    assert [(e["item"], e["field"]) for e in errors] == [(15, "promised_days")]
    assert not ServiceItem.objects.exists() and not LifeEvent.objects.exists()
    assert AuditRecord.objects.count() == before


def test_a_life_event_naming_an_unknown_item_rolls_back_the_import(references, platform_admin):
    bad = document()
    bad["life_events"][0]["items"].append("330100-X-XX-9999")

    with pytest.raises(InvalidInput) as refused:
        services.import_catalog(bad, actor=platform_admin)

    assert refused.value.extensions["errors"][0]["life_event"] == 0
    assert not ServiceItem.objects.exists()


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe", json.dumps({"format": "other"}).encode(),
                                     json.dumps({**document(), "region": "999999"}).encode()])
def test_a_file_that_is_not_a_catalog_is_refused(references, platform_admin, content):
    with pytest.raises(InvalidInput):
        services.import_catalog(content, actor=platform_admin)

    assert not ServiceItem.objects.exists()


def test_a_department_admin_imports_only_their_departments_items(references, market_admin):
    # the whole demo catalog names other departments and life events: refused as a whole
    with pytest.raises(PermissionDenied) as refused:
        services.import_catalog(document(), actor=market_admin)
    assert {e["code"] for e in refused.value.extensions["errors"]} >= {"330100-A-QR-0001", ""}
    assert not ServiceItem.objects.exists()

    # a file of their own department's items goes in
    own = document(items=[new_definition()], life_events=[])
    assert services.import_catalog(own, actor=market_admin).created == ["330100-C-XK-9001"]


@pytest.mark.parametrize("outsider", ["police_admin", "market_window", "citizen"])
def test_an_outsider_imports_nothing(references, request, outsider):
    with pytest.raises(PermissionDenied):
        services.import_catalog(document(items=[new_definition()], life_events=[]),
                                actor=request.getfixturevalue(outsider))

    assert not ServiceItem.objects.exists()


def test_a_department_admin_exports_only_their_departments_items(catalog, market_admin, citizen):
    exported = selectors.export_catalog(market_admin, "330100")

    assert [i["code"] for i in exported["items"]] == ["330100-C-XK-0001", "330100-C-XK-0002"]
    assert exported["life_events"] == []
    assert selectors.export_catalog(citizen, "330100")["items"] == []


def test_the_command_exports_and_imports_a_file(references, tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(document(), ensure_ascii=False), encoding="utf-8")
    out = StringIO()

    call_command("services", "import", str(path), stdout=out)
    assert "16 created" in out.getvalue()
    call_command("services", "export", "330100", "-o", str(tmp_path / "out.json"), stdout=StringIO())
    exported = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert len(exported["items"]) == 16

    path.write_text("[]", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("services", "import", str(path), stdout=StringIO(), stderr=StringIO())
