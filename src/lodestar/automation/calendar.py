"""The open tasks in each user's calendar feed (a source of `integrations.calendar`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import translation
from django.utils.translation import gettext as _

from lodestar.automation.models import Task, TaskStatus
from lodestar.automation.titles import trigger_titles
from lodestar.i18n import localized
from lodestar.integrations.calendar.ics import CalendarEvent
from lodestar.integrations.selectors import recipient_language
from lodestar.org.models import User
from lodestar.org.selectors import membership_of

__all__ = ["MAX_TASKS", "TASK_BLOCK", "task_events"]

# Each open task shows as a short block ending at its deadline, so it sits where it is due.
TASK_BLOCK = dt.timedelta(minutes=30)
# A feed is polled every few minutes; keep it bounded whatever the backlog.
MAX_TASKS = 500


def task_events(user: User, now: dt.datetime) -> Iterable[CalendarEvent]:
    """The user's open tasks, worded in their language (a calendar app names none): the one
    they last used the site in, the playbook's titles in it."""
    membership = membership_of(user=user)
    if membership is None:
        return []
    with translation.override(recipient_language(user_id=user.pk)):
        return _task_events(user, membership.organization_id, now)


def _task_events(user: User, organization_id: int, now: dt.datetime) -> list[CalendarEvent]:
    tasks = (
        Task.objects.filter(
            organization_id=organization_id,
            assignee=user,
            status=TaskStatus.OPEN,
        )
        .select_related("opportunity")
        .order_by("due_at", "id")[:MAX_TASKS]
    )
    events = []
    titles = trigger_titles(tasks)
    for task in tasks:
        details = []
        if task.opportunity is not None:
            details.append(_("Deal: %(name)s") % {"name": task.opportunity.name})
        if task.department:
            details.append(_("Waiting on: %(department)s") % {"department": task.department})
        if task.description:
            details.append(task.description)
        if task.due_at < now:
            details.append(_("Overdue"))
        events.append(
            CalendarEvent(
                uid=f"task-{task.pk}@lodestar",
                start=task.due_at - TASK_BLOCK,
                end=task.due_at,
                summary=localized(titles[task.pk]) if task.pk in titles else task.title,
                description="\n".join(details),
                categories=("Lodestar", _("Task")),
            )
        )
    return events
