"""``tongban notices deliver``: send the notices' outbox rows that are due.

The delivery task sends notices as they are written and retries failures on
its own; run this from a timer (every few minutes) as a sweep, so that rows
whose task was lost (a cleared queue, a worker killed at the wrong moment)
still go out.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tongban.kernel.actors import SystemActor
from tongban.notices import services


class Command(BaseCommand):
    help = "Work with the notices' outbox."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("deliver", help="Send every email and SMS that is due now, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        run = services.deliver_due(actor=SystemActor("notices-sweep"))
        self.stdout.write(f"Sent {run.sent}, retrying {run.retrying}, failed {run.failed}, skipped {run.skipped}.")
