"""The demo region's catalog: the Hangzhou registries published as shareable resources.

The persons and legal-entities registries are served by their records; the
births-and-deaths, marriage and real-property registries by what they hold
about a person (or an entity), keyed by ID number (or USCC). ``seed_catalog``
is idempotent: a second run finds every resource as described and writes nothing.
"""

from __future__ import annotations

from typing import Any

from tongban.catalog import services as catalog
from tongban.catalog.models import CatalogResource
from tongban.demo.org import DemoOrg
from tongban.kernel.actors import SystemActor
from tongban.kernel.models import Department
from tongban.registries import services as registries
from tongban.registries.models import Registry

SEED_ACTOR = SystemActor("seed-demo")
REGISTRY_CITY = "330100"
PERSONS_RESOURCE = "hz-persons"
ENTITIES_RESOURCE = "hz-legal-entities"

PERSON_FIELDS: list[dict[str, Any]] = [
    {"name": "id_number", "type": "code", "description": "公民身份号码 (citizen ID number)",
     "personal": True, "sensitive_personal": True},
    {"name": "name", "type": "string", "description": "姓名 (name)", "personal": True},
    {"name": "sex", "type": "code", "description": "性别 (sex)", "personal": True},
    {"name": "birth_date", "type": "date", "description": "出生日期 (date of birth)", "personal": True},
    {"name": "address_region", "type": "code", "description": "住址行政区划代码 (region of residence)",
     "personal": True},
    {"name": "status", "type": "code", "description": "人员状态 (living / deceased)", "personal": True},
]

ENTITY_FIELDS: list[dict[str, Any]] = [
    {"name": "uscc", "type": "code", "description": "统一社会信用代码 (unified social credit code)"},
    {"name": "name", "type": "string", "description": "名称 (name)"},
    {"name": "entity_type", "type": "code", "description": "主体类型 (entity type)"},
    {"name": "legal_representative_name", "type": "string",
     "description": "法定代表人姓名 (legal representative's name)", "personal": True},
    {"name": "registered_region", "type": "code", "description": "登记机关行政区划代码 (registered region)"},
    {"name": "status", "type": "code", "description": "登记状态 (registration status)"},
]


BIRTHS_DEATHS_RESOURCE = "hz-births-deaths"
MARITAL_STATUS_RESOURCE = "hz-marital-status"
PROPERTY_PERSONS_RESOURCE = "hz-property-persons"
PROPERTY_ENTITIES_RESOURCE = "hz-property-entities"

VITAL_FIELDS: list[dict[str, Any]] = [
    {"name": "birth_registered", "type": "boolean", "description": "是否办理出生登记 (birth registered)",
     "personal": True},
    {"name": "birth_certificate_number", "type": "code", "description": "出生医学证明编号 (birth certificate number)",
     "personal": True},
    {"name": "birth_date", "type": "date", "description": "出生日期 (date of birth)", "personal": True},
    {"name": "birth_place_region", "type": "code", "description": "出生地行政区划代码 (place of birth)",
     "personal": True},
    {"name": "mother_id_number", "type": "code", "description": "母亲身份号码 (mother's ID number)",
     "personal": True, "sensitive_personal": True},
    {"name": "father_id_number", "type": "code", "description": "父亲身份号码 (father's ID number)",
     "personal": True, "sensitive_personal": True},
    {"name": "deceased", "type": "boolean", "description": "是否已死亡登记 (death registered)", "personal": True},
    {"name": "death_date", "type": "date", "description": "死亡日期 (date of death)", "personal": True},
    {"name": "death_certificate_number", "type": "code", "description": "死亡证明编号 (death certificate number)",
     "personal": True},
]

MARITAL_FIELDS: list[dict[str, Any]] = [
    {"name": "marital_status", "type": "code",
     "description": "婚姻状况：never_married / married / divorced / widowed (marital status)", "personal": True},
    {"name": "spouse_id_number", "type": "code", "description": "配偶身份号码 (spouse's ID number)",
     "personal": True, "sensitive_personal": True},
    {"name": "spouse_name", "type": "string", "description": "配偶姓名 (spouse's name)", "personal": True},
    {"name": "last_event", "type": "code", "description": "最近一次婚姻登记类型 (last registration: marriage / divorce)",
     "personal": True},
    {"name": "last_event_on", "type": "date", "description": "最近一次婚姻登记日期 (its date)", "personal": True},
    {"name": "last_certificate_number", "type": "code", "description": "结婚证或离婚证编号 (certificate number)",
     "personal": True},
]

PROPERTY_FIELDS: list[dict[str, Any]] = [
    {"name": "parcel_count", "type": "integer", "description": "现持有宗地数 (parcels held today)"},
    {"name": "parcels", "type": "string",
     "description": "宗地列表：代码、区划、用途、面积、份额、取得日期 (parcels: code, region, use, area, share, "
                    "acquired on)"},
]


def _registry(code: str) -> Registry | None:
    return Registry.objects.filter(code=code).first()


def seed_catalog(org: DemoOrg) -> list[CatalogResource]:
    """Publish the persons and legal-entities registries in the catalog and return both resources.

    Run after ``seed_registries`` so that the resources point at the registries
    (without them the resources are published unlinked, and a later run links them).
    """
    public_security = org.department(REGISTRY_CITY, Department.Kind.PUBLIC_SECURITY)
    market = org.department(REGISTRY_CITY, Department.Kind.MARKET_REGULATION)
    persons = catalog.publish_resource(
        actor=SEED_ACTOR, code=PERSONS_RESOURCE, name="杭州市人口基础信息", name_en="Hangzhou population data",
        description="人口基础库中的自然人基础信息。Basic data of natural persons in the population registry.",
        owner=public_security, registry=_registry(registries.PERSON_REGISTRY),
        record_kind=CatalogResource.RecordKind.PERSON,
        classification=CatalogResource.Classification.IMPORTANT,
        sharing_type=CatalogResource.SharingType.CONDITIONAL,
        open_type=CatalogResource.OpenType.NOT_OPEN,
        update_cycle=CatalogResource.UpdateCycle.REAL_TIME, version="1.0", fields=PERSON_FIELDS,
    )
    entities = catalog.publish_resource(
        actor=SEED_ACTOR, code=ENTITIES_RESOURCE, name="杭州市法人基础信息", name_en="Hangzhou legal-entity data",
        description="法人基础库中的登记信息。Registration data of the legal-entity registry.",
        owner=market, registry=_registry(registries.ENTITY_REGISTRY),
        record_kind=CatalogResource.RecordKind.LEGAL_ENTITY,
        classification=CatalogResource.Classification.GENERAL,
        sharing_type=CatalogResource.SharingType.UNCONDITIONAL,
        open_type=CatalogResource.OpenType.CONDITIONAL,
        update_cycle=CatalogResource.UpdateCycle.REAL_TIME, version="1.0", fields=ENTITY_FIELDS,
    )
    _publish_subject_registries(org)
    return [persons, entities]


def _publish_subject_registries(org: DemoOrg) -> None:
    """Publish what the vital-event and real-property registries hold about a subject, once they exist."""
    for code, name, name_en, description, registry_code, kind, fields, record_kind in (
        (BIRTHS_DEATHS_RESOURCE, "杭州市出生和死亡登记信息", "Hangzhou births and deaths",
         "按公民身份号码查询出生、死亡登记情况。Births and deaths registered for a person, by ID number.",
         registries.BIRTH_DEATH_REGISTRY, Department.Kind.HEALTH, VITAL_FIELDS, CatalogResource.RecordKind.PERSON),
        (MARITAL_STATUS_RESOURCE, "杭州市婚姻登记信息", "Hangzhou marital status",
         "按公民身份号码查询婚姻状况及最近一次婚姻登记。Marital status and last registration, by ID number.",
         registries.MARRIAGE_REGISTRY, Department.Kind.CIVIL_AFFAIRS, MARITAL_FIELDS,
         CatalogResource.RecordKind.PERSON),
        (PROPERTY_PERSONS_RESOURCE, "杭州市个人不动产登记信息", "Hangzhou real property held by persons",
         "按公民身份号码查询现持有的宗地及份额。Parcels a person holds shares of today, by ID number.",
         registries.PROPERTY_REGISTRY, Department.Kind.NATURAL_RESOURCES, PROPERTY_FIELDS,
         CatalogResource.RecordKind.PERSON),
        (PROPERTY_ENTITIES_RESOURCE, "杭州市单位不动产登记信息", "Hangzhou real property held by legal entities",
         "按统一社会信用代码查询现持有的宗地及份额。Parcels an entity holds shares of today, by USCC.",
         registries.PROPERTY_REGISTRY, Department.Kind.NATURAL_RESOURCES, PROPERTY_FIELDS,
         CatalogResource.RecordKind.LEGAL_ENTITY),
    ):
        registry = _registry(registry_code)
        if registry is None:
            continue  # published once seed_vital_and_property has set the registry up
        catalog.publish_resource(
            actor=SEED_ACTOR, code=code, name=name, name_en=name_en, description=description,
            owner=org.department(REGISTRY_CITY, kind), registry=registry, record_kind=record_kind,
            classification=CatalogResource.Classification.IMPORTANT,
            sharing_type=CatalogResource.SharingType.CONDITIONAL, open_type=CatalogResource.OpenType.NOT_OPEN,
            update_cycle=CatalogResource.UpdateCycle.REAL_TIME, version="1.0", fields=fields,
        )
