"""Writes of tasks: adding one by hand, completing, rescheduling and reassigning it, and closing
tasks by the events that satisfy them. The pages and the API call the same services; each
write by hand is audited.

Who may give a task to whom is the rule of deal owners (`may_assign_to`): a rep only to
themselves, a manager to themselves and the members of the teams they manage, an admin to anyone
in the organization; and the assignee must be able to see the task's deal. Only managers and
admins reassign a task. A task given to someone else is announced to them.

Completing a task by hand runs the steps listed in `LODESTAR_TASK_DONE_STEPS` (the apps that
react to it register there, in order: the insights app resolves the task's alerts), in the same
transaction. Tasks that events close are left to those apps' own sweeps.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from django.conf import settings
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from lodestar import messages
from lodestar.automation.models import Task, TaskStatus
from lodestar.automation.outbound_events import tasks_created
from lodestar.automation.selectors import may_reassign_tasks
from lodestar.automation.titles import trigger_titles
from lodestar.changes import changed
from lodestar.crm.models import Opportunity
from lodestar.crm.selectors import opportunity_scope
from lodestar.errors import Conflict, PermissionDenied, ValidationFailed
from lodestar.integrations.services import notify
from lodestar.messages import Msg
from lodestar.org.models import Membership, Organization, Role, User
from lodestar.org.selectors import Actor, actor_of, may_assign_to
from lodestar.org.services import audit_record

__all__ = [
    "TaskDoneStep",
    "task_complete",
    "task_create",
    "task_done_steps",
    "task_reassign",
    "task_reschedule",
    "tasks_close_by_events",
]


class TaskDoneStep(Protocol):
    def __call__(self, *, tasks: Sequence[Task], now: dt.datetime) -> None: ...


@functools.cache
def task_done_steps() -> tuple[TaskDoneStep, ...]:
    """The steps of `LODESTAR_TASK_DONE_STEPS`, imported on first use and kept for the process."""
    return tuple(import_string(path) for path in settings.LODESTAR_TASK_DONE_STEPS)


@receiver(setting_changed)
def _forget_steps(*, setting: str, **kwargs: Any) -> None:
    # Tests register steps with override_settings; the next completion then loads them.
    if setting == "LODESTAR_TASK_DONE_STEPS":
        task_done_steps.cache_clear()


def _mark_done(task: Task, *, at: dt.datetime, by: User | None) -> None:
    task.status = TaskStatus.DONE
    task.completed_at = at
    task.completed_by = by
    task.save(update_fields=["status", "completed_at", "completed_by"])


@transaction.atomic
def task_complete(*, user: User, task: Task, now: dt.datetime | None = None) -> Task:
    """Mark a task done. The caller fetched it with `access_task(…, for_write=True)`."""
    now = now or timezone.now()
    locked = _open_locked(task)
    _mark_done(locked, at=now, by=user)
    done: Sequence[Task] = [locked]
    for step in task_done_steps():
        step(tasks=done, now=now)
    audit_record(
        organization_id=locked.organization_id,
        actor=user,
        action="task.complete",
        object_type="task",
        object_id=locked.pk,
        data={"on_time": locked.on_time},
        at=now,
    )
    task.refresh_from_db()
    return task


def _may_see(user: User, deal: Opportunity) -> bool:
    return opportunity_scope(actor=actor_of(user=user)).filter(pk=deal.pk).exists()


def _assignee_for(*, organization_id: int, assignee_id: int, deal: Opportunity | None) -> User:
    """The member who may take a task on `deal`: active, of the organization, and able to see
    the deal (else they could not act on it); refused on the field `assignee`."""
    membership = (
        Membership.objects.select_related("user")
        .filter(organization_id=organization_id, user_id=assignee_id, user__is_active=True)
        .first()
    )
    if membership is None:
        raise ValidationFailed.on(
            "assignee",
            _("There is no active member %(id)s in your organization.") % {"id": assignee_id},
        )
    assignee = membership.user
    if deal is not None and not _may_see(assignee, deal):
        raise ValidationFailed.on(
            "assignee",
            _("%(person)s cannot see the deal “%(deal)s”; choose someone who can.")
            % {"person": assignee, "deal": deal.name},
        )
    return assignee


def _check_may_assign(actor: Actor | None, assignee_id: int) -> None:
    """Refuse, on the field `assignee`, a member the user may not give work to."""
    if actor is not None and may_assign_to(actor=actor, user_id=assignee_id):
        return
    if actor is not None and actor.role == Role.REP:
        message = _(
            "You can give a task only to yourself; ask your manager to give it to someone else."
        )
    elif actor is not None and actor.is_manager:
        message = _("You can give a task only to yourself or a member of a team you manage.")
    else:
        message = _("You cannot give tasks to other people.")
    raise ValidationFailed.on("assignee", message)


def _announce(task: Task, *, by: User, audit_id: int, now: dt.datetime) -> None:
    """Tell the new assignee of a task given to them by someone else (in-app and their
    channels), as a trigger's new task is announced: its title (the playbook's, in the
    reader's language, for a trigger's task), its deal and due time."""
    if task.assignee_id == by.pk:
        return
    organization = Organization.objects.get(pk=task.organization_id)
    deal = task.opportunity
    title = trigger_titles([task]).get(task.pk)
    notify(
        organization=organization,
        recipient=task.assignee,
        link=reverse("web:deal", args=[deal.pk]) if deal is not None else reverse("web:today"),
        # One announcement per assignment (the audit line), however often it changes hands.
        cause_key=f"task:{task.pk}:assigned:{audit_id}",
        message=Msg(
            "task.created",
            {
                "task": messages.text(title.zh, title.en) if title else messages.text(task.title),
                "deal": deal.name if deal is not None else "—",
                "due": messages.moment(task.due_at, organization.tz),
            },
        ),
        now=now,
    )


def _open_locked(task: Task) -> Task:
    locked = Task.objects.select_for_update().get(pk=task.pk)
    if locked.status != TaskStatus.OPEN:
        raise Conflict(
            _("The task is already %(status)s.") % {"status": locked.get_status_display()}
        )
    return locked


def _check_due(due_at: dt.datetime, now: dt.datetime) -> None:
    if due_at <= now:
        raise ValidationFailed.on("due_at", _("The due time must be in the future."))


@transaction.atomic
def task_create(
    *,
    user: User,
    opportunity: Opportunity,
    title: str,
    due_at: dt.datetime,
    assignee_id: int | None = None,
    description: str = "",
    now: dt.datetime | None = None,
) -> Task:
    """Add a task by hand on a deal, for the user or another member who can see the deal.

    The caller fetched the deal with `access_opportunity(…, for_write=True)`.
    """
    now = now or timezone.now()
    _check_due(due_at, now)
    assignee = _assignee_for(
        organization_id=opportunity.organization_id,
        assignee_id=user.pk if assignee_id is None else assignee_id,
        deal=opportunity,
    )
    _check_may_assign(actor_of(user=user), assignee.pk)
    task = Task.objects.create(
        organization_id=opportunity.organization_id,
        opportunity=opportunity,
        assignee=assignee,
        title=title,
        description=description,
        created_at=now,
        due_at=due_at,
    )
    entry = audit_record(
        organization_id=task.organization_id,
        actor=user,
        action="task.create",
        object_type="task",
        object_id=task.pk,
        data={"opportunity_id": opportunity.pk, "assignee_id": assignee.pk},
        at=now,
    )
    _announce(task, by=user, audit_id=entry.pk, now=now)
    tasks_created([task], now=now)
    return task


@transaction.atomic
def task_reschedule(
    *, user: User, task: Task, due_at: dt.datetime, reason: str, now: dt.datetime | None = None
) -> Task:
    """Move an open task's deadline, saying why. The caller fetched it with
    `access_task(…, for_write=True)`."""
    now = now or timezone.now()
    _check_due(due_at, now)
    locked = _open_locked(task)
    previous = locked.due_at
    locked.due_at = due_at
    # A new deadline earns its own escalation if it is missed too.
    locked.escalated_at = None
    locked.save(update_fields=["due_at", "escalated_at"])
    audit_record(
        organization_id=locked.organization_id,
        actor=user,
        action="task.reschedule",
        object_type="task",
        object_id=locked.pk,
        data={"from": previous.isoformat(), "to": due_at.isoformat(), "reason": reason},
        at=now,
    )
    task.refresh_from_db()
    return task


@transaction.atomic
def task_reassign(
    *, user: User, task: Task, assignee_id: int, now: dt.datetime | None = None
) -> Task:
    """Give an open task to another member who can see its deal (a task without a deal: to
    someone the user assigns work to). The caller fetched it with
    `access_task(…, for_write=True)`."""
    now = now or timezone.now()
    locked = _open_locked(task)
    actor = actor_of(user=user)
    if not may_reassign_tasks(actor=actor):
        raise PermissionDenied(_("Only managers and admins reassign tasks."))
    assert actor is not None  # for the type checker: may_reassign_tasks said so
    # No deal says who may take it: a coaching task goes only where its giver may assign work.
    if task.opportunity_id is None and not may_assign_to(actor=actor, user_id=assignee_id):
        raise PermissionDenied(_("A task without a deal goes only to people you assign work to."))
    assignee = _assignee_for(
        organization_id=locked.organization_id, assignee_id=assignee_id, deal=task.opportunity
    )
    _check_may_assign(actor, assignee.pk)
    previous = locked.assignee_id
    locked.assignee = assignee
    locked.save(update_fields=["assignee"])
    entry = audit_record(
        organization_id=locked.organization_id,
        actor=user,
        action="task.reassign",
        object_type="task",
        object_id=locked.pk,
        data={"from": previous, "to": assignee.pk},
        at=now,
    )
    _announce(locked, by=user, audit_id=entry.pk, now=now)
    task.refresh_from_db()
    return task


def tasks_close_by_events(
    *, closers: Iterable[tuple[int, frozenset[str], dt.datetime, User | None]]
) -> int:
    """Complete open trigger tasks that an event satisfies (the proposal sent closes its task).

    `closers` are `(deal id, ids of the triggers whose tasks the event closes, occurred_at,
    actor)`. A task is closed only by an event that happened after the task was created, at
    the event's time, so late deliveries count right.
    """
    by_deal: defaultdict[int, list[tuple[dt.datetime, frozenset[str], User | None]]] = defaultdict(
        list
    )
    for deal_id, trigger_ids, occurred_at, actor in sorted(closers, key=lambda c: c[2]):
        if trigger_ids:
            by_deal[deal_id].append((occurred_at, trigger_ids, actor))
    if not by_deal:
        return 0
    trigger_keys = set().union(*(ids for rows in by_deal.values() for _, ids, _ in rows))
    done: list[Task] = []
    deal_ids = sorted(by_deal)
    for start in range(0, len(deal_ids), 900):
        for task in Task.objects.select_for_update().filter(
            opportunity_id__in=deal_ids[start : start + 900],
            trigger_key__in=trigger_keys,
            status=TaskStatus.OPEN,
        ):
            # The earliest event after the task was made that closes its trigger closes it.
            for occurred_at, trigger_ids, actor in by_deal[task.opportunity_id]:  # type: ignore[index]
                if task.trigger_key in trigger_ids and task.created_at <= occurred_at:
                    task.status = TaskStatus.DONE
                    task.completed_at = occurred_at
                    task.completed_by = actor
                    done.append(task)
                    break
    if done:
        Task.objects.bulk_update(done, ["status", "completed_at", "completed_by"], batch_size=500)
        changed(
            tables=[Task],
            deals=[task.opportunity_id for task in done],
            people=[task.assignee_id for task in done],
        )
    return len(done)
