"""``tongban licence-import TYPE FILE --issuer USCC``: issue legacy licences from a CSV or XLSX file.

Columns: ``holder`` (ID number or USCC), ``reference`` (the licence's number
in the old system), optionally ``valid_from``, and the type's fields by name.
All rows or none; a per-row report when rows are bad; re-running skips the
licences already imported.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.credentials import services as credentials
from tongban.kernel import selectors as kernel
from tongban.kernel.actors import SystemActor
from tongban.kernel.problems import Problem
from tongban.registries import services as registries


class Command(BaseCommand):
    help = "Issue legacy licences of one type from a CSV or XLSX file (all rows or none)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("licence_type", help="the licence type's code, e.g. business-licence")
        parser.add_argument("file", help="a .csv (UTF-8) or .xlsx file")
        parser.add_argument("--issuer", required=True, help="the issuing department's unified social credit code")

    def handle(self, *args: Any, **options: Any) -> None:
        issuer = kernel.departments().filter(uscc=options["issuer"].strip().upper()).first()
        if issuer is None:
            raise CommandError(f"No department has the code {options['issuer']}.")
        try:
            rows = registries.open_rows(options["file"])
            try:
                records = [row for _number, row in rows.rows]
            finally:
                rows.close()
            issued, skipped = credentials.import_licences(
                records, actor=SystemActor("licence-import"), licence_type=options["licence_type"], issuer=issuer,
            )
        except Problem as problem:
            errors = problem.extensions.get("errors", [])
            for error in errors:
                self.stderr.write(f"row {error['row']}, {error['field']}: {error['message']}")
            if problem.extensions.get("error_count", 0) > len(errors):
                self.stderr.write(f"… and {problem.extensions['error_count'] - len(errors)} more.")
            raise CommandError(problem.detail) from None
        self.stdout.write(self.style.SUCCESS(
            f"Issued {issued} licences of {options['licence_type']} ({skipped} already imported)."
        ))
