"""Demo data sharing: the Hangzhou tax system holds grants and has read a few
records through the gateway, so that the workbench statistics and the
citizens' "who used my data" pages are not empty."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tongban.catalog import services as catalog
from tongban.catalog.models import AccessRequest
from tongban.demo.catalog import ENTITIES_RESOURCE, PERSONS_RESOURCE
from tongban.demo.org import DemoOrg
from tongban.exchange import services as exchange
from tongban.exchange.models import CallLogRecord
from tongban.identity import services as identity
from tongban.identity.api_auth import SystemPrincipal
from tongban.identity.models import Account, DepartmentSystem
from tongban.kernel.actors import SystemActor
from tongban.kernel.models import Department

SEED_ACTOR = SystemActor("seed-demo")
TAX_SYSTEM = "杭州市税务局征管系统"
PERSON_PURPOSE = "个人所得税专项附加扣除审核"
ENTITY_PURPOSE = "企业税务登记信息核验"


def _tax_system(org: DemoOrg) -> DepartmentSystem:
    tax = org.department("330100", Department.Kind.TAX)
    system = DepartmentSystem.objects.filter(department=tax, name=TAX_SYSTEM).first()
    if system is None:
        system, _secret = identity.register_department_system(
            actor=SEED_ACTOR, department=tax, name=TAX_SYSTEM, redirect_uris=None
        )
    return system


def _grant(system: DepartmentSystem, resource_code: str, fields: list[str], purpose: str) -> None:
    if AccessRequest.objects.filter(system=system, resource__code=resource_code).exists():
        return
    requester = Account.objects.get(username="hz-tax-data")
    resource = catalog.find_resource(resource_code)
    if resource is None:
        raise RuntimeError(f"Seed the catalog before the exchange: {resource_code} is missing.")
    request = catalog.request_access(
        actor=requester, resource=resource, fields=fields, purpose=purpose,
        legal_basis="《中华人民共和国税收征收管理法》", valid_until=timezone.now() + timedelta(days=365), system=system,
    )
    if request.status == AccessRequest.Status.PENDING:
        owner = Account.objects.get(username="hz-police-data")
        catalog.approve_request(request, actor=owner, masking={"name": "name"})


def seed_exchange(org: DemoOrg) -> None:
    """Grant the tax system two resources and make a few gateway calls (idempotent)."""
    system = _tax_system(org)
    _grant(system, PERSONS_RESOURCE, ["name", "birth_date", "address_region"], PERSON_PURPOSE)
    _grant(system, ENTITIES_RESOURCE, ["uscc", "name", "status"], ENTITY_PURPOSE)
    if CallLogRecord.objects.filter(client_id=system.application.client_id).exists():
        return
    principal = SystemPrincipal(system=system, department=system.department,
                                client_id=system.application.client_id, scopes=frozenset({"api"}))
    for number, username in enumerate(["citizen01", "business01", "citizen01"], start=1):
        person = Account.objects.select_related("person").get(username=username).person
        if person is not None:
            exchange.call_resource(actor=principal, resource_code=PERSONS_RESOURCE, key=person.id_number,
                                   fields="name,birth_date", purpose=PERSON_PURPOSE,
                                   case_id=f"HZTAX-2026-{number:05d}")
    owner = Account.objects.get(username="business01")
    for entity in identity.acting_entities(owner)[:1]:
        exchange.call_resource(actor=principal, resource_code=ENTITIES_RESOURCE, key=entity.uscc,
                               fields="name,status", purpose=ENTITY_PURPOSE, case_id="HZTAX-2026-00100")
