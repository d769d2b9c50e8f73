"""A registry defined without code joins the catalog and the gateway with no new code.

The health department defines a vaccination registry from a JSON Schema,
publishes it in the catalog (fields taken from the schema), the tax system is
granted two of its fields, and calls it through the gateway like any registry.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.catalog.fixtures import (
    HANGZHOU,
    LEGAL_BASIS,
    PURPOSE,
    SYSTEM,
    in_days,
    make_officer,
    token_for,
)
from tests.catalog.test_api import post, signed_in
from tests.exchange.test_gateway import call, last_call, problem
from tongban.catalog import services as catalog
from tongban.catalog.models import CatalogResource, ResourceField
from tongban.identity.models import Account, Role
from tongban.kernel.masking import mask_name
from tongban.kernel.models import Department
from tongban.kernel.problems import InvalidInput, PermissionDenied
from tongban.registries import services as registries

REGISTRY = "hz-vaccinations"
SCHEMA = {
    "type": "object",
    "properties": {
        "certificate_no": {"type": "string", "title": "接种证编号 (certificate number)"},
        "holder_id_number": {"type": "string", "title": "受种者身份号码", "x-personal": True,
                             "x-sensitive-personal": True, "x-subject": "person"},
        "holder_name": {"type": "string", "x-personal": True},
        "vaccine": {"type": "string"},
        "doses": {"type": "integer", "minimum": 1},
        "last_dose_on": {"type": "string", "format": "date"},
    },
    "required": ["certificate_no", "holder_id_number", "vaccine", "doses"],
}
# The catalog's field order: the key, the required properties in order, then the rest by name.
FIELD_ORDER = ["certificate_no", "holder_id_number", "vaccine", "doses", "holder_name", "last_dose_on"]
PUBLICATION = {
    "classification": CatalogResource.Classification.IMPORTANT,
    "sharing_type": CatalogResource.SharingType.CONDITIONAL,
    "open_type": CatalogResource.OpenType.NOT_OPEN,
    "update_cycle": CatalogResource.UpdateCycle.DAILY,
}


@pytest.fixture
def health_data(org, resources) -> Account:
    return make_officer(org, "hz-health-data", kind=Department.Kind.HEALTH, roles=[Role.DATA_OFFICER])


@pytest.fixture
def vaccinations(org, resources, person):
    definition = registries.define_registry(
        actor=SYSTEM, code=REGISTRY, name="疫苗接种登记库", name_en="Vaccination registry",
        owner=org.department(HANGZHOU, Department.Kind.HEALTH), schema=SCHEMA, key_field="certificate_no",
    )
    registries.register_record(definition, actor=SYSTEM, reason="Vaccination recorded", data={
        "certificate_no": "HZ-VC-0001", "holder_id_number": person.id_number, "holder_name": person.name,
        "vaccine": "HepB", "doses": 3, "last_dose_on": "2024-05-01",
    })
    return definition


@pytest.fixture
def vaccinations_resource(vaccinations, health_data) -> CatalogResource:
    return catalog.publish_registry(actor=health_data, registry_code=REGISTRY, **PUBLICATION)


@pytest.fixture
def vaccination_grant(vaccinations_resource, tax_data, health_data, tax_client):
    request = catalog.request_access(
        actor=tax_data, resource=vaccinations_resource, fields=["holder_name", "vaccine", "doses"],
        purpose=PURPOSE, legal_basis=LEGAL_BASIS, valid_until=in_days(30), system=tax_client.system,
    )
    return catalog.approve_request(request, actor=health_data, masking={"holder_name": "name"})


def test_publishing_takes_name_owner_and_typed_fields_from_the_schema(vaccinations_resource, vaccinations):
    resource = vaccinations_resource

    assert resource.code == REGISTRY and resource.name == "疫苗接种登记库"
    assert resource.owner_id == vaccinations.registry.owner_id
    assert resource.record_kind == CatalogResource.RecordKind.RECORD and resource.version == "1.0"
    fields = {field.name: field for field in resource.fields.all()}
    assert list(fields) == FIELD_ORDER
    assert fields["doses"].type == ResourceField.FieldType.INTEGER
    assert fields["last_dose_on"].type == ResourceField.FieldType.DATE
    assert fields["holder_id_number"].sensitive_personal and fields["holder_name"].personal
    assert not fields["vaccine"].personal
    assert fields["certificate_no"].description == "接种证编号 (certificate number)"


def test_republishing_after_a_new_schema_version_brings_the_fields_up_to_date(vaccinations_resource, health_data,
                                                                               org):
    schema = json.loads(json.dumps(SCHEMA))
    schema["properties"]["batch"] = {"type": "string"}
    registries.define_registry(actor=SYSTEM, code=REGISTRY, name="疫苗接种登记库", name_en="Vaccination registry",
                               owner=org.department(HANGZHOU, Department.Kind.HEALTH), schema=schema,
                               key_field="certificate_no")

    resource = catalog.publish_registry(actor=health_data, registry_code=REGISTRY, **PUBLICATION)

    assert resource.version == "2.0"
    assert resource.fields.filter(name="batch").exists()


def test_only_the_owner_departments_data_officers_may_publish_the_registry(vaccinations, tax_data, police_data):
    for outsider in (tax_data, police_data):
        with pytest.raises(PermissionDenied):
            catalog.publish_registry(actor=outsider, registry_code=REGISTRY, **PUBLICATION)

    assert not CatalogResource.objects.filter(code=REGISTRY).exists()


def test_a_registry_record_cannot_be_published_as_a_person_resource(vaccinations, health_data):
    with pytest.raises(InvalidInput):
        catalog.publish_resource(
            actor=health_data, code="fake-persons", name="x", owner=vaccinations.registry.owner,
            registry=vaccinations.registry, record_kind=CatalogResource.RecordKind.PERSON,
            fields=[{"name": "vaccine"}], **PUBLICATION,
        )

    assert not CatalogResource.objects.filter(code="fake-persons").exists()


def test_the_gateway_serves_granted_fields_of_a_record_and_links_the_call_to_its_person(vaccination_grant,
                                                                                        tax_client, person):
    response = call(token_for(tax_client), REGISTRY, "HZ-VC-0001", fields="holder_name,doses")

    assert response.status_code == 200, response.content
    assert response.json()["data"] == {"holder_name": mask_name(person.name), "doses": 3}
    entry = last_call()
    assert entry.outcome == "ok" and entry.resource_code == REGISTRY
    # the record names its holder by ID number, so the call shows on the holder's "who used my data"
    assert entry.person_id == person.pk


def test_the_gateway_refuses_ungranted_fields_unknown_keys_and_outsiders(vaccination_grant, tax_client,
                                                                         ningbo_client):
    token = token_for(tax_client)

    ungranted = call(token, REGISTRY, "HZ-VC-0001", fields="holder_id_number")
    missing = call(token, REGISTRY, "HZ-VC-9999", fields="doses")
    outsider = call(token_for(ningbo_client), REGISTRY, "HZ-VC-0001", fields="doses")
    anonymous = Client().get(f"/exchange/v1/{REGISTRY}/HZ-VC-0001", {"fields": "doses"})

    assert ungranted.status_code == 403 and "holder_id_number" not in json.dumps(problem(ungranted))
    assert problem(missing)["reason"] == "subject_not_found" and missing.status_code == 404
    assert outsider.status_code == 403 and "data" not in problem(outsider)
    assert anonymous.status_code == 401
    assert last_call().outcome == "refused"


def test_the_api_publishes_a_registry_for_its_owners_data_officer_only(vaccinations, health_data, tax_data):
    body = {"registry": REGISTRY, **{key: str(value) for key, value in PUBLICATION.items()}}

    refused = post(signed_in(tax_data), "/resources/from-registry", body)
    unknown = post(signed_in(health_data), "/resources/from-registry", {**body, "registry": "no-such"})
    published = post(signed_in(health_data), "/resources/from-registry", body)

    assert refused.status_code == 403 and refused["Content-Type"] == "application/problem+json"
    assert unknown.status_code == 404
    assert published.status_code == 201, published.content
    assert [field["name"] for field in published.json()["fields"]] == FIELD_ORDER
    anonymous = Client().post("/api/v1/catalog/resources/from-registry", body, content_type="application/json")
    assert anonymous.status_code == 401
