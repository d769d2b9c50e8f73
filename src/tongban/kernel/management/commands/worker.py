"""``tongban worker``: run background tasks (the ``django.tasks`` database backend's worker).

Tasks are rows in the database (registry imports from the workbench, …); this
process claims and runs them one at a time. Run one beside every app node, or
as many as the work needs: each task is claimed by one worker only.
``tongban serve`` starts one by itself unless told ``--no-worker``. The
options are those of django-tasks-db's ``db_worker`` (``--batch`` runs what is
queued and exits; ``--interval`` is how often an idle worker looks for work).
A first SIGTERM or Ctrl-C lets the running task finish; a second stops it.

A worker is named after its process (``host:pid:start``, see
``kernel.processes``) and, when it starts, queues again the tasks that dead
workers on its host left running (ADR 0018): a worker killed mid-task and
restarted by its supervisor picks its work up again.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from tongban.kernel import services
from tongban.kernel.actors import SystemActor
from tongban.kernel.processes import this_process


class Command(DatabaseWorkerCommand):
    help = "Run background tasks (imports, …) queued in the database."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        # Computed when the options are parsed: with --reload that is in the
        # reloader's child, the process that runs the tasks.
        parser.set_defaults(worker_id=None)

    def handle(self, *args: Any, **options: Any) -> None:
        options["worker_id"] = options.get("worker_id") or this_process()
        recovered = services.recover_interrupted_tasks(actor=SystemActor("worker"))
        if recovered and options.get("verbosity", 1):
            self.stdout.write(f"Queued again {len(recovered)} task(s) left running by a worker that stopped.")
        super().handle(*args, **options)
