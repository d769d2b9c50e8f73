"""``tongban seed-demo``: load the demo region (idempotent: a second run changes nothing)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from tongban.demo.accounts import seed_accounts
from tongban.demo.catalog import seed_catalog
from tongban.demo.exchange import seed_exchange
from tongban.demo.licences import seed_licence_types, seed_licences
from tongban.demo.org import build_org_tree
from tongban.demo.people import seed_registries
from tongban.demo.seals import seed_seals
from tongban.demo.services import seed_service_catalog
from tongban.demo.vital import seed_vital_and_property
from tongban.kernel.models import AuditRecord


class Command(BaseCommand):
    help = "Load the demo region: org tree, registries, the resource catalog, accounts, the service catalog."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        before = AuditRecord.objects.count()
        org = build_org_tree()
        seed_registries(org)
        seed_vital_and_property(org)
        seed_catalog(org)
        seed_accounts(org)
        seed_exchange(org)
        seed_seals(org)
        seed_licence_types()
        seed_licences()
        seed_service_catalog()
        added = AuditRecord.objects.count() - before
        state = "loaded" if added else "already present, nothing changed"
        self.stdout.write(f"Demo region {state} ({time.monotonic() - started:.1f}s).")
