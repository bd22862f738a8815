"""Tasks in the outbound webhooks: `task.created` from every road a task is made by.

Called in the transaction that made the tasks (a trigger, a task added by hand, a coaching
session, an exemption's re-check), so a task that rolls back is never posted. Costs one query
when no webhook of the organization wants the event.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from lodestar.automation.models import Task
from lodestar.automation.titles import worded_titles
from lodestar.core.scoring import Message
from lodestar.crm.models import Opportunity
from lodestar.integrations.outbound import WebhookEvent, webhooks_publish, webhooks_subscribed
from lodestar.integrations.outbound_events import deal_ref, user_ref

__all__ = ["publish_task_events", "task_data", "tasks_created"]


def task_data(task: Task, title: Message | None, deal: Opportunity | None) -> dict[str, Any]:
    """A task as the payloads carry it; `title` in both languages where the pages word it."""
    worded = title or Message(task.title, task.title)
    return {
        "id": task.pk,
        "title": {"zh": worded.zh, "en": worded.en or worded.zh},
        "description": task.description,
        "department": task.department,
        "trigger": task.trigger_key,
        "status": task.status,
        "created_at": task.created_at,
        "due_at": task.due_at,
        "assignee": user_ref(task.assignee),
        "deal": deal_ref(deal) if deal is not None else None,
    }


def _deals(tasks: Iterable[Task]) -> dict[int, Opportunity]:
    ids = {task.opportunity_id for task in tasks if task.opportunity_id is not None}
    return Opportunity.objects.select_related("account").in_bulk(ids) if ids else {}


def publish_task_events(
    tasks: Sequence[Task], *, event_type: str, key: str, now: dt.datetime
) -> None:
    """Post `event_type` for each task; `key` (with ``{task}`` and ``{due}``) names the
    occurrence, so the same one is never posted twice to one webhook."""
    by_org: defaultdict[int, list[Task]] = defaultdict(list)
    for task in tasks:
        by_org[task.organization_id].append(task)
    for organization_id, found in by_org.items():
        if not webhooks_subscribed(organization_id=organization_id, event_type=event_type):
            continue
        titles = worded_titles(found)
        deals = _deals(found)
        webhooks_publish(
            organization_id=organization_id,
            event_type=event_type,
            events=[
                WebhookEvent(
                    key=key.format(task=task.pk, due=task.due_at.isoformat()),
                    occurred_at=now,
                    data={
                        "task": task_data(
                            task,
                            titles.get(task.pk),
                            deals.get(task.opportunity_id) if task.opportunity_id else None,
                        )
                    },
                )
                for task in found
            ],
            now=now,
        )


def tasks_created(tasks: Sequence[Task], *, now: dt.datetime) -> None:
    """`task.created` for tasks just made, in their transaction."""
    publish_task_events(tasks, event_type="task.created", key="task:{task}:created", now=now)
