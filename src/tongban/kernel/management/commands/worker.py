"""``tongban worker``: run background tasks (the ``django.tasks`` database backend's worker).

Tasks are rows in the database (registry imports from the workbench, …); this
process claims and runs them one at a time. Run one beside every app node, or
as many as the work needs: each task is claimed by one worker only.
``tongban serve`` starts one by itself unless told ``--no-worker``. The
options are those of django-tasks-db's ``db_worker`` (``--batch`` runs what is
queued and exits; ``--interval`` is how often an idle worker looks for work).
A first SIGTERM or Ctrl-C lets the running task finish; a second stops it.
"""

from __future__ import annotations

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand


class Command(DatabaseWorkerCommand):
    help = "Run background tasks (imports, …) queued in the database."
