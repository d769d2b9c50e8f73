"""``tongban serve``: run the production WSGI server (gunicorn) and a background worker on this machine.

Uploaded registry files and other background work wait in the database for a
worker (``tongban worker``); ``serve`` runs one beside gunicorn, so that a new
installation processes them without another command, and stops it with
gunicorn. ``--no-worker`` (or ``TONGBAN_SERVE_WORKER=false``) serves only, for
nodes whose workers run as a service of their own.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

# prctl(2) option: the signal a child receives when the process that started it dies.
PR_SET_PDEATHSIG = 1


def _stop_with_parent() -> None:
    """In a child about to start: receive SIGTERM if ``serve`` dies (even by SIGKILL), on Linux."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _start(argv: list[str]) -> subprocess.Popen[bytes]:
    # A session of its own: a Ctrl-C in the terminal reaches serve, which passes
    # exactly one signal on (a second signal would stop the worker mid-task).
    return subprocess.Popen(argv, start_new_session=True, preexec_fn=_stop_with_parent)  # noqa: S603


class Command(BaseCommand):
    help = "Serve Tongban with gunicorn (static files through WhiteNoise) and run a background worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("TONGBAN_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("TONGBAN_WORKERS", "3")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("TONGBAN_THREADS", "4")))
        parser.add_argument(
            "--worker", action=argparse.BooleanOptionalAction,
            default=os.environ.get("TONGBAN_SERVE_WORKER", "true").lower() != "false",
            help="Also run a background worker (tongban worker) and stop it with the server (default: on).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        gunicorn = [
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
        if not options["worker"]:
            # Replace this process so that signals reach gunicorn directly.
            os.execv(sys.executable, gunicorn)  # noqa: S606
        worker = [sys.executable, "-m", "tongban.cli", "worker", "--no-reload"]
        sys.exit(_supervise([gunicorn, worker]))


def _supervise(commands: list[list[str]]) -> int:
    """Run ``commands`` side by side until a signal comes or one ends; stop the others; return the exit status.

    SIGINT or SIGTERM is passed on to each process as SIGTERM (gunicorn stops
    gracefully, the worker finishes its task first); a second one is passed on
    again, which stops the worker at once. If a process ends by itself, the
    others are stopped and its exit status is returned; after a requested
    stop, 0.
    """
    processes = [_start(argv) for argv in commands]
    stopping: list[int] = []

    def pass_on(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    previous = {signum: signal.signal(signum, pass_on) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        status = 0
        while True:
            # Poll every process (not any(), which would stop at the first one running).
            codes = [process.poll() for process in processes]
            if all(code is not None for code in codes):
                break
            ended = [code for code in codes if code is not None]
            if ended and not stopping:
                # One stopped by itself (a crash, a bad setting): stop the others and report it.
                status = ended[0]
                pass_on(signal.SIGTERM, None)
            time.sleep(0.2)
        return status
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
