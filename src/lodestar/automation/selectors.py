"""Reads of tasks, scoped to who asks.

- a **rep** sees the tasks assigned to them;
- a **manager** sees their own tasks and those on deals of the teams they manage;
- **ops** and **admin** see every task in their organization.

`access_task(…, for_write=True)` (completing, rescheduling, reassigning a task) is allowed to
the assignee and to the people who work deals (managers, admins) in scope; ops change only their
own tasks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from lodestar.automation.models import Task, TaskStatus
from lodestar.errors import NotFound, PermissionDenied
from lodestar.org.models import User
from lodestar.org.selectors import Actor, actor_of, work_scope_q

__all__ = ["TaskFilters", "access_task", "task_list_for", "task_scope"]


@dataclass(frozen=True)
class TaskFilters:
    status: str | None = TaskStatus.OPEN
    assignee_id: int | None = None
    opportunity_id: int | None = None
    due_before: dt.datetime | None = None
    due_after: dt.datetime | None = None
    mine_only: bool = False


def task_scope(*, actor: Actor | None) -> QuerySet[Task]:
    """Every task this actor may read, unordered beyond the model default."""
    return Task.objects.filter(
        work_scope_q(actor=actor, owner="assignee", team="opportunity__team")
    )


def task_list_for(*, user: User, filters: TaskFilters | None = None) -> QuerySet[Task]:
    """Tasks in the user's scope, earliest deadline first, with their deal and account."""
    filters = filters or TaskFilters()
    qs = task_scope(actor=actor_of(user=user)).select_related(
        "opportunity", "opportunity__account", "assignee", "organization"
    )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.mine_only:
        qs = qs.filter(assignee_id=user.pk)
    if filters.assignee_id is not None:
        qs = qs.filter(assignee_id=filters.assignee_id)
    if filters.opportunity_id is not None:
        qs = qs.filter(opportunity_id=filters.opportunity_id)
    if filters.due_before is not None:
        qs = qs.filter(due_at__lt=filters.due_before)
    if filters.due_after is not None:
        qs = qs.filter(due_at__gte=filters.due_after)
    return qs.order_by("due_at", "id")


def access_task(*, user: User, task_id: int, for_write: bool = False) -> Task:
    actor = actor_of(user=user)
    task = (
        task_scope(actor=actor)
        .select_related("opportunity", "opportunity__account", "assignee", "organization")
        .filter(pk=task_id)
        .first()
    )
    if actor is None or task is None:
        raise NotFound()
    if for_write and task.assignee_id != actor.user_id and not actor.works_deals:
        raise PermissionDenied()
    return task
