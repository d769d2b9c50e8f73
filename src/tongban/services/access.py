"""Who may manage which service items, by duck-typing the actor.

Platform administrators (and the platform itself) manage every item and the
life events; a department administrator manages the items of their own
departments. Everybody, signed in or not, reads the published catalog.
"""

from __future__ import annotations

from typing import Any

from tongban.identity.models import Role
from tongban.kernel.actors import acts_for, is_system


def _roles(actor: Any) -> frozenset[str]:
    roles = getattr(actor, "roles", None)
    return frozenset(roles()) if callable(roles) else frozenset()


def is_platform_admin(actor: Any) -> bool:
    """Return True for the platform itself and for platform administrators."""
    return is_system(actor) or Role.PLATFORM_ADMIN in _roles(actor)


def may_manage(actor: Any, department_id: int) -> bool:
    """Return True if ``actor`` may write the items of department ``department_id``."""
    return is_platform_admin(actor) or (
        Role.DEPARTMENT_ADMIN in _roles(actor) and acts_for(actor, department_id, Role.DEPARTMENT_ADMIN)
    )


def managed_departments(actor: Any) -> frozenset[int] | None:
    """Return the departments whose items ``actor`` manages; None means every department."""
    if is_platform_admin(actor):
        return None
    department_ids = getattr(actor, "department_ids", None)
    if not callable(department_ids):
        return frozenset()
    return frozenset(department_ids(Role.DEPARTMENT_ADMIN))
