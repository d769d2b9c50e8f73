"""``tongban demo-accounts [--json]``: print every demo account."""

from __future__ import annotations

import json
from typing import Any

import pyotp
from django.core.management.base import BaseCommand, CommandParser

from tongban.demo.accounts import list_demo_accounts


class Command(BaseCommand):
    help = "Print the demo accounts (username, password, role, department, ID number, TOTP secret)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print JSON for scripts.")

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = list_demo_accounts()
        if options["json"]:
            self.stdout.write(json.dumps(accounts, ensure_ascii=False, indent=2))
            return
        self.stdout.write("Demo accounts (password for all: %s)" % (accounts[0]["password"] if accounts else "-"))
        for entry in accounts:
            if entry["role"] == "identity for sign-up":
                continue
            line = f"  {entry['username']:<15} {entry['role']:<26}"
            if entry["id_number"]:
                line += f" {entry['name']} {entry['id_number']}"
            if entry["acts_for"]:
                line += f" · acts for {entry['acts_for']}"
            if entry["totp_secret"]:
                line += f" {entry['department']} · TOTP secret {entry['totp_secret']} (now: {pyotp.TOTP(entry['totp_secret']).now()})"
            self.stdout.write(line)
        self.stdout.write("Unregistered identities to try sign-up with:")
        for entry in accounts:
            if entry["role"] == "identity for sign-up":
                self.stdout.write(f"  {entry['name']} {entry['id_number']}")
        self.stdout.write("Citizens sign in at /account/sign-in/, officers at /account/officer/sign-in/.")
