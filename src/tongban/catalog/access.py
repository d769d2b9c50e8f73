"""Who may do what in the catalog, by duck-typing the actor.

Decisions about requests and grants are people's decisions: they need an
account's roles (``roles()``). A department system's principal acts for its
department but holds no role, so it can browse the catalog and nothing more.
"""

from __future__ import annotations

from typing import Any

from tongban.kernel.actors import is_system

DATA_OFFICER = "data_officer"
DEPARTMENT_ADMIN = "department_admin"
PLATFORM_ADMIN = "platform_admin"


def _roles(actor: Any) -> frozenset[str]:
    roles = getattr(actor, "roles", None)
    return frozenset(roles()) if callable(roles) else frozenset()


def role_departments(actor: Any, *roles: str) -> frozenset[int]:
    """Return the departments where ``actor`` (a person) holds one of ``roles``."""
    if not _roles(actor) & set(roles):
        return frozenset()
    department_ids = getattr(actor, "department_ids", None)
    return frozenset(department_ids(*roles)) if callable(department_ids) else frozenset()


def acting_departments(actor: Any) -> frozenset[int]:
    """Return every department the actor acts for (systems: their own department)."""
    department_ids = getattr(actor, "department_ids", None)
    if callable(department_ids):
        return frozenset(department_ids())
    department_id = getattr(getattr(actor, "department", None), "pk", None)
    return frozenset({department_id}) if isinstance(department_id, int) else frozenset()


def is_platform_admin(actor: Any) -> bool:
    """Return True for the platform itself and for platform administrators."""
    return is_system(actor) or PLATFORM_ADMIN in _roles(actor)


def may_browse(actor: Any) -> bool:
    """Return True for officers, department systems and the platform (not citizens)."""
    return is_system(actor) or bool(acting_departments(actor))


def deciding_departments(actor: Any) -> frozenset[int]:
    """Return the departments whose resources' requests ``actor`` may decide."""
    return role_departments(actor, DATA_OFFICER, DEPARTMENT_ADMIN)
