"""Registries without code: defined from a JSON Schema and a key field, records validated and versioned."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from tongban.identity.models import Account
from tongban.kernel.models import AuditRecord, Department
from tongban.kernel.problems import InvalidInput, PermissionDenied
from tongban.registries import services
from tongban.registries.models import DynamicRecord, DynamicRecordVersion, DynamicRegistry, Registry

from .builders import HANGZHOU, SYSTEM

pytestmark = pytest.mark.django_db

BASE = "/api/v1/registries/dynamic-registries"
PROBLEM = "application/problem+json"
SCHEMA = {
    "type": "object",
    "properties": {
        "licence_no": {"type": "string", "pattern": "^[A-Z]{2}[0-9]{6}$"},
        "holder": {"type": "string", "minLength": 1},
        "breed": {"type": "string", "enum": ["dog", "cat"]},
    },
    "required": ["licence_no", "holder", "breed"],
    "additionalProperties": False,
}


def _define(org, **overrides):
    arguments = {"actor": SYSTEM, "code": "pet-licences", "name": "犬只登记", "name_en": "Pet licences",
                 "owner": org.department(HANGZHOU, Department.Kind.PUBLIC_SECURITY), "schema": SCHEMA,
                 "key_field": "licence_no"}
    arguments.update(overrides)
    return services.define_registry(**arguments)


def _record(**overrides):
    data = {"licence_no": "HZ000001", "holder": "person:1", "breed": "dog"}
    data.update(overrides)
    return data


def _client(account) -> Client:
    client = Client()
    client.force_login(account)
    return client


def _counts():
    return (Registry.objects.count(), DynamicRegistry.objects.count(), DynamicRecord.objects.count(),
            DynamicRecordVersion.objects.count(), AuditRecord.objects.count())


@pytest.fixture
def pets(org, registries):
    return _define(org)


def test_platform_defines_a_registry_owned_by_a_department(org, registries):
    definition = _define(org)
    assert definition.registry.code == "pet-licences"
    assert definition.registry.owner == org.department(HANGZHOU, Department.Kind.PUBLIC_SECURITY)
    assert (definition.key_field, definition.version) == ("licence_no", 1)
    assert AuditRecord.objects.order_by("seq").last().action == "registries.dynamic_registry.defined"
    before = _counts()
    assert _define(org) == definition  # the same definition again writes nothing
    assert _counts() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "Pets!"}, "code"),
        ({"code": services.PERSON_REGISTRY}, "code"),
        ({"schema": {"type": "array"}}, "schema"),
        ({"schema": {"type": "object", "properties": {"a": {"type": 5}}}}, "schema"),
        ({"key_field": "owner"}, "schema"),
        ({"schema": {**SCHEMA, "required": ["holder"]}}, "schema"),
    ],
)
def test_bad_definitions_are_refused_and_change_nothing(org, registries, changes, field):
    before = _counts()
    with pytest.raises(InvalidInput) as caught:
        _define(org, **changes)
    assert caught.value.extensions["field"] == field
    assert _counts() == before


def test_an_officer_cannot_define_a_registry(org, police):
    with pytest.raises(PermissionDenied):
        _define(org, actor=police)


def test_records_are_validated_versioned_and_found_by_key(pets, police):
    # given
    record = services.register_record(pets, actor=police, data=_record(), reason="Licence issued")
    created = timezone.now()
    # when
    services.amend_record(record, actor=police, data=_record(breed="cat"), reason="Breed corrected")
    # then
    record.refresh_from_db()
    assert (record.key, record.version, record.data["breed"]) == ("HZ000001", 2, "cat")
    versions = list(record.versions.order_by("version"))
    assert [(v.version, v.data["breed"], v.reason) for v in versions] == [
        (1, "dog", "Licence issued"), (2, "cat", "Breed corrected")]
    assert services.dynamic_record_as_of(record, created).data["breed"] == "dog"
    assert list(services.dynamic_records_visible_to(police, pets, key_prefix="HZ")) == [record]


def test_invalid_records_are_refused_with_each_field_and_change_nothing(pets, police):
    before = _counts()
    with pytest.raises(InvalidInput) as caught:
        services.register_record(pets, actor=police, data={"licence_no": "bad", "breed": "fish", "x": 1},
                                 reason="Licence issued")
    fields = {error["field"] for error in caught.value.extensions["errors"]}
    assert {"licence_no", "breed", "data"} <= fields
    assert _counts() == before


def test_the_key_is_unique_and_never_changes(pets, police):
    record = services.register_record(pets, actor=police, data=_record(), reason="Licence issued")
    with pytest.raises(InvalidInput) as caught:
        services.register_record(pets, actor=police, data=_record(), reason="Again")
    assert caught.value.extensions["field"] == "key"
    with pytest.raises(InvalidInput):
        services.amend_record(record, actor=police, data=_record(licence_no="HZ000002"), reason="Renumber")


def test_a_new_schema_that_refuses_existing_records_is_refused(org, pets, police):
    services.register_record(pets, actor=police, data=_record(), reason="Licence issued")
    stricter = {**SCHEMA, "properties": {**SCHEMA["properties"], "breed": {"type": "string", "enum": ["cat"]}}}
    with pytest.raises(InvalidInput) as caught:
        _define(org, schema=stricter)
    assert "1 existing records" in caught.value.detail
    wider = {**SCHEMA, "properties": {**SCHEMA["properties"], "breed": {"type": "string"}}}
    assert _define(org, schema=wider).version == 2


def test_outsider_can_neither_see_nor_change_records(pets, police, outsider):
    record = services.register_record(pets, actor=police, data=_record(), reason="Licence issued")
    before = _counts()
    with pytest.raises(PermissionDenied):
        services.register_record(pets, actor=outsider, data=_record(licence_no="HZ000009"), reason="x")
    with pytest.raises(PermissionDenied):
        services.amend_record(record, actor=outsider, data=_record(breed="cat"), reason="x")
    assert _counts() == before
    assert list(services.dynamic_records_visible_to(outsider, pets)) == []


def test_api_adds_searches_amends_and_reads_the_past(pets, police):
    client = _client(police)
    response = client.post(f"{BASE}/pet-licences/records", data=json.dumps(
        {"data": _record(), "reason": "Licence issued"}), content_type="application/json")
    assert response.status_code == 201, response.content
    created = timezone.now()
    response = client.put(f"{BASE}/pet-licences/records/HZ000001", data=json.dumps(
        {"data": _record(breed="cat"), "reason": "Corrected"}), content_type="application/json")
    assert response.json()["version"] == 2
    found = client.get(f"{BASE}/pet-licences/records", {"key": "HZ000001"}).json()
    assert [item["data"]["breed"] for item in found["items"]] == ["cat"]
    past = client.get(f"{BASE}/pet-licences/records/HZ000001", {"as_of": created.isoformat()}).json()
    assert (past["version"], past["data"]["breed"]) == (1, "dog")
    history = client.get(f"{BASE}/pet-licences/records/HZ000001/history").json()
    assert [v["version"] for v in history] == [1, 2]
    definition = client.get(f"{BASE}/pet-licences").json()
    assert (definition["key_field"], definition["record_schema"]) == ("licence_no", SCHEMA)


def test_api_invalid_record_is_a_422_problem_with_errors(pets, police):
    response = _client(police).post(f"{BASE}/pet-licences/records", data=json.dumps(
        {"data": _record(breed="fish"), "reason": "Licence issued"}), content_type="application/json")
    assert (response.status_code, response["Content-Type"]) == (422, PROBLEM)
    assert response.json()["errors"][0]["field"] == "breed"
    assert DynamicRecord.objects.count() == 0


def test_api_outsider_gets_problems_and_no_data(pets, police, outsider):
    services.register_record(pets, actor=police, data=_record(), reason="Licence issued")
    client = _client(outsider)
    assert client.get(f"{BASE}/pet-licences/records").json() == {"items": [], "count": 0}
    response = client.get(f"{BASE}/pet-licences/records/HZ000001")
    assert (response.status_code, response["Content-Type"]) == (404, PROBLEM)
    response = client.post(f"{BASE}/pet-licences/records", data=json.dumps(
        {"data": _record(licence_no="HZ000002"), "reason": "x"}), content_type="application/json")
    assert (response.status_code, response["Content-Type"]) == (403, PROBLEM)
    assert client.get(f"{BASE}/no-such-registry").status_code == 404


def test_admin_defines_a_registry_through_the_service(org, registries):
    staff = Account.objects.create_superuser("root", password="Correct-Horse-Battery-9")
    client = Client()
    client.force_login(staff)
    session = client.session
    session["second_factor"] = True
    session.save()
    owner = org.department(HANGZHOU, Department.Kind.CIVIL_AFFAIRS)
    response = client.post("/admin/registries/dynamicregistry/add/", {
        "code": "pet-licences", "name": "犬只登记", "name_en": "Pets", "owner": owner.pk,
        "schema": json.dumps(SCHEMA), "key_field": "licence_no",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    definition = DynamicRegistry.objects.get()
    assert (definition.registry.code, definition.registry.owner) == ("pet-licences", owner)
    assert AuditRecord.objects.filter(action="registries.dynamic_registry.defined").count() == 1
    bad = client.post("/admin/registries/dynamicregistry/add/", {
        "code": "other", "name": "x", "owner": owner.pk, "schema": json.dumps({"type": "array"}),
        "key_field": "licence_no",
    })
    assert bad.status_code == 200
    assert DynamicRegistry.objects.count() == 1


def test_records_are_imported_from_a_file_with_a_row_report(pets, tmp_path):
    # given a file whose fourth row breaks the schema
    path = tmp_path / "pets.csv"
    path.write_text("licence_no,holder,breed\nHZ000001,a,dog\nHZ000002,b,cat\nHZ000003,c,fish\n", encoding="utf-8")
    with pytest.raises(CommandError, match="1 of 3 rows"):
        err = StringIO()
        call_command("registry_import", "pet-licences", str(path), "--reason", "Migration", "--no-progress",
                     stdout=StringIO(), stderr=err)
    assert "row 4, breed:" in err.getvalue()
    assert DynamicRecord.objects.count() == 0
    # when the row is fixed
    path.write_text("licence_no,holder,breed\nHZ000001,a,dog\nHZ000002,b,cat\nHZ000003,c,cat\n", encoding="utf-8")
    out = StringIO()
    call_command("registry_import", "pet-licences", str(path), "--reason", "Migration", "--no-progress", stdout=out)
    # then
    assert "Imported 3 new records" in out.getvalue()
    assert sorted(DynamicRecord.objects.values_list("key", flat=True)) == ["HZ000001", "HZ000002", "HZ000003"]
    assert AuditRecord.objects.filter(action="registries.dynamic_records.imported").count() == 1
    call_command("registry_import", "pet-licences", str(path), "--reason", "Again", "--no-progress",
                 "--skip-registered", stdout=StringIO())
    assert DynamicRecord.objects.count() == 3


def test_import_reads_typed_cells_as_the_schema_says(org, registries, police):
    schema = {"type": "object", "properties": {"id": {"type": "integer"}, "active": {"type": "boolean"},
                                               "weight": {"type": "number"}},
              "required": ["id"]}
    definition = _define(org, code="scales", schema=schema, key_field="id")
    count = services.import_records(definition, [{"id": "7", "active": "true", "weight": "2.5"}], actor=police,
                                    reason="Migration")
    assert count == 1
    assert DynamicRecord.objects.get().data == {"id": 7, "active": True, "weight": 2.5}


def test_outsider_cannot_import_records(pets, outsider):
    with pytest.raises(PermissionDenied):
        services.import_records(pets, [_record()], actor=outsider, reason="Migration")
    assert DynamicRecord.objects.count() == 0


def test_an_unknown_registry_cannot_be_imported(registries, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(CommandError, match="registries without code"):
        call_command("registry_import", "nothing-here", str(path), "--reason", "x", "--no-progress",
                     stdout=StringIO(), stderr=StringIO())


def test_definitions_are_listed_for_any_signed_in_caller(pets, outsider):
    body = _client(outsider).get(BASE).json()
    assert [item["code"] for item in body["items"]] == ["pet-licences"]
