"""What a task row and an attachment line offer the person reading the page.

`{% task_controls task as controls %}` says whether the reader may change the task (complete,
reschedule) and reassign it, and to whom: the rules of `lodestar.automation.selectors`, worked
out once per request and deal however many rows the page has. `{{ attachment|opens_inline }}`
says whether a file opens in the browser (`lodestar.crm.downloads.INLINE_TYPES`).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from django import template
from django.http import HttpRequest

from lodestar.automation.models import Task, TaskStatus
from lodestar.automation.selectors import (
    may_change_task,
    may_reassign_tasks,
    task_assignee_choices,
)
from lodestar.crm.downloads import INLINE_TYPES
from lodestar.crm.models import Attachment
from lodestar.org.models import User
from lodestar.org.selectors import Actor, actor_of

register = template.Library()


@dataclass(frozen=True)
class TaskControls:
    may_change: bool = False
    may_reassign: bool = False
    # Members the task may go to instead of its assignee (reassigning).
    assignees: list[User] = field(default_factory=list)
    # Whether the row names the assignee (a task of someone else's).
    names_assignee: bool = False


@dataclass
class _Reader:
    actor: Actor | None
    choices: dict[int | None, list[User]] = field(default_factory=dict)


# Per request, the reader's actor and the assignee choices per deal (rows repeat deals).
_readers: weakref.WeakKeyDictionary[HttpRequest, _Reader] = weakref.WeakKeyDictionary()


def _reader(request: HttpRequest) -> _Reader:
    reader = _readers.get(request)
    if reader is None:
        user = request.user
        actor = actor_of(user=user) if isinstance(user, User) else None
        reader = _readers[request] = _Reader(actor=actor)
    return reader


@register.simple_tag(takes_context=True)
def task_controls(context: template.Context, task: Task) -> TaskControls:
    request = context.get("request")
    if request is None:
        return TaskControls()
    reader = _reader(request)
    actor = reader.actor
    if actor is None:
        return TaskControls()
    names_assignee = task.assignee_id != actor.user_id
    if task.status != TaskStatus.OPEN or not may_change_task(actor=actor, task=task):
        return TaskControls(names_assignee=names_assignee)
    if not may_reassign_tasks(actor=actor):
        return TaskControls(may_change=True, names_assignee=names_assignee)
    deal_id = task.opportunity_id
    if deal_id not in reader.choices:
        reader.choices[deal_id] = task_assignee_choices(actor=actor, opportunity=task.opportunity)
    others = [user for user in reader.choices[deal_id] if user.pk != task.assignee_id]
    return TaskControls(
        may_change=True,
        may_reassign=bool(others),
        assignees=others,
        names_assignee=names_assignee,
    )


@register.filter
def opens_inline(attachment: Attachment | Any) -> bool:
    return getattr(attachment, "content_type", "") in INLINE_TYPES
