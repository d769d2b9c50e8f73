"""Who is acting: the protocol every service's ``actor`` argument satisfies.

Lower blocks (registries, catalog, …) must not import ``identity``; they
authorize through this protocol instead. ``identity.Account`` implements it
for people, ``identity.api_auth.SystemPrincipal`` for department systems and
``SystemActor`` for the platform itself (seeding, scheduled jobs, commands).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Actor(Protocol):
    """Anything that may act: it has an audit name, permissions and departments."""

    @property
    def audit_name(self) -> str: ...

    def has_perm(self, perm: str, obj: Any = None) -> bool: ...

    def department_ids(self, *roles: str) -> frozenset[int]:
        """Return the departments the actor acts for (in any of ``roles``, if given)."""
        ...


@dataclass(frozen=True)
class SystemActor:
    """The platform itself acting (demo seeding, imports, scheduled jobs).

    It holds every permission but acts for no department: writes that must come
    from a department's officer check ``is_system`` explicitly.
    """

    name: str
    is_system: bool = True

    @property
    def audit_name(self) -> str:
        return f"system:{self.name}"

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return True

    def department_ids(self, *roles: str) -> frozenset[int]:
        return frozenset()


def is_system(actor: Any) -> bool:
    return bool(getattr(actor, "is_system", False))


def acts_for(actor: Any, department_id: int, *roles: str) -> bool:
    """Return True if ``actor`` is the platform or acts for the department (in one of ``roles``)."""
    if is_system(actor):
        return True
    department_ids = getattr(actor, "department_ids", None)
    return callable(department_ids) and department_id in department_ids(*roles)
