"""Background tasks of the exchange, through the ``django.tasks`` API (run by ``tongban worker``).

``sign_pending_calls`` links the calls committed since its last run into the
call log's hash chain and signs a checkpoint over them, then runs again a
minute later while calls keep coming. A call that finds no run due schedules
one (``exchange.log.append``), so every minute with traffic is signed.
Idempotent: with nothing new to sign it writes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task


@task()
def sign_pending_calls() -> str:
    """Sign a checkpoint over the calls not yet signed; schedule the next run if there were any."""
    # services schedules this task (through log), so it is imported when the task runs.
    from tongban.exchange import services
    from tongban.kernel.actors import SystemActor

    checkpoint = services.checkpoint_now(actor=SystemActor("exchange-checkpoint"))
    if services.finish_signing_round(chained=0 if checkpoint is None else 1):
        schedule_signing(after=services.CHECKPOINT_INTERVAL)
    if checkpoint is None:
        return "nothing to sign"
    return f"checkpoint #{checkpoint.seq}"


def schedule_signing(*, after: timedelta) -> None:
    """Queue ``sign_pending_calls`` to run ``after`` from now."""
    sign_pending_calls.using(run_after=timezone.now() + after).enqueue()
