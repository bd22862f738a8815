"""Writes of tasks: completing them by hand or by the events that satisfy them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lodestar.automation.models import Task, TaskStatus
from lodestar.changes import changed
from lodestar.errors import Conflict, NotFound, PermissionDenied
from lodestar.insights.services import alert_resolve
from lodestar.org.models import User
from lodestar.org.services import audit_record

__all__ = ["COACHING_DUE", "coaching_task_create", "task_complete", "tasks_close_by_events"]


def _mark_done(task: Task, *, at: dt.datetime, by: User | None) -> None:
    task.status = TaskStatus.DONE
    task.completed_at = at
    task.completed_by = by
    task.save(update_fields=["status", "completed_at", "completed_by"])


@transaction.atomic
def task_complete(*, user: User, task: Task, now: dt.datetime | None = None) -> Task:
    """Mark a task done. The caller fetched it with `access_task(…, for_write=True)`."""
    now = now or timezone.now()
    locked = Task.objects.select_for_update().get(pk=task.pk)
    if locked.status != TaskStatus.OPEN:
        raise Conflict(
            _("The task is already %(status)s.") % {"status": locked.get_status_display()}
        )
    _mark_done(locked, at=now, by=user)
    alert_resolve(
        organization_id=locked.organization_id,
        dedupe_keys=[f"task:{locked.pk}:{kind}" for kind in ("overdue", "escalated")],
        now=now,
    )
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


COACHING_DUE = dt.timedelta(days=2)


@transaction.atomic
def coaching_task_create(
    *,
    user: User,
    rep_id: int,
    note: str = "",
    alert_id: int | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Plan a coaching session: a task for the rep, due in two days, made by their manager.

    Only the manager of the rep's team (or an admin) may plan it. With `alert_id`, the alert
    that prompted it (one of the user's own) is acknowledged in the same transaction.
    """
    from lodestar.insights.services import alert_acknowledge  # insights imports automation
    from lodestar.org.models import Membership, Role
    from lodestar.org.selectors import actor_of

    actor = actor_of(user=user)
    rep = (
        Membership.objects.select_related("user", "team")
        .filter(organization_id=actor.organization_id if actor else -1, user_id=rep_id)
        .first()
    )
    if actor is None or rep is None:
        raise NotFound(_("No sales rep %(id)s among the people you can see.") % {"id": rep_id})
    manages = actor.is_manager and rep.team_id in actor.managed_team_ids
    if not (manages or actor.is_admin) or rep.role != Role.REP:
        raise PermissionDenied(_("Only the rep's manager plans their coaching."))
    now = now or timezone.now()
    if alert_id is not None:
        alert_acknowledge(user=user, alert_id=alert_id, now=now)
    task = Task.objects.create(
        organization_id=actor.organization_id,
        assignee=rep.user,
        title=str(_("Coaching session with %(manager)s") % {"manager": user})[:200],
        description=note.strip(),
        created_at=now,
        due_at=now + COACHING_DUE,
    )
    audit_record(
        organization_id=actor.organization_id,
        actor=user,
        action="task.coaching_planned",
        object_type="task",
        object_id=task.pk,
        data={"rep_id": rep_id, "alert_id": alert_id},
        at=now,
    )
    return task
