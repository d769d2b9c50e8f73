"""``tongban serve``: run the production WSGI server (gunicorn) on this machine."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve Tongban with gunicorn (static files through WhiteNoise)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("TONGBAN_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("TONGBAN_WORKERS", "3")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("TONGBAN_THREADS", "4")))

    def handle(self, *args: Any, **options: Any) -> None:
        argv = [
            sys.executable, "-m", "gunicorn", "tongban.wsgi:application",
            "--bind", options["bind"],
            "--workers", str(options["workers"]),
            "--threads", str(options["threads"]),
            "--access-logfile", "-",
            # Log lines carry the path only, never query strings (which may hold tokens).
            "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
            # Paths may carry ID numbers (gateway keys): the logger redacts them.
            "--logger-class", "tongban.kernel.logging.RedactingGunicornLogger",
            "--forwarded-allow-ips", ",".join(os.environ.get("TONGBAN_TRUSTED_PROXIES", "").split(",")) or "127.0.0.1",
        ]
        # Replace this process so that signals reach gunicorn directly.
        os.execv(sys.executable, argv)  # noqa: S606
