"""Prepare the database and static files in one Python process (``make db``, ``make run``).

Each ``tongban`` command pays for Django's start-up; running them here, one after
the other in one interpreter, keeps a second ``make run`` quick.

  python scripts/prepare.py           migrate, cache table, the holiday calendar, static files
  python scripts/prepare.py --demo    … then load the demo region and print the demo accounts
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--demo", action="store_true", help="also seed the demo region and list its accounts")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django
    from django.core.management import call_command

    django.setup()
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    # The State Council's holiday arrangements shipped with Tongban (idempotent).
    call_command("calendar", "load", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if args.demo:
        call_command("seed_demo")
        call_command("demo_accounts")
    print(f"Prepared in {time.perf_counter() - started:.1f}s.", file=sys.stderr)


if __name__ == "__main__":
    main()
