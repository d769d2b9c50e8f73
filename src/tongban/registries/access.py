"""Who may see and change registry records, by duck-typing the actor.

``registries`` sits below ``identity`` and never imports it. Actors follow
``kernel.actors.Actor``; a department system's principal may instead only carry
a ``department``, and is then treated as acting for that department.
"""

from __future__ import annotations

from typing import Any

from tongban.kernel.actors import acts_for, is_system
from tongban.registries.models import Registry

VIEW_FULL_ID_NUMBER = "registries.view_full_id_number"


def acting_department_ids(actor: Any) -> frozenset[int]:
    """Return the departments ``actor`` acts for (empty for citizens and anonymous callers)."""
    department_ids = getattr(actor, "department_ids", None)
    if callable(department_ids):
        return frozenset(department_ids())
    department_id = getattr(getattr(actor, "department", None), "pk", None)
    return frozenset({department_id}) if isinstance(department_id, int) else frozenset()


def may_change(actor: Any, registry: Registry) -> bool:
    """Return True if ``actor`` is the platform or acts for the department that owns ``registry``."""
    return acts_for(actor, registry.owner_id) or registry.owner_id in acting_department_ids(actor)


def has_perm(actor: Any, perm: str) -> bool:
    """Return True if ``actor`` holds ``perm`` (actors without ``has_perm`` hold nothing)."""
    check = getattr(actor, "has_perm", None)
    return bool(callable(check) and check(perm))


def sees_everything(actor: Any) -> bool:
    """Return True for the platform itself, which reads every registry."""
    return is_system(actor)
