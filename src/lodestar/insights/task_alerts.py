"""Alerts on tasks: the periodic SLA sweep over open tasks, and the step of completing one.

The tasks are the automation app's; what falls due is told to their assignees here, beside the
other alerts (ARCHITECTURE: worker, periodic sweeps).

For each open task, under the playbook its deal follows (`sla:` section):
- `remind_before` the deadline → a heads-up to the assignee (once);
- past the deadline → an `task_overdue` alert to the assignee (once while open), repeated as a
  notification every `repeat_every`;
- `escalate_after` past the deadline → a `task_escalated` alert to the team manager (or ops),
  and `escalated_at` is stamped;
- alerts of tasks that are no longer open resolve themselves.
Every step is idempotent: running the sweep twice changes nothing the second time.

`alerts_on_tasks_done` is a step of completing a task (`LODESTAR_TASK_DONE_STEPS`): the task's
alerts resolve at once rather than at the next sweep.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse

from lodestar import messages
from lodestar.automation.models import Task, TaskStatus
from lodestar.core.playbook.model import SlaPolicy
from lodestar.insights.alerts import LIVE_STATUSES, alert_raise, alert_resolve
from lodestar.insights.models import Alert
from lodestar.insights.outbound_events import task_overdue
from lodestar.insights.task_titles import task_title
from lodestar.integrations.services import notify
from lodestar.messages import Msg
from lodestar.org.models import Membership, Role, User
from lodestar.playbooks.selectors import compiled_for_version, published_version

__all__ = ["TASK_ALERT_KINDS", "SweepReport", "alerts_on_tasks_done", "sweep_tasks"]

DEFAULT_SLA = SlaPolicy()
TASK_ALERT_KINDS = ("task_overdue", "task_escalated")
# Heads-up reminders are sent at most this long before a deadline, whatever `remind_before` says.
REMINDER_HORIZON = dt.timedelta(days=7)


@dataclass
class SweepReport:
    reminded: int = 0
    overdue: int = 0
    escalated: int = 0
    resolved: int = 0


def _policy_for(task: Task, cache: dict[tuple[int, int | None], SlaPolicy]) -> SlaPolicy:
    team_id = task.opportunity.team_id if task.opportunity is not None else None
    scope = (task.organization_id, team_id)
    if scope not in cache:
        version = published_version(organization_id=scope[0], team_id=team_id)
        cache[scope] = compiled_for_version(version).playbook.sla if version else DEFAULT_SLA
    return cache[scope]


def _escalation_target(task: Task, policy: SlaPolicy) -> User | None:
    if policy.escalate_to == "manager":
        team = task.opportunity.team if task.opportunity is not None else None
        if team is not None and team.manager is not None and team.manager != task.assignee:
            return team.manager
    member = (
        Membership.objects.filter(organization_id=task.organization_id, role=Role.OPS)
        .select_related("user")
        .order_by("id")
        .first()
    )
    return member.user if member is not None else None


def sweep_tasks(*, now: dt.datetime) -> SweepReport:
    report = SweepReport()
    cache: dict[tuple[int, int | None], SlaPolicy] = {}
    open_tasks = (
        Task.objects.filter(status=TaskStatus.OPEN, due_at__lte=now + REMINDER_HORIZON)
        .select_related("organization", "assignee", "opportunity__team__manager")
        .order_by("due_at", "id")
    )
    for task in open_tasks.iterator(chunk_size=500):
        with transaction.atomic():
            _sweep_one(task, _policy_for(task, cache), now, report)
    report.resolved = _resolve_closed_task_alerts(now)
    return report


def _sweep_one(task: Task, policy: SlaPolicy, now: dt.datetime, report: SweepReport) -> None:
    subject = task.opportunity.name if task.opportunity is not None else ""
    link = reverse("web:deal", args=[task.opportunity_id]) if task.opportunity_id else "/"
    # Worded for each reader (`lodestar.messages`): the title from the playbook in their language.
    title = task_title(task)
    about = {
        "task": messages.text(title.zh, title.en),
        "deal": subject,
        "due": messages.moment(task.due_at, task.organization.tz),
    }
    if now < task.due_at:
        if policy.remind_before is not None and now >= task.due_at - policy.remind_before:
            created = notify(
                organization=task.organization,
                recipient=task.assignee,
                message=Msg("task.due_soon", about),
                link=link,
                cause_key=f"task:{task.pk}:due-soon",
                now=now,
            )
            report.reminded += bool(created)
        return
    alert = alert_raise(
        organization=task.organization,
        kind="task_overdue",
        recipient=task.assignee,
        dedupe_key=f"task:{task.pk}:overdue",
        message=Msg("task.overdue", about),
        opportunity=task.opportunity,
        subject_user=task.assignee,
        link=link,
        now=now,
    )
    report.overdue += alert is not None
    if alert is not None:
        task_overdue(task, now=now)
    if policy.repeat_every:
        rounds = int((now - task.due_at) / policy.repeat_every)
        if rounds >= 1:
            notify(
                organization=task.organization,
                recipient=task.assignee,
                message=Msg(
                    "task.still_open",
                    {**about, "late": messages.span(now - task.due_at)},
                ),
                link=link,
                cause_key=f"task:{task.pk}:overdue:{rounds}",
                now=now,
            )
    if task.escalated_at is None and now >= task.due_at + policy.escalate_after:
        target = _escalation_target(task, policy)
        if target is not None:
            alert_raise(
                organization=task.organization,
                kind="task_escalated",
                recipient=target,
                dedupe_key=f"task:{task.pk}:escalated",
                message=Msg("task.escalated", {**about, "assignee": str(task.assignee)}),
                opportunity=task.opportunity,
                subject_user=task.assignee,
                link=link,
                now=now,
            )
        Task.objects.filter(pk=task.pk, escalated_at__isnull=True).update(escalated_at=now)
        report.escalated += 1


def _resolve_closed_task_alerts(now: dt.datetime) -> int:
    live = Alert.objects.filter(kind__in=TASK_ALERT_KINDS, status__in=LIVE_STATUSES).values_list(
        "organization_id", "dedupe_key"
    )
    task_ids = {int(key.split(":")[1]) for _org, key in live}
    still_open = set(
        Task.objects.filter(pk__in=task_ids, status=TaskStatus.OPEN).values_list("pk", flat=True)
    )
    stale: dict[int, list[str]] = {}
    for organization_id, key in live:
        if int(key.split(":")[1]) not in still_open:
            stale.setdefault(organization_id, []).append(key)
    return sum(
        alert_resolve(organization_id=org, dedupe_keys=keys, now=now) for org, keys in stale.items()
    )


def alerts_on_tasks_done(*, tasks: Sequence[Task], now: dt.datetime) -> None:
    """Resolve the overdue and escalation alerts of tasks someone has just completed."""
    for task in tasks:
        alert_resolve(
            organization_id=task.organization_id,
            dedupe_keys=[f"task:{task.pk}:{kind}" for kind in ("overdue", "escalated")],
            now=now,
        )
