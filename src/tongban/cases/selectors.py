"""Reads of cases, scoped by the actor: applicants see their own, officers their departments' work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.cases.models import Case, CaseTask
from tongban.kernel.calendar import DeadlineState, deadline_state
from tongban.kernel.problems import NotFound

# Roles that work on cases (the lanes of the processes' user tasks).
CASE_ROLES = ("window_officer", "reviewer")


def _officer_departments(actor: Any) -> frozenset[int]:
    department_ids = getattr(actor, "department_ids", None)
    return frozenset(department_ids(*CASE_ROLES)) if callable(department_ids) else frozenset()


def cases_of_applicant(actor: Any) -> QuerySet[Case]:
    """Return the actor's own applications, newest first (none for anyone else)."""
    if not getattr(actor, "is_authenticated", False):
        return Case.objects.none()
    return Case.objects.filter(applicant_id=actor.pk).select_related("item", "department").order_by(
        "-submitted_at", "-id")


def applicant_case(actor: Any, number: str) -> Case:
    """Return the actor's own case ``number``; raise NotFound for any other."""
    case = cases_of_applicant(actor).filter(number=number).first()
    if case is None:
        raise NotFound(_("There is no such case."))
    return case


def cases_for_officer(actor: Any) -> QuerySet[Case]:
    """Return the cases the actor's departments handle or have a task in (for window officers and reviewers)."""
    departments = _officer_departments(actor)
    if not departments:
        return Case.objects.none()
    tasks = CaseTask.objects.filter(case=OuterRef("pk"), department_id__in=departments)
    return (Case.objects.filter(Q(department_id__in=departments) | Q(Exists(tasks)))
            .select_related("item", "department", "person"))


def officer_case(actor: Any, number: str) -> Case:
    """Return case ``number`` if the actor's departments handle it; raise NotFound otherwise."""
    case = cases_for_officer(actor).filter(number=number).first()
    if case is None:
        raise NotFound(_("There is no such case."))
    return case


def task_queue(actor: Any, *, queue: str = "all") -> QuerySet[CaseTask]:
    """Return the open tasks the actor may work on, oldest first.

    ``queue``: ``accept`` (acceptances), ``review`` (reviews and decisions),
    ``countersign``, ``mine`` (claimed by the actor), ``overdue`` (cases past
    their promised deadline), or ``all``. Only tasks of the actor's
    departments in a role the actor holds there.
    """
    department_ids = getattr(actor, "department_ids", None)
    if not callable(department_ids):
        return CaseTask.objects.none()
    scope = Q()
    for role in CASE_ROLES:
        ids = department_ids(role)
        if ids:
            scope |= Q(lane=role, department_id__in=ids)
    if not scope:
        return CaseTask.objects.none()
    tasks = (CaseTask.objects.filter(scope, completed_at__isnull=True)
             .select_related("case", "case__item", "case__person", "department", "claimed_by")
             .order_by("created_at", "id"))
    if queue == "accept":
        return tasks.filter(element_id="accept")
    if queue == "review":
        return tasks.filter(element_id__in=("review", "decide"))
    if queue == "countersign":
        return tasks.filter(element_id__startswith="countersign")
    if queue == "mine":
        return tasks.filter(claimed_by_id=actor.pk)
    if queue == "overdue":
        return tasks.filter(case__deadline_at__lt=timezone.now())
    return tasks


def case_task(actor: Any, task_pk: int) -> CaseTask:
    """Return an open task the actor may work on; raise NotFound otherwise."""
    task = task_queue(actor).filter(pk=task_pk).first()
    if task is None:
        raise NotFound(_("There is no such task."))
    return task


def time_limit_state(case: Case, *, now: datetime | None = None) -> str:
    """Return ``on_time``, ``approaching`` (yellow), ``overdue`` (red), ``paused`` or ``none`` for a case."""
    if case.finished:
        return "none"
    if case.accepted_at is None:
        return "none"
    if case.deadline_at is None:
        return "paused"
    state: DeadlineState = deadline_state(now or timezone.now(), case.deadline_at, region=case.region)
    return str(state)
