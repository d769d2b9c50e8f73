"""The demo region's catalog: the two base registries published as shareable resources.

``seed_catalog`` is idempotent: a second run finds both resources as described
and writes nothing.
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
    return [persons, entities]
