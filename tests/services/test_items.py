"""Managing service items: who may create, change, publish and withdraw them, and the rules they keep."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tests.services.conftest import BUSINESS_REGISTRATION, item_definition, new_definition
from tongban.kernel.models import AuditRecord
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied
from tongban.services import selectors
from tongban.services import services as services
from tongban.services.models import Material, ServiceItem

pytestmark = pytest.mark.django_db

BPMN = ('<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'id="d"><bpmn:process id="p" isExecutable="true"/></bpmn:definitions>')


def audit_count() -> int:
    return AuditRecord.objects.count()


def test_a_department_admin_creates_a_draft_item_of_their_department(market_admin):
    # when the market-regulation administrator creates an item of their department
    item = services.create_item(actor=market_admin, definition=new_definition())

    # then it is a draft at version 1 with its materials, and one audit record says so
    assert (item.status, item.version) == (ServiceItem.Status.DRAFT, 1)
    assert item.department.kind == "market_regulation" and item.region.code == "330100"
    sources = {m.name: m.source for m in item.materials.all()}
    assert sources["公司章程"] == Material.Source.UPLOAD
    assert sources["法定代表人身份信息"] == Material.Source.REGISTRY
    assert AuditRecord.objects.filter(action="services.item.created", target=f"service-item:{item.code}").exists()
    # and a draft is not in the public catalog
    assert not selectors.published_items().filter(code=item.code).exists()


@pytest.mark.parametrize("outsider", ["police_admin", "market_window", "citizen"])
def test_an_outsider_cannot_create_an_item_of_market_regulation(request, outsider):
    actor = request.getfixturevalue(outsider)
    before = audit_count()

    with pytest.raises(PermissionDenied):
        services.create_item(actor=actor, definition=new_definition())

    assert not ServiceItem.objects.exists() and audit_count() == before


def test_the_platform_admin_creates_items_of_any_department(platform_admin):
    item = services.create_item(actor=platform_admin, definition=new_definition(
        code="330100-A-QR-9001", department={"region": "330100", "kind": "public_security"}))

    assert item.department.kind == "public_security"


def test_a_taken_code_is_refused(market_admin):
    services.create_item(actor=market_admin, definition=new_definition())

    with pytest.raises(Conflict):
        services.create_item(actor=market_admin, definition=new_definition())


@pytest.mark.parametrize(("changes", "field"), [
    ({"promised_days": 20, "statutory_days": 15}, "promised_days"),
    ({"handling_mode": "fully_online", "in_person_trips": 2}, "in_person_trips"),
    ({"handling_mode": "at_most_one_trip", "in_person_trips": 2}, "in_person_trips"),
    ({"result": {"kind": "licence"}}, "result"),
    ({"result": {"kind": "licence", "licence_type": "no-such-licence"}}, "result"),
    ({"result": {"kind": "document"}}, "result"),
    ({"department": {"uscc": "11330100MB0000000X"}}, "department"),
    ({"region": "330203"}, "region"),
    ({"type": "parking"}, "type"),
    ({"materials": [{"name": "营业执照", "source": {"kind": "licence"}}]}, "materials.0"),
    ({"materials": [{"name": "营业执照", "source": {"kind": "licence", "licence_type": "business-licence",
                                                    "resource": "hz-persons"}}]}, "materials.0"),
    ({"materials": [{"name": "身份", "source": {"kind": "registry", "resource": "hz-persons",
                                                "fields": ["shoe_size"]}}]}, "materials.0"),
    ({"materials": [{"name": "身份", "source": {"kind": "registry", "resource": "no-such-resource",
                                                "fields": ["name"]}}]}, "materials.0"),
    ({"materials": [{"name": "章程", "source": {"kind": "upload"}}, {"name": "章程", "source": {"kind": "upload"}}]},
     "materials"),
    ({"form": {"schema": {"type": "object", "properties": {"a": {"type": "nonsense"}}}}}, "form.schema"),
    ({"form": {"schema": {"type": "object", "properties": {"a": {"type": "string"}}},
               "ui": {"order": ["b"]}}}, "form.ui"),
    ({"form": {"schema": {"type": "object", "properties": {"a": {"type": "string"}}},
               "ui": {"prefill": {"a": {"source": "licence", "licence_type": "business-licence",
                                        "field": "shoe_size"}}}}}, "form.ui.prefill.a"),
    ({"process": {"bpmn": "<bpmn:definitions"}}, "process"),
    ({"process": {"bpmn": "<definitions/>"}}, "process"),
    ({"process": {"bpmn": '<!DOCTYPE x [<!ENTITY a "b">]><x/>'}}, "process"),
    ({"process": {"dmn": "<definitions xmlns='urn:other'/>"}}, "rules"),
])
def test_a_definition_breaking_a_rule_is_refused_naming_the_element(market_admin, changes, field):
    before = audit_count()

    with pytest.raises(InvalidInput) as refused:
        services.create_item(actor=market_admin, definition=new_definition(**changes))

    assert refused.value.extensions.get("field") == field
    assert not ServiceItem.objects.exists() and audit_count() == before


def test_the_database_refuses_promised_days_beyond_the_statutory_ones(market_admin):
    item = services.create_item(actor=market_admin, definition=new_definition())

    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceItem.objects.filter(pk=item.pk).update(promised_days=99)


def test_the_database_refuses_a_licence_material_without_a_licence_type(market_admin):
    item = services.create_item(actor=market_admin, definition=new_definition())

    with pytest.raises(IntegrityError), transaction.atomic():
        Material.objects.create(item=item, name="证照", source=Material.Source.LICENCE)


def test_a_process_and_rules_are_stored_when_well_formed(market_admin):
    dmn = '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="r" name="r"/>'
    item = services.create_item(actor=market_admin, definition=new_definition(process={"bpmn": BPMN, "dmn": dmn}))

    assert item.process_xml == BPMN and item.rules_xml == dmn
    assert services.check_process_definition("") == ""


def test_an_update_raises_the_version_and_an_equal_definition_writes_nothing(market_admin):
    item = services.create_item(actor=market_admin, definition=new_definition())
    services.publish_item(item, actor=market_admin)

    # when the promised days and one material change
    changed = new_definition(promised_days=2)
    changed["materials"] = changed["materials"][:2]
    updated = services.update_item(item, actor=market_admin, definition=changed)

    # then the version rises, the item stays published, the dropped materials are gone
    assert (updated.version, updated.status, updated.promised_days) == (2, ServiceItem.Status.PUBLISHED, 2)
    assert updated.materials.count() == 2
    record = AuditRecord.objects.filter(action="services.item.updated").get()
    assert set(record.details["changed"]) == {"promised_days", "materials"}

    # and the same definition again changes and audits nothing
    before = audit_count()
    again = services.update_item(updated, actor=market_admin, definition=changed)
    assert again.version == 2 and audit_count() == before


def test_another_departments_admin_cannot_update_publish_or_withdraw(market_admin, police_admin):
    item = services.create_item(actor=market_admin, definition=new_definition())
    before = audit_count()

    with pytest.raises(PermissionDenied):
        services.update_item(item, actor=police_admin, definition=new_definition(promised_days=2))
    with pytest.raises(PermissionDenied):
        services.publish_item(item, actor=police_admin)
    services.publish_item(item, actor=market_admin)
    with pytest.raises(PermissionDenied):
        services.withdraw_item(item, actor=police_admin, reason="not yours")

    item.refresh_from_db()
    assert (item.version, item.status) == (1, ServiceItem.Status.PUBLISHED) and audit_count() == before + 1


def test_a_department_admin_cannot_move_an_item_to_another_department(market_admin):
    item = services.create_item(actor=market_admin, definition=new_definition())

    with pytest.raises(PermissionDenied):
        services.update_item(item, actor=market_admin, definition=new_definition(
            department={"region": "330100", "kind": "public_security"}))

    item.refresh_from_db()
    assert item.department.kind == "market_regulation"


def test_the_code_of_an_item_does_not_change(market_admin):
    item = services.create_item(actor=market_admin, definition=new_definition())

    with pytest.raises(InvalidInput):
        services.update_item(item, actor=market_admin, definition=new_definition(code="330100-C-XK-9002"))


def test_publish_and_withdraw_follow_the_lifecycle(market_admin):
    item = services.create_item(actor=market_admin, definition=new_definition())

    with pytest.raises(Conflict):
        services.withdraw_item(item, actor=market_admin, reason="Merged into another item")
    published = services.publish_item(item, actor=market_admin)
    assert published.published_at is not None
    assert selectors.published_items().filter(code=item.code).exists()
    with pytest.raises(Conflict):
        services.publish_item(item, actor=market_admin)
    with pytest.raises(InvalidInput):
        services.withdraw_item(item, actor=market_admin, reason="  ")

    withdrawn = services.withdraw_item(item, actor=market_admin, reason="Merged into another item")

    assert withdrawn.status == ServiceItem.Status.WITHDRAWN
    assert not selectors.published_items().filter(code=item.code).exists()
    assert AuditRecord.objects.get(action="services.item.withdrawn").details["reason"] == "Merged into another item"


def test_only_a_platform_admin_defines_a_life_event(catalog, market_admin, platform_admin, references):
    city = references.cities[0]
    definition = {"code": "open-a-shop", "name": "开店一件事", "audience": "business",
                  "items": [BUSINESS_REGISTRATION, "330100-C-XK-0002"]}

    with pytest.raises(PermissionDenied):
        services.define_life_event(actor=market_admin, region=city, definition=definition)
    event = services.define_life_event(actor=platform_admin, region=city, definition=definition)

    assert [i.code for i in selectors.published_life_event(event.code)[1]] == definition["items"]
    before = audit_count()
    services.define_life_event(actor=platform_admin, region=city, definition=definition)
    assert audit_count() == before
    with pytest.raises(InvalidInput):
        services.define_life_event(actor=platform_admin, region=city,
                                   definition={**definition, "items": ["no-such-item"]})


def test_a_life_event_lists_only_items_of_its_region(catalog, platform_admin, references):
    ningbo = references.cities[1]

    with pytest.raises(InvalidInput):
        services.define_life_event(actor=platform_admin, region=ningbo, definition={
            "code": "nb-business", "name": "宁波开办企业", "audience": "business", "items": [BUSINESS_REGISTRATION]})


def test_item_document_round_trips_through_update(catalog, platform_admin):
    item = selectors.managed_item(platform_admin, BUSINESS_REGISTRATION)
    before = audit_count()

    same = services.update_item(item, actor=platform_admin, definition=services.item_document(item))

    assert same.version == 1 and audit_count() == before
    assert item_definition()["materials"][0]["source"]["resource"] == "hz-persons"
