"""``tongban audit verify``: check the audit chain and name the first broken link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.kernel.audit import verify_chain
from tongban.kernel.models import AuditRecord


class Command(BaseCommand):
    help = "Work with the tamper-evident audit chain."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="Verify every link; exit 1 at the first break.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            chain_break = verify_chain()
            if chain_break is not None:
                raise CommandError(
                    f"Audit chain broken at record #{chain_break.seq} "
                    f"(position {chain_break.position}): {chain_break.reason}."
                )
            count = AuditRecord.objects.count()
            self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {count} records verified."))
