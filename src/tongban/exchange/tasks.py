"""Background tasks of the exchange, through the ``django.tasks`` API (run by ``tongban worker``).

A call writes a checkpoint itself when the last one is a minute old, so under
steady traffic every minute is signed without help. The calls that come after
the last such checkpoint, when traffic stops, would wait for the next call;
``sign_pending_calls`` signs them a minute later instead. Idempotent: with
nothing new to sign it writes nothing.
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
    if checkpoint is None:
        return "nothing to sign"
    schedule_signing(after=services.CHECKPOINT_INTERVAL)
    return f"checkpoint #{checkpoint.seq}"


def schedule_signing(*, after: timedelta) -> None:
    """Queue ``sign_pending_calls`` to run ``after`` from now."""
    sign_pending_calls.using(run_after=timezone.now() + after).enqueue()
