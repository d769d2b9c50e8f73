"""Scoped reads of the identity block."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from oauth2_provider.models import AbstractApplication

from tongban.identity.api_auth import SystemPrincipal
from tongban.identity.models import DepartmentSystem
from tongban.identity.oidc import SYSTEM_API_SCOPE


def machine_systems_of(department_ids: Iterable[int]) -> QuerySet[DepartmentSystem]:
    """Return the enabled client-credentials systems of the given departments, by name."""
    return (
        DepartmentSystem.objects.filter(
            department_id__in=list(department_ids),
            disabled_at__isnull=True,
            application__authorization_grant_type=AbstractApplication.GRANT_CLIENT_CREDENTIALS,
        )
        .select_related("department")
        .order_by("department__name", "name")
    )


def principal_of_system(system: DepartmentSystem) -> SystemPrincipal:
    """Return the principal a department system acts as, for the platform calling through it.

    The platform handles cases for a department and reads registries through
    the gateway as the department's system (its grant, its call-log entries),
    exactly as the system would with its own token; the principal carries
    only the ``api`` scope.
    """
    return SystemPrincipal(system=system, department=system.department, client_id=system.application.client_id,
                           scopes=frozenset({SYSTEM_API_SCOPE}))
