"""Kernel fixtures: a platform administrator, who manages the calendar, and a window officer, who may not."""

from __future__ import annotations

import pytest

from tongban.identity import services as identity
from tongban.identity.models import Account, Role
from tongban.kernel.actors import SystemActor
from tongban.kernel.models import Department

PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture
def platform_admin(org) -> Account:
    return identity.create_officer(
        actor=SystemActor("tests"), username="platform-admin", password=PASSWORD,
        department=org.department("330100", Department.Kind.DATA_BUREAU), roles=[Role.PLATFORM_ADMIN],
    )


@pytest.fixture
def window_officer(org) -> Account:
    return identity.create_officer(
        actor=SystemActor("tests"), username="window-officer", password=PASSWORD,
        department=org.department("330100", Department.Kind.CIVIL_AFFAIRS),
        roles=[Role.WINDOW_OFFICER, Role.DEPARTMENT_ADMIN],
    )
