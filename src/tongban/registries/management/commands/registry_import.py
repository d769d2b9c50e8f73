"""``tongban registry-import <registry> <file.csv|file.xlsx> --reason "..."``: bulk-load a registry.

Every row is validated; if any is bad, the command prints a report (file row
numbers, column, message), imports nothing and exits 1. ``--skip-registered``
leaves out rows already in the registry, so that a re-run is harmless.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from tongban.kernel.actors import SystemActor
from tongban.kernel.problems import Problem
from tongban.registries import services
from tongban.registries.files import open_rows

ACTOR = SystemActor("registry-import")


class Command(BaseCommand):
    help = "Import a CSV or XLSX file into a registry: all rows or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("registry", help="The registry's code: persons, legal-entities, births-deaths, marriages, "
                                                "real-property, or a registry defined without code.")
        parser.add_argument("file", help="A .csv (UTF-8) or .xlsx file whose first row names the columns.")
        parser.add_argument("--reason", required=True, help="Why these records are registered (kept in history).")
        parser.add_argument("--skip-registered", action="store_true",
                            help="Leave out rows already registered (makes a re-run harmless).")
        parser.add_argument("--batch-size", type=int, default=services.IMPORT_BATCH_SIZE)
        parser.add_argument("--no-progress", action="store_true", help="Do not show the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["registry"]
        try:
            source = open_rows(options["file"])
        except Problem as problem:
            raise CommandError(problem.detail) from None
        columns = services.import_columns(code)
        unknown = sorted(set(source.columns) - columns - {""}) if columns is not None else []
        if unknown:
            source.close()
            raise CommandError(f"Unknown columns: {', '.join(unknown)}. Use: {', '.join(sorted(columns or ()))}.")
        bar = tqdm(total=source.total, unit="rows", desc=code, disable=options["no_progress"])
        try:
            imported = services.import_rows(
                code, source.rows, actor=ACTOR, reason=options["reason"],
                skip_registered=options["skip_registered"], batch_size=options["batch_size"],
                progress=bar.update,
            )
        except Problem as problem:
            bar.close()
            for error in problem.extensions.get("errors", []):
                self.stderr.write(f"row {error['row']}, {error['field']}: {error['message']}")
            shown = len(problem.extensions.get("errors", []))
            if problem.extensions.get("error_count", shown) > shown:
                self.stderr.write(f"… and {problem.extensions['error_count'] - shown} more.")
            raise CommandError(problem.detail) from None
        bar.close()
        self.stdout.write(self.style.SUCCESS(f"Imported {imported} new records into {code}."))
