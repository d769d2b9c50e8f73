"""Scoped reads of the identity block."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from oauth2_provider.models import AbstractApplication

from tongban.identity.models import DepartmentSystem


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
