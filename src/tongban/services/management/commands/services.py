"""``tongban services export|import``: a region's service catalog as a JSON file.

``tongban services export 330100 [-o FILE]`` writes the region's items (every
status) and life events in the catalog file format; ``tongban services import
FILE`` checks the whole file and imports all of it or nothing (importing the
same file twice changes nothing). Both act as the platform.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.kernel.actors import SystemActor
from tongban.kernel.problems import Problem
from tongban.services import selectors, services

ACTOR = SystemActor("services-command")


class Command(BaseCommand):
    help = "Export or import a region's service catalog (JSON; see docs/services-catalog-format.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="Write a region's catalog as JSON.")
        export.add_argument("region", help="the region's 6-digit division code, e.g. 330100")
        export.add_argument("-o", "--output", help="the file to write (default: standard output)")
        imported = sub.add_parser("import", help="Import a catalog file: all of it or nothing.")
        imported.add_argument("file", help="a JSON file in the catalog format")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "export":
                self._export(options["region"], options.get("output"))
            else:
                self._import(Path(options["file"]))
        except Problem as problem:
            for error in problem.extensions.get("errors", []):
                where = ", ".join(f"{key} {value}" for key, value in error.items()
                                  if key != "message" and value not in (None, ""))
                self.stderr.write(f"{where}: {error['message']}")
            raise CommandError(problem.detail) from None

    def _export(self, region: str, output: str | None) -> None:
        document = selectors.export_catalog(ACTOR, region)
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stdout.write(self.style.SUCCESS(f"Exported {len(document['items'])} items of {region} to {output}."))
        else:
            self.stdout.write(text, ending="")

    def _import(self, path: Path) -> None:
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        result = services.import_catalog(content, actor=ACTOR)
        self.stdout.write(self.style.SUCCESS(
            f"Imported {path.name}: {len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.unchanged)} unchanged, {len(result.life_events)} life events defined."
        ))
