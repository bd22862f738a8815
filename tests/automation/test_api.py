"""Tasks over REST: the scope the pages use, a task added by hand on a deal, completing,
rescheduling and reassigning, each audited, with 404 outside one's scope or organization, 403
for a role that may not, 409 for a task no longer open and 422 with the field's path. A rep
gives tasks only to themselves, a manager within their teams; the new assignee is told."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from lodestar.automation.models import Task, TaskStatus
from lodestar.integrations.models import Notification
from lodestar.org.models import AuditEntry, User
from tests.conftest import ApiClient, Cast
from tests.factories import OpportunityFactory, TaskFactory

pytestmark = pytest.mark.django_db
ApiAs = Callable[[User], ApiClient]


def _later(hours: int) -> str:
    return (timezone.now() + dt.timedelta(hours=hours)).replace(microsecond=0).isoformat()


def _ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.json()
    return {item["id"] for item in response.json()["items"]}


def test_each_role_lists_the_tasks_the_pages_show_them(cast: Cast, api_as: ApiAs) -> None:
    own = TaskFactory(opportunity=OpportunityFactory(owner=cast.owner))
    teammate = TaskFactory(opportunity=OpportunityFactory(owner=cast.teammate))
    south = TaskFactory(opportunity=OpportunityFactory(owner=cast.other_team_rep))
    foreign = TaskFactory(opportunity=OpportunityFactory(owner=cast.outsider))

    assert _ids(api_as(cast.owner).get("/tasks")) == {own.pk}
    assert _ids(api_as(cast.manager).get("/tasks")) == {own.pk, teammate.pk}
    assert _ids(api_as(cast.admin).get("/tasks")) == {own.pk, teammate.pk, south.pk}
    assert _ids(api_as(cast.outsider).get("/tasks")) == {foreign.pk}
    assert api_as(cast.owner).get(f"/tasks/{teammate.pk}").status_code == 404
    assert api_as(cast.outsider).get(f"/tasks/{own.pk}").status_code == 404


def test_the_list_filters_by_status_assignee_deal_and_due_time(cast: Cast, api_as: ApiAs) -> None:
    now = timezone.now()
    deal = OpportunityFactory(owner=cast.owner)
    soon = TaskFactory(opportunity=deal, created_at=now, due_at=now + dt.timedelta(hours=2))
    later = TaskFactory(opportunity=deal, created_at=now, due_at=now + dt.timedelta(days=3))
    done = TaskFactory(opportunity=deal, status=TaskStatus.DONE, completed_at=now)
    other = TaskFactory(opportunity=OpportunityFactory(owner=cast.teammate))
    client = api_as(cast.manager)

    assert _ids(client.get("/tasks", status="open", opportunity=deal.pk)) == {soon.pk, later.pk}
    assert _ids(client.get("/tasks", status="done")) == {done.pk}
    assert _ids(client.get("/tasks", assignee=cast.teammate.pk)) == {other.pk}
    cut = (now + dt.timedelta(days=1)).isoformat()
    assert _ids(client.get("/tasks", status="open", opportunity=deal.pk, due_after=cut)) == {
        later.pk
    }
    assert soon.pk in _ids(client.get("/tasks", due_before=cut))
    page = client.get("/tasks", limit=1).json()
    assert (page["count"], len(page["items"])) == (4, 1)


def test_times_are_worded_in_the_organizations_zone(cast: Cast, api_as: ApiAs) -> None:
    due = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
    task = TaskFactory(opportunity=OpportunityFactory(owner=cast.owner), due_at=due)

    body = api_as(cast.owner).get(f"/tasks/{task.pk}").json()

    assert body["due_at"].endswith("+08:00")  # Asia/Shanghai
    assert dt.datetime.fromisoformat(body["due_at"]) == task.due_at
    assert body["opportunity_name"] == task.opportunity.name


def test_a_manager_adds_a_task_on_a_deal_for_someone_who_can_see_it(
    cast: Cast, api_as: ApiAs
) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    body = {"title": "寄送样机", "due_at": _later(24), "assignee": cast.owner.pk}

    response = api_as(cast.manager).post(f"/opportunities/{deal.pk}/tasks", body)

    assert response.status_code == 201, response.json()
    created = response.json()
    assert (created["title"], created["assignee"]["id"], created["status"]) == (
        "寄送样机",
        cast.owner.pk,
        "open",
    )
    entry = AuditEntry.objects.get(action="task.create", object_id=str(created["id"]))
    assert (entry.actor, entry.data["assignee_id"]) == (cast.manager, cast.owner.pk)
    # The owner is told of a task given to them.
    assert Notification.objects.filter(
        recipient=cast.owner, cause_key=f"task:{created['id']}:assigned:{entry.pk}"
    ).exists()
    mine = api_as(cast.owner).post(f"/opportunities/{deal.pk}/tasks", {**body, "assignee": None})
    assert mine.json()["assignee"]["id"] == cast.owner.pk


def test_a_rep_gives_tasks_only_to_themselves(cast: Cast, api_as: ApiAs) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    body = {"title": "请主管出面", "due_at": _later(24), "assignee": cast.manager.pk}

    response = api_as(cast.owner).post(f"/opportunities/{deal.pk}/tasks", body)

    assert response.status_code == 422, response.json()
    assert [d["field"] for d in response.json()["details"]] == ["assignee"]
    assert "only to yourself" in response.json()["details"][0]["message"]
    assert not Task.objects.filter(opportunity=deal).exists()


def test_adding_a_task_is_refused_with_the_reason(cast: Cast, api_as: ApiAs) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    path = f"/opportunities/{deal.pk}/tasks"
    body = {"title": "寄送样机", "due_at": _later(24)}

    blind = api_as(cast.owner).post(path, {**body, "assignee": cast.teammate.pk})
    foreign = api_as(cast.owner).post(path, {**body, "assignee": cast.outsider.pk})
    past = api_as(cast.owner).post(path, {**body, "due_at": _later(-1)})
    naive = api_as(cast.owner).post(path, {**body, "due_at": "2030-01-01T09:00:00"})
    empty = api_as(cast.owner).post(path, {**body, "title": ""})

    for response, field in [
        (blind, "assignee"),
        (foreign, "assignee"),
        (past, "due_at"),
        (naive, "due_at"),
        (empty, "title"),
    ]:
        assert response.status_code == 422, response.json()
        assert [d["field"] for d in response.json()["details"]] == [field]
    assert api_as(cast.ops).post(path, body).status_code == 403
    assert api_as(cast.teammate).post(path, body).status_code == 404
    assert api_as(cast.outsider).post(path, body).status_code == 404
    assert not Task.objects.filter(opportunity=deal).exists()


def test_completing_a_task_closes_it_once(cast: Cast, api_as: ApiAs) -> None:
    task = TaskFactory(opportunity=OpportunityFactory(owner=cast.owner))

    response = api_as(cast.owner).post(f"/tasks/{task.pk}/complete", {})
    again = api_as(cast.owner).post(f"/tasks/{task.pk}/complete", {})

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["on_time"]) == ("done", True)
    assert again.status_code == 409
    assert AuditEntry.objects.filter(action="task.complete", object_id=str(task.pk)).count() == 1


def test_rescheduling_moves_the_due_time_with_the_reason_audited(cast: Cast, api_as: ApiAs) -> None:
    task = TaskFactory(opportunity=OpportunityFactory(owner=cast.owner))
    new_due = _later(72)

    response = api_as(cast.manager).post(
        f"/tasks/{task.pk}/reschedule", {"due_at": new_due, "reason": "客户下周才回来"}
    )

    assert response.status_code == 200, response.json()
    assert dt.datetime.fromisoformat(response.json()["due_at"]) == dt.datetime.fromisoformat(
        new_due
    )
    entry = AuditEntry.objects.get(action="task.reschedule", object_id=str(task.pk))
    assert (entry.actor, entry.data["reason"]) == (cast.manager, "客户下周才回来")
    missing = api_as(cast.owner).post(f"/tasks/{task.pk}/reschedule", {"due_at": new_due})
    assert [d["field"] for d in missing.json()["details"]] == ["reason"]


def test_reassigning_gives_the_task_to_a_member_who_can_see_the_deal(
    cast: Cast, api_as: ApiAs
) -> None:
    task = TaskFactory(opportunity=OpportunityFactory(owner=cast.owner))
    path = f"/tasks/{task.pk}/reassign"

    blind = api_as(cast.admin).post(path, {"assignee": cast.teammate.pk})
    foreign = api_as(cast.admin).post(path, {"assignee": cast.outsider.pk})
    response = api_as(cast.admin).post(path, {"assignee": cast.manager.pk})

    assert [blind.status_code, foreign.status_code] == [422, 422]
    assert blind.json()["details"][0]["field"] == "assignee"
    assert response.status_code == 200, response.json()
    assert response.json()["assignee"]["id"] == cast.manager.pk
    entry = AuditEntry.objects.get(action="task.reassign", object_id=str(task.pk))
    assert entry.data == {"from": cast.owner.pk, "to": cast.manager.pk}
    assert Notification.objects.filter(
        recipient=cast.manager, cause_key=f"task:{task.pk}:assigned:{entry.pk}"
    ).exists()


def test_only_managers_and_admins_reassign_and_a_manager_within_their_teams(
    cast: Cast, api_as: ApiAs
) -> None:
    task = TaskFactory(opportunity=OpportunityFactory(owner=cast.owner))
    path = f"/tasks/{task.pk}/reassign"

    by_rep = api_as(cast.owner).post(path, {"assignee": cast.manager.pk})
    outside = api_as(cast.manager).post(path, {"assignee": cast.admin.pk})
    taken = api_as(cast.manager).post(path, {"assignee": cast.manager.pk})

    assert by_rep.status_code == 403
    assert outside.status_code == 422
    assert outside.json()["details"][0]["field"] == "assignee"
    assert taken.status_code == 200, taken.json()
    assert taken.json()["assignee"]["id"] == cast.manager.pk


def test_other_roles_and_organizations_cannot_change_a_task(cast: Cast, api_as: ApiAs) -> None:
    task = TaskFactory(opportunity=OpportunityFactory(owner=cast.owner))
    reschedule = {"due_at": _later(48), "reason": "改期"}

    for user, status in [
        (cast.teammate, 404),
        (cast.other_team_rep, 404),
        (cast.outsider, 404),
        (cast.ops, 403),
    ]:
        client = api_as(user)
        assert client.post(f"/tasks/{task.pk}/complete", {}).status_code == status
        assert client.post(f"/tasks/{task.pk}/reschedule", reschedule).status_code == status
        assert (
            client.post(f"/tasks/{task.pk}/reassign", {"assignee": cast.admin.pk}).status_code
            == status
        )
    task.refresh_from_db()
    assert (task.status, task.assignee) == (TaskStatus.OPEN, cast.owner)


def test_a_task_without_a_deal_goes_only_where_its_giver_may_assign_work(
    cast: Cast, api_as: ApiAs
) -> None:
    coaching = TaskFactory(opportunity=None, assignee=cast.owner)
    path = f"/tasks/{coaching.pk}/reassign"

    refused = api_as(cast.owner).post(path, {"assignee": cast.teammate.pk})
    response = api_as(cast.admin).post(path, {"assignee": cast.teammate.pk})

    assert refused.status_code == 403
    assert response.status_code == 200, response.json()
    assert response.json()["assignee"]["id"] == cast.teammate.pk
