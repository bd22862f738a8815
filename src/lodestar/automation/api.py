"""Tasks over REST: list, read, add one on a deal, complete, reschedule, reassign.

Each view parses, makes one selector or service call, and returns; who may read or change a
task is `lodestar.automation.selectors` (the same rules as the pages), the writes and their
audit lines are `lodestar.automation.services`. Times are answered in the organization's zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Query, Router, Schema, Status

from lodestar.automation import selectors, services
from lodestar.automation.models import Task
from lodestar.automation.titles import worded_titles
from lodestar.crm.selectors import access_opportunity
from lodestar.fields import Id, SupportedDatetime, Text
from lodestar.i18n import localized
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.rest.errors import ERROR_RESPONSES, WRITE_ERRORS
from lodestar.rest.pagination import PageQuery, page_of
from lodestar.rest.schemas import StrictIn, UserRef

router = Router(tags=["tasks"])


def _local(task: Task, moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else moment.astimezone(task.organization.tz)


class TaskOut(Schema):
    id: int
    title: str
    description: str
    status: str = Field(description="open, done or cancelled.")
    department: str = Field(description="The department the task waits on; empty for your own.")
    trigger_key: str = Field(description="The playbook trigger that made it; empty if by hand.")
    opportunity_id: int | None
    opportunity_name: str | None
    assignee: UserRef
    created_at: dt.datetime
    due_at: dt.datetime
    completed_at: dt.datetime | None
    completed_by_id: int | None
    on_time: bool | None = Field(description="Done by its due time; null while not done.")

    @staticmethod
    def resolve_title(obj: Task) -> str:
        worded: str | None = getattr(obj, "worded_title", None)
        return worded if worded is not None else localized(worded_titles([obj])[obj.pk])

    @staticmethod
    def resolve_opportunity_name(obj: Task) -> str | None:
        return obj.opportunity.name if obj.opportunity is not None else None

    @staticmethod
    def resolve_created_at(obj: Task) -> dt.datetime | None:
        return _local(obj, obj.created_at)

    @staticmethod
    def resolve_due_at(obj: Task) -> dt.datetime | None:
        return _local(obj, obj.due_at)

    @staticmethod
    def resolve_completed_at(obj: Task) -> dt.datetime | None:
        return _local(obj, obj.completed_at)


class TaskPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[TaskOut]


class TaskQuery(PageQuery):
    status: Literal["open", "done", "cancelled"] | None = Field(
        None, description="Any status when left out."
    )
    assignee: Id | None = Field(None, description="Assignee's user id.")
    opportunity: Id | None = Field(None, description="Deal id.")
    due_before: SupportedDatetime | None = Field(None, description="Due strictly before.")
    due_after: SupportedDatetime | None = Field(None, description="Due at or after.")


@router.get("/tasks", response={200: TaskPage, **ERROR_RESPONSES})
def list_tasks(request: AuthenticatedHttpRequest, filters: Query[TaskQuery]) -> dict[str, Any]:
    """Tasks you can see, earliest deadline first: a rep their own, a manager also those on
    their teams' deals, ops and admins every one of the organization."""
    found = selectors.task_list_for(
        user=request.user,
        filters=selectors.TaskFilters(
            status=filters.status,
            assignee_id=filters.assignee,
            opportunity_id=filters.opportunity,
            due_before=filters.due_before,
            due_after=filters.due_after,
        ),
    )
    page = page_of(found.select_related("opportunity"), filters)
    titles = worded_titles(page["items"])
    for task in page["items"]:
        # Worded for the whole page at once; `TaskOut.resolve_title` reads it.
        task.worded_title = localized(titles[task.pk])
    return page


@router.get("/tasks/{task_id}", response={200: TaskOut, **ERROR_RESPONSES})
def get_task(request: AuthenticatedHttpRequest, task_id: Id) -> Task:
    return selectors.access_task(user=request.user, task_id=task_id)


class TaskCreateIn(StrictIn):
    title: Text = Field(min_length=1, max_length=200)
    due_at: SupportedDatetime = Field(description="In the future, with its offset.")
    assignee: Id | None = Field(None, description="A member who can see the deal; defaults to you.")
    description: Text = Field("", max_length=2000)


@router.post("/opportunities/{opportunity_id}/tasks", response={201: TaskOut, **WRITE_ERRORS})
def create_task(
    request: AuthenticatedHttpRequest, opportunity_id: Id, payload: TaskCreateIn
) -> Status[Any]:
    """Add a task by hand on a deal you work. Audited."""
    user = request.user
    deal = access_opportunity(user=user, opportunity_id=opportunity_id, for_write=True)
    task = services.task_create(
        user=user,
        opportunity=deal,
        title=payload.title,
        due_at=payload.due_at,
        assignee_id=payload.assignee,
        description=payload.description,
    )
    # Answered whoever it went to, though a rep no longer lists a task given to someone else.
    return Status(201, task)


def _writable(request: AuthenticatedHttpRequest, task_id: int) -> Task:
    return selectors.access_task(user=request.user, task_id=task_id, for_write=True)


@router.post("/tasks/{task_id}/complete", response={200: TaskOut, **WRITE_ERRORS})
def complete_task(request: AuthenticatedHttpRequest, task_id: Id) -> Task:
    """Mark an open task done (409 when it is not open); its alerts resolve. Audited."""
    return services.task_complete(user=request.user, task=_writable(request, task_id))


class TaskRescheduleIn(StrictIn):
    due_at: SupportedDatetime = Field(description="The new due time, in the future.")
    reason: Text = Field(min_length=1, max_length=500)


@router.post("/tasks/{task_id}/reschedule", response={200: TaskOut, **WRITE_ERRORS})
def reschedule_task(
    request: AuthenticatedHttpRequest, task_id: Id, payload: TaskRescheduleIn
) -> Task:
    """Move an open task's due time, saying why. Audited with the old and new times."""
    return services.task_reschedule(
        user=request.user,
        task=_writable(request, task_id),
        due_at=payload.due_at,
        reason=payload.reason,
    )


class TaskReassignIn(StrictIn):
    assignee: Id = Field(description="A member of your organization who can see the deal.")


@router.post("/tasks/{task_id}/reassign", response={200: TaskOut, **WRITE_ERRORS})
def reassign_task(request: AuthenticatedHttpRequest, task_id: Id, payload: TaskReassignIn) -> Task:
    """Give an open task to another member who can see its deal. Audited."""
    return services.task_reassign(
        user=request.user, task=_writable(request, task_id), assignee_id=payload.assignee
    )
