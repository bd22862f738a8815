"""Writes of tasks: completing them by hand or by the events that satisfy them.

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
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from lodestar.automation.models import Task, TaskStatus
from lodestar.changes import changed
from lodestar.errors import Conflict
from lodestar.org.models import User
from lodestar.org.services import audit_record

__all__ = ["TaskDoneStep", "task_complete", "task_done_steps", "tasks_close_by_events"]


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
    locked = Task.objects.select_for_update().get(pk=task.pk)
    if locked.status != TaskStatus.OPEN:
        raise Conflict(
            _("The task is already %(status)s.") % {"status": locked.get_status_display()}
        )
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
