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

from django.db.models import Q, QuerySet

from lodestar.automation.models import Task, TaskStatus
from lodestar.crm.models import Opportunity
from lodestar.errors import NotFound, PermissionDenied
from lodestar.org.models import Role, User
from lodestar.org.selectors import Actor, actor_of, work_scope_q

__all__ = [
    "TaskFilters",
    "access_task",
    "may_change_task",
    "may_reassign_tasks",
    "task_assignee_choices",
    "task_list_for",
    "task_scope",
]


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
    if for_write and not may_change_task(actor=actor, task=task):
        raise PermissionDenied()
    return task


def may_change_task(*, actor: Actor, task: Task) -> bool:
    """Whether this actor, who sees `task`, may complete, reschedule or reassign it: its
    assignee, or someone who works deals (managers and admins in their scope)."""
    return task.assignee_id == actor.user_id or actor.works_deals


def may_reassign_tasks(*, actor: Actor | None) -> bool:
    """Only managers and admins give a task to someone else."""
    return actor is not None and (actor.is_manager or actor.is_admin)


def task_assignee_choices(*, actor: Actor | None, opportunity: Opportunity | None) -> list[User]:
    """The members a page offers as the assignee of a task on `opportunity`, by name: those the
    actor may give work to (`may_assign_to`: a rep themselves, a manager themselves and their
    teams' members, an admin anyone) who can also see the deal (`work_scope_q` read from the
    deal's side: ops and admins, its owner, the managers of its team). Without a deal, everyone
    the actor may give work to. The services judge whatever is posted; this only keeps the list
    to people they would accept."""
    if actor is None or actor.is_ops:
        return []
    members = User.objects.filter(is_active=True, membership__organization_id=actor.organization_id)
    if actor.role == Role.REP:
        members = members.filter(pk=actor.user_id)
    elif actor.is_manager:
        members = members.filter(
            Q(pk=actor.user_id) | Q(membership__team_id__in=actor.managed_team_ids)
        )
    if opportunity is not None:
        sees_deal = Q(membership__role__in=[Role.OPS, Role.ADMIN]) | Q(pk=opportunity.owner_id)
        if opportunity.team_id is not None:
            sees_deal |= Q(membership__role=Role.MANAGER, managed_teams__pk=opportunity.team_id)
        members = members.filter(sees_deal)
    return list(members.distinct().order_by("display_name", "username"))
