"""Licence types: the platform defines what each licence says, who issues it and what a holder may hide."""

from __future__ import annotations

import copy

import pytest
from django.utils import translation

from tongban.credentials import services as credentials
from tongban.credentials.models import LicenceType
from tongban.demo.licences import LICENCE_TYPES, seed_licence_types
from tongban.identity import services as identity
from tongban.identity.models import Role
from tongban.kernel.actors import SystemActor
from tongban.kernel.models import AuditRecord, Department
from tongban.kernel.problems import InvalidInput, PermissionDenied

pytestmark = pytest.mark.django_db

PLATFORM = SystemActor("test")


def business_licence() -> dict:
    return copy.deepcopy(next(item for item in LICENCE_TYPES if item["code"] == "business-licence"))


def test_the_demo_defines_six_licence_types_once():
    seed_licence_types()
    audited = AuditRecord.objects.filter(action="credentials.licence_type.defined").count()
    # when the demo is seeded again
    seed_licence_types()
    # then nothing changes
    assert AuditRecord.objects.filter(action="credentials.licence_type.defined").count() == audited == 6
    assert set(LicenceType.objects.values_list("code", flat=True)) == {
        "business-licence", "marriage-certificate", "birth-medical-certificate", "real-estate-title",
        "social-security-card", "driving-licence",
    }
    licence = LicenceType.objects.get(code="business-licence")
    assert licence.holder_type == "legal_entity" and licence.issuer_kind == Department.Kind.MARKET_REGULATION
    assert licence.version == 1 and "business_scope" in licence.disclosable


def test_changing_a_definition_raises_its_version():
    seed_licence_types()
    definition = business_licence()
    definition["disclosable"] = ["address"]
    changed = credentials.define_licence_type(actor=PLATFORM, **definition)
    assert changed.version == 2 and changed.disclosable == ["address"]
    entry = AuditRecord.objects.filter(action="credentials.licence_type.defined").order_by("-seq").first()
    assert entry.details == {"version": 2, "changed": ["disclosable"]}


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda d: d.update(code="Business Licence"), "lower-case"),
        (lambda d: d.update(name=" "), "name"),
        (lambda d: d.update(issuer_kind="bank"), "department"),
        (lambda d: d.update(holder_type="animal"), "person or a legal entity"),
        (lambda d: d.update(schema={"type": "array"}), "JSON Schema for an object"),
        (lambda d: d["schema"]["properties"]["name"].update(type="text"), "not valid JSON Schema"),
        (lambda d: d["schema"]["properties"]["name"].pop("title"), "title"),
        (lambda d: d.update(disclosable=["favourite_colour"]), "favourite_colour"),
        (lambda d: d.update(validity={"weeks": 3}), "validity"),
        (lambda d: d.update(validity={"years": 0}), "validity"),
        (lambda d: d.update(layout={"font": "Arial"}), "layout"),
        (lambda d: d.update(layout={"fields": ["nope"]}), "layout"),
    ],
    ids=["code", "name", "issuer", "holder", "not-object", "bad-schema", "untitled", "disclosable",
         "validity-unit", "validity-zero", "layout-key", "layout-field"],
)
def test_a_bad_definition_is_refused_with_a_reason_and_writes_nothing(spoil, message):
    definition = business_licence()
    spoil(definition)
    with translation.override("en"), pytest.raises(InvalidInput, match=message):
        credentials.define_licence_type(actor=PLATFORM, **definition)
    assert not LicenceType.objects.exists()
    assert not AuditRecord.objects.filter(action="credentials.licence_type.defined").exists()


def test_an_officer_cannot_define_licence_types(org):
    officer = identity.create_officer(actor=PLATFORM, username="market-officer", password="Officer-Pass-2026!",
                                      department=org.department("330100", Department.Kind.MARKET_REGULATION),
                                      roles=[Role.DATA_OFFICER])
    with pytest.raises(PermissionDenied):
        credentials.define_licence_type(actor=officer, **business_licence())
    assert not LicenceType.objects.exists()
