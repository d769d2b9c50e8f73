"""Background tasks of the notices block, through the ``django.tasks`` API (run by ``tongban worker``).

``deliver_notices`` sends every outbox row that is due. ``send_notice``
schedules it when its transaction commits, a failed attempt schedules it for
when the retry is due, and ``tongban notices deliver`` (from a timer) sweeps
up rows whose task was lost. Idempotent: a row already sent is never claimed
again, so a second run sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from django_tasks import task


@task()
def deliver_notices() -> str:
    """Send the notices' outbox rows that are due; return a summary."""
    # services schedules this task, so it is imported when the task runs.
    from tongban.kernel.actors import SystemActor
    from tongban.notices import services

    run = services.deliver_due(actor=SystemActor("notices-delivery"))
    return f"sent {run.sent}, retrying {run.retrying}, failed {run.failed}, skipped {run.skipped}"


def schedule_delivery(at: datetime | None = None) -> None:
    """Queue ``deliver_notices`` to run now, or at ``at``."""
    (deliver_notices if at is None else deliver_notices.using(run_after=at)).enqueue()
