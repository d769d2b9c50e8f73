"""``tongban exchange checkpoint|verify|public-key``: the gateway's signed call log."""

from __future__ import annotations

import base64
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.exchange import services
from tongban.kernel.actors import SystemActor


class Command(BaseCommand):
    help = "Work with the exchange gateway's signed call log."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("checkpoint", help="Sign a checkpoint over the calls since the last one.")
        sub.add_parser("verify", help="Verify the chain and every checkpoint; exit 1 at the first break.")
        sub.add_parser("public-key", help="Print the public key that verifies checkpoints.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "checkpoint":
            checkpoint = services.checkpoint_now(actor=SystemActor("exchange-checkpoint"))
            if checkpoint is None:
                self.stdout.write("No calls since the last checkpoint.")
            else:
                self.stdout.write(self.style.SUCCESS(
                    f"Checkpoint #{checkpoint.seq} signed over calls #{checkpoint.first_seq}-#{checkpoint.last_seq}."
                ))
        elif action == "verify":
            log_break = services.verify_call_log()
            if log_break is not None:
                raise CommandError(f"Call log broken at {log_break}.")
            self.stdout.write(self.style.SUCCESS("Call log intact: chain and checkpoints verified."))
            pending = services.pending_calls()
            if pending:
                self.stdout.write(f"{pending} calls since the chainer's last run are not linked yet "
                                  "(`tongban exchange checkpoint` links and signs them now).")
        else:
            key_id, key = services.checkpoint_public_key()
            self.stdout.write(f"{key_id} ed25519 {base64.b64encode(key).decode()}")
