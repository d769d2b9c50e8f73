"""The demo's licence types: five the issue names and a driving licence (idempotent).

Field titles are Chinese with an English ``x-title-en``, as they are printed on
the licence; ``disclosable`` fields are those a holder may choose to hide when
showing the licence (亮证).
"""

from __future__ import annotations

from typing import Any

from tongban.credentials import services as credentials
from tongban.credentials.models import LicenceType
from tongban.kernel.actors import SystemActor
from tongban.kernel.models import Department

SEED_ACTOR = SystemActor("seed-demo")
ID_NUMBER = {"type": "string", "pattern": "^[0-9]{17}[0-9X]$"}
DATE = {"type": "string", "format": "date"}


def _field(title: str, title_en: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    return {**(spec or {"type": "string", "maxLength": 200}), "title": title, "x-title-en": title_en}


def _schema(required: list[str], **fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": fields, "required": required, "additionalProperties": False}


LICENCE_TYPES: list[dict[str, Any]] = [
    {
        "code": "business-licence", "name": "营业执照", "name_en": "Business licence",
        "issuer_kind": Department.Kind.MARKET_REGULATION, "holder_type": LicenceType.HolderType.LEGAL_ENTITY,
        "schema": _schema(
            ["uscc", "name", "entity_type", "legal_representative", "established_on"],
            uscc=_field("统一社会信用代码", "Unified social credit code", {"type": "string", "pattern": "^[0-9A-Z]{18}$"}),
            name=_field("名称", "Name"),
            entity_type=_field("类型", "Type"),
            legal_representative=_field("法定代表人", "Legal representative"),
            registered_capital=_field("注册资本", "Registered capital"),
            established_on=_field("成立日期", "Established on", DATE),
            address=_field("住所", "Address"),
            business_scope=_field("经营范围", "Business scope", {"type": "string", "maxLength": 2000}),
        ),
        "disclosable": ["legal_representative", "registered_capital", "address", "business_scope"],
        "validity": {},
        "layout": {"title": "营业执照", "title_en": "Business licence", "orientation": "landscape",
                   "fields": ["uscc", "name", "entity_type", "legal_representative", "registered_capital",
                              "established_on", "address", "business_scope"]},
    },
    {
        "code": "marriage-certificate", "name": "结婚证", "name_en": "Marriage certificate",
        "issuer_kind": Department.Kind.CIVIL_AFFAIRS, "holder_type": LicenceType.HolderType.PERSON,
        "schema": _schema(
            ["certificate_number", "name", "id_number", "spouse_name", "spouse_id_number", "registered_on"],
            certificate_number=_field("结婚证字号", "Certificate number"),
            name=_field("持证人", "Holder"),
            id_number=_field("身份证件号", "ID number", ID_NUMBER),
            spouse_name=_field("配偶姓名", "Spouse"),
            spouse_id_number=_field("配偶身份证件号", "Spouse's ID number", ID_NUMBER),
            registered_on=_field("登记日期", "Registered on", DATE),
        ),
        "disclosable": ["id_number", "spouse_name", "spouse_id_number", "registered_on"],
        "validity": {},
        "layout": {"title": "结婚证", "title_en": "Marriage certificate"},
    },
    {
        "code": "birth-medical-certificate", "name": "出生医学证明", "name_en": "Birth medical certificate",
        "issuer_kind": Department.Kind.HEALTH, "holder_type": LicenceType.HolderType.PERSON,
        "schema": _schema(
            ["certificate_number", "name", "sex", "born_on", "place_of_birth"],
            certificate_number=_field("出生医学证明编号", "Certificate number"),
            name=_field("新生儿姓名", "Name of the newborn"),
            sex=_field("性别", "Sex", {"type": "string", "enum": ["male", "female"]}),
            born_on=_field("出生日期", "Born on", DATE),
            place_of_birth=_field("出生地点", "Place of birth"),
            mother_name=_field("母亲姓名", "Mother"),
            father_name=_field("父亲姓名", "Father"),
        ),
        "disclosable": ["place_of_birth", "mother_name", "father_name"],
        "validity": {},
        "layout": {"title": "出生医学证明", "title_en": "Birth medical certificate"},
    },
    {
        "code": "real-estate-title", "name": "不动产权证书", "name_en": "Real-estate title certificate",
        "issuer_kind": Department.Kind.NATURAL_RESOURCES, "holder_type": LicenceType.HolderType.PERSON,
        "schema": _schema(
            ["certificate_number", "holder", "location_code", "area", "use", "share"],
            certificate_number=_field("不动产权证书号", "Certificate number"),
            holder=_field("权利人", "Holder"),
            location_code=_field("不动产单元号", "Unit number"),
            area=_field("面积（平方米）", "Area (m²)"),
            use=_field("用途", "Use"),
            share=_field("共有情况", "Share"),
            acquired_on=_field("登记日期", "Registered on", DATE),
        ),
        "disclosable": ["area", "use", "share", "acquired_on"],
        "validity": {},
        "layout": {"title": "不动产权证书", "title_en": "Real-estate title certificate"},
    },
    {
        "code": "social-security-card", "name": "社会保障卡", "name_en": "Social-security card",
        "issuer_kind": Department.Kind.HUMAN_RESOURCES, "holder_type": LicenceType.HolderType.PERSON,
        "schema": _schema(
            ["card_number", "name", "id_number", "issued_on"],
            card_number=_field("社会保障卡号", "Card number"),
            name=_field("姓名", "Name"),
            id_number=_field("社会保障号码", "Social-security number", ID_NUMBER),
            issued_on=_field("发卡日期", "Issued on", DATE),
        ),
        "disclosable": ["card_number", "id_number"],
        "validity": {"years": 10},
        "layout": {"title": "社会保障卡", "title_en": "Social-security card"},
    },
    {
        "code": "driving-licence", "name": "机动车驾驶证", "name_en": "Driving licence",
        "issuer_kind": Department.Kind.PUBLIC_SECURITY, "holder_type": LicenceType.HolderType.PERSON,
        "schema": _schema(
            ["licence_number", "name", "vehicle_classes", "first_issued_on"],
            licence_number=_field("证号", "Licence number"),
            name=_field("姓名", "Name"),
            vehicle_classes=_field("准驾车型", "Vehicle classes"),
            first_issued_on=_field("初次领证日期", "First issued on", DATE),
        ),
        "disclosable": ["licence_number", "first_issued_on"],
        "validity": {"years": 6},
        "layout": {"title": "中华人民共和国机动车驾驶证", "title_en": "Driving licence of the People's Republic of China"},
    },
]


def seed_licence_types() -> list[LicenceType]:
    """Define the demo's licence types (a definition that is already current writes nothing)."""
    return [credentials.define_licence_type(actor=SEED_ACTOR, **definition) for definition in LICENCE_TYPES]


def _issue_once(*, licence_type: str, holder: Any, issuer: Department, fields: dict[str, Any],
                reference: str) -> None:
    from tongban.credentials.models import Licence

    if not Licence.objects.filter(issuer=issuer, licence_type__code=licence_type, reference=reference).exists():
        credentials.issue_licence(actor=SEED_ACTOR, licence_type=licence_type, holder=holder, issuer=issuer,
                                  fields=fields, reference=reference)


def seed_licences() -> None:
    """Issue the demo accounts some licences: social-security cards, a driving licence, business licences.

    Needs the demo accounts, seals and licence types (idempotent: each licence
    has a fixed reference).
    """
    from datetime import date

    from tongban.identity.models import Account
    from tongban.registries.models import LegalEntity

    hangzhou = {kind: Department.objects.get(region__code="330100", kind=kind) for kind in Department.Kind.values}
    citizens = Account.objects.select_related("person").filter(
        username__in=["citizen01", "citizen02", "citizen03", "business01"], person__isnull=False
    ).order_by("username")
    for number, account in enumerate(citizens, start=1):
        person = account.person
        if person is None:
            continue
        _issue_once(licence_type="social-security-card", holder=person,
                    issuer=hangzhou[Department.Kind.HUMAN_RESOURCES], reference=f"DEMO-SSC-{number:04d}",
                    fields={"card_number": f"A{330100 + number:08d}", "name": person.name,
                            "id_number": person.id_number, "issued_on": date(2021, 3, 1).isoformat()})
        if account.username == "citizen01":
            _issue_once(licence_type="driving-licence", holder=person,
                        issuer=hangzhou[Department.Kind.PUBLIC_SECURITY], reference="DEMO-DL-0001",
                        fields={"licence_number": person.id_number, "name": person.name, "vehicle_classes": "C1",
                                "first_issued_on": date(2012, 7, 16).isoformat()})
        for index, entity in enumerate(LegalEntity.objects.filter(legal_representative=person).order_by("pk")[:3]):
            _issue_once(licence_type="business-licence", holder=entity,
                        issuer=hangzhou[Department.Kind.MARKET_REGULATION],
                        reference=f"DEMO-BL-{number:02d}{index:02d}",
                        fields={"uscc": entity.uscc, "name": entity.name, "entity_type": entity.get_entity_type_display(),
                                "legal_representative": person.name,
                                "established_on": (entity.established_on or date(2020, 1, 1)).isoformat(),
                                "address": "浙江省杭州市", "registered_capital": "100万元人民币",
                                "business_scope": "一般项目：技术服务、技术开发"})
