"""Identity test fixtures: a small seeded population and accounts built through services."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from tongban.identity import services as identity
from tongban.identity.models import Account, Role
from tongban.kernel.actors import SystemActor
from tongban.kernel.models import Department

PASSWORD = "Correct-Horse-Battery-9"
SYSTEM = SystemActor("tests")


@pytest.fixture
def people(org) -> list[dict[str, Any]]:
    """Forty persons and eight entities in the registries; return the generated identities."""
    from tongban.demo.people import demo_people, seed_registries

    seed_registries(org, persons=40, entities=8)
    return demo_people()[:40]


@pytest.fixture
def citizen(people) -> Account:
    return identity.register_citizen(
        username="citizen", password=PASSWORD, name=people[20]["name"], id_number=people[20]["id_number"]
    )


@pytest.fixture
def other_citizen(people) -> Account:
    return identity.register_citizen(
        username="outsider", password=PASSWORD, name=people[21]["name"], id_number=people[21]["id_number"]
    )


@pytest.fixture
def make_officer(org):
    def make(username: str, *, city: str = "330100", kind: str = Department.Kind.MARKET_REGULATION,
             roles: list[str] | None = None) -> Account:
        return identity.create_officer(
            actor=SYSTEM, username=username, password=PASSWORD,
            department=org.department(city, kind), roles=roles or [Role.WINDOW_OFFICER],
            totp_secret=pyotp.random_base32(),
        )

    return make


def current_code(account: Account) -> str:
    return pyotp.TOTP(account.totp_secret).now()
