"""System checks of the kernel: the working-day calendar has this year's (and next year's) notice.

Registered with the ``database`` tag: ``tongban check --database default`` runs it.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Warning
from django.db import DatabaseError


def check_calendar_loaded(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn when this year's, or from November next year's, holiday arrangement is not loaded."""
    if not databases:
        return []
    from tongban.kernel.calendar import missing_calendar_years

    try:
        missing = missing_calendar_years()
    except DatabaseError:  # not migrated yet: `migrate` comes first
        return []
    return [
        Warning(
            f"The working-day calendar has no holiday arrangement for {year}.",
            hint="Deadlines in that year count Monday to Friday only. Load the State Council notice "
                 "with `tongban calendar load FILE`.",
            id="kernel.W001",
        )
        for year in missing
    ]
