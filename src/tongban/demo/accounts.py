"""The demo accounts: citizens bound to generated persons, a business owner and
officers with fixed TOTP secrets, so that anyone can try the platform."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from tongban.demo.org import DemoOrg
from tongban.demo.people import demo_people
from tongban.identity import services as identity
from tongban.identity.models import Account, Delegation, Role
from tongban.kernel.actors import SystemActor
from tongban.kernel.models import Department
from tongban.registries.models import LegalEntity, Person

DEMO_PASSWORD = "Tongban-Demo-2026!"
SEED_ACTOR = SystemActor("seed-demo")

# (username, city, department kind, roles)
OFFICERS: list[tuple[str, str, str, list[str]]] = [
    ("hz-window", "330100", Department.Kind.MARKET_REGULATION, [Role.WINDOW_OFFICER]),
    ("hz-reviewer", "330100", Department.Kind.MARKET_REGULATION, [Role.REVIEWER]),
    ("hz-admin", "330100", Department.Kind.MARKET_REGULATION, [Role.DEPARTMENT_ADMIN]),
    ("hz-police", "330100", Department.Kind.PUBLIC_SECURITY, [Role.WINDOW_OFFICER]),
    ("hz-data", "330100", Department.Kind.DATA_BUREAU, [Role.DATA_OFFICER]),
    ("hz-police-data", "330100", Department.Kind.PUBLIC_SECURITY, [Role.DATA_OFFICER]),
    ("hz-tax-data", "330100", Department.Kind.TAX, [Role.DATA_OFFICER]),
    ("nb-civil", "330200", Department.Kind.CIVIL_AFFAIRS, [Role.WINDOW_OFFICER, Role.REVIEWER]),
    ("platform-admin", "330100", Department.Kind.DATA_BUREAU, [Role.PLATFORM_ADMIN]),
]
CITIZENS = ["citizen01", "citizen02", "citizen03"]
BUSINESS_OWNER = "business01"
# Persons at these positions in demo_people() have no account: use them to try sign-up.
SIGN_UP_IDENTITIES = range(10, 15)


def demo_totp_secret(username: str) -> str:
    """Return a fixed TOTP secret for a demo officer (demo only: real secrets are random)."""
    digest = hashlib.sha256(f"tongban-demo-totp:{username}".encode()).digest()[:20]
    return base64.b32encode(digest).decode()


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    department: str = ""
    name: str = ""
    id_number: str = ""
    totp_secret: str = ""
    acts_for: str = ""


def _business_owner_index(people: list[dict[str, Any]]) -> int:
    """Return the index of the first demo person who represents an entity."""
    for index, entry in enumerate(people):
        person = Person.objects.filter(pk=_person(entry).pk).first()
        if person and LegalEntity.objects.filter(legal_representative=person).exists():
            return index
    raise RuntimeError("No demo person represents a legal entity; seed the registries first.")


def _person(entry: dict[str, Any]) -> Person:
    from tongban.registries import services as registries

    person = registries.find_person_by_id_number(entry["id_number"])
    if person is None:
        raise RuntimeError("The demo registries are not seeded.")
    return person


def seed_accounts(org: DemoOrg) -> None:
    """Create the demo accounts if absent (idempotent)."""
    people = demo_people()
    owner_index = _business_owner_index(people)
    citizen_people = [entry for index, entry in enumerate(people[:10]) if index != owner_index][: len(CITIZENS)]
    for username, entry in [(BUSINESS_OWNER, people[owner_index]), *zip(CITIZENS, citizen_people, strict=True)]:
        if not Account.objects.filter(username=username).exists():
            identity.register_citizen(
                actor=SEED_ACTOR, username=username, password=DEMO_PASSWORD,
                name=entry["name"], id_number=entry["id_number"],
            )
    for username, city, kind, roles in OFFICERS:
        if not Account.objects.filter(username=username).exists():
            identity.create_officer(
                actor=SEED_ACTOR, username=username, password=DEMO_PASSWORD,
                department=org.department(city, kind), roles=list(roles),
                totp_secret=demo_totp_secret(username),
            )
    owner = Account.objects.get(username=BUSINESS_OWNER)
    delegate = Account.objects.get(username=CITIZENS[0])
    entity = LegalEntity.objects.filter(legal_representative_id=owner.person_id).order_by("pk").first()
    if entity and not Delegation.objects.filter(entity=entity, delegate=delegate).exists():
        identity.delegate_entity(
            entity, actor=owner, delegate=delegate, valid_until=timezone.now() + timedelta(days=180)
        )


def list_demo_accounts() -> list[dict[str, str]]:
    """Return every demo account with what a tester needs to sign in."""
    accounts: list[DemoAccount] = []
    for username in [BUSINESS_OWNER, *CITIZENS]:
        account = Account.objects.select_related("person").filter(username=username).first()
        if account is None or account.person is None:
            continue
        entities = ", ".join(e.name for e in identity.acting_entities(account))
        accounts.append(DemoAccount(
            username=username, password=DEMO_PASSWORD,
            role="business" if username == BUSINESS_OWNER else "citizen",
            name=account.person.name, id_number=account.person.id_number, acts_for=entities,
        ))
    for username, _city, _kind, roles in OFFICERS:
        account = Account.objects.filter(username=username).first()
        if account is None:
            continue
        appointment = account.appointments.select_related("department").first()
        accounts.append(DemoAccount(
            username=username, password=DEMO_PASSWORD, role="+".join(roles),
            department=appointment.department.name if appointment else "",
            totp_secret=account.totp_secret or "",
        ))
    people = demo_people()
    for index in SIGN_UP_IDENTITIES:
        entry = people[index]
        accounts.append(DemoAccount(username="", password="", role="identity for sign-up",
                                    name=entry["name"], id_number=entry["id_number"]))
    return [asdict(account) for account in accounts]
