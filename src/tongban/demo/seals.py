"""Demo e-seals: the platform CA and a seal for every department of both demo cities (idempotent)."""

from __future__ import annotations

from tongban.credentials import services as credentials
from tongban.credentials.models import Seal
from tongban.demo.org import DemoOrg
from tongban.kernel.actors import SystemActor
from tongban.kernel.models import Department

SEED_ACTOR = SystemActor("seed-demo")


def seed_seals(org: DemoOrg) -> None:
    """Set up the platform's root CA and give each city department its e-seal."""
    credentials.ensure_platform_ca(actor=SEED_ACTOR)
    sealed = set(Seal.objects.values_list("department_id", flat=True))
    for department in Department.objects.filter(region__in=org.cities).order_by("pk"):
        if department.pk not in sealed:
            credentials.create_seal(department, actor=SEED_ACTOR)
