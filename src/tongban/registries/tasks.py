"""Background tasks of the registries, through the ``django.tasks`` API (run by ``tongban worker``).

Each task is idempotent: a task may run twice, and the second run changes nothing.
"""

from __future__ import annotations

from django_tasks import task


@task()
def run_registry_import(import_id: int) -> str:
    """Run the queued registry import ``import_id`` (``services.run_import``); return how it ended."""
    # services enqueues this task, so it is imported when the task runs.
    from tongban.registries import services

    registry_import = services.run_import(import_id)
    return registry_import.status if registry_import is not None else "missing"
