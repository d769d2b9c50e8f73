"""The ``tongban`` console script: Django management with Tongban's settings.

``tongban serve``, ``tongban seed-demo``, ``tongban demo-accounts --json``,
``tongban audit verify`` and every Django command (``tongban migrate``, …).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["tongban", *argv])
    # Console-friendly names: ``tongban seed-demo`` runs the ``seed_demo`` command.
    if len(args) > 1 and "-" in args[1] and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
