"""The automation app's part of handing a departing member's work to a successor
(`lodestar.org.members.member_deactivate`, registered in `LODESTAR_MEMBER_HANDOVER_STEPS`)."""

from __future__ import annotations

import datetime as dt

from lodestar.automation.models import Task, TaskStatus

__all__ = ["hand_over_tasks"]


def hand_over_tasks(
    *, organization_id: int, from_user_id: int, to_user_id: int, now: dt.datetime
) -> dict[str, int]:
    """Give the open tasks of `from_user_id` to `to_user_id`, with their deadlines unchanged:
    a task that was late is late for its new assignee too, and shows so on their Today page.
    Done and cancelled tasks stay with the person who closed them."""
    tasks = Task.objects.filter(
        organization_id=organization_id, assignee_id=from_user_id, status=TaskStatus.OPEN
    ).update(assignee_id=to_user_id)
    return {"tasks": tasks}
