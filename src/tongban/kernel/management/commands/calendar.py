"""``tongban calendar load [FILE]`` and ``tongban calendar check``: the working-day calendar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.kernel import selectors, services
from tongban.kernel.actors import SystemActor
from tongban.kernel.problems import Problem


class Command(BaseCommand):
    help = "Load State Council holiday arrangements into the working-day calendar, or check them."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="Load a holiday arrangements file (idempotent).")
        load.add_argument("file", nargs="?", type=Path, default=services.DEFAULT_ARRANGEMENTS_FILE,
                          help="a JSON file like tongban/kernel/data/cn_public_holidays.json (the default)")
        sub.add_parser("check", help="Exit 1 if this year's or (from November) next year's notice is missing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "load":
            try:
                result = services.load_holiday_arrangements(actor=SystemActor("calendar-load"), path=options["file"])
            except Problem as problem:
                raise CommandError(problem.detail) from problem
            years = ", ".join(str(year) for year in result.years)
            if options["verbosity"] < 1:
                return
            self.stdout.write(
                f"Calendar {years}: {result.created} days added, {result.updated} corrected, "
                f"{result.removed} removed, {result.notices} notices recorded."
                if result.changed else f"Calendar {years}: already loaded, nothing changed."
            )
            return
        missing = selectors.missing_calendar_years()
        if missing:
            raise CommandError(
                "No holiday arrangement loaded for " + ", ".join(str(year) for year in missing)
                + ": working days there are counted Monday to Friday. Load the State Council notice "
                "with `tongban calendar load FILE`."
            )
        loaded = ", ".join(str(year) for year in sorted(selectors.years_loaded()))
        self.stdout.write(self.style.SUCCESS(f"Holiday arrangements loaded for {loaded}."))
