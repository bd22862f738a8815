"""Tasks on the pages: adding one on a deal page and on Today, rescheduling it with a reason,
reassigning it — each through the services the API calls, so with the API's refusals, audit
lines and announcements; and a task closed by the activity logged on the page, as from the API."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lodestar.automation.models import Task, TaskStatus
from lodestar.integrations.models import Notification
from lodestar.org.models import AuditEntry
from lodestar.playbooks.services import playbook_publish_source
from tests.conftest import ApiClient, Cast, seed_playbook_source
from tests.factories import OpportunityFactory, TaskFactory
from tests.web.conftest import DemoDeal, htmx

pytestmark = pytest.mark.django_db
ClientAs = Callable[[Any], Client]
ApiAs = Callable[[Any], ApiClient]


def _local(days: int = 1, hour: int = 10) -> dt.datetime:
    """A moment `days` from now at `hour`:00 in the organization's zone (Asia/Shanghai)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    day = timezone.now().astimezone(zone).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=zone)


def _due_fields(moment: dt.datetime) -> dict[str, str]:
    return {"due_date": moment.strftime("%Y-%m-%d"), "due_time": moment.strftime("%H:%M")}


def _triggered(response: Any) -> dict[str, Any]:
    return json.loads(response.get("HX-Trigger", "{}"))


# --- adding ---------------------------------------------------------------------------------------


def test_a_rep_adds_a_task_on_the_deal_page_due_in_the_organizations_zone(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    client = client_as(cast.owner)
    url = reverse("web:deal-task-add", args=[demo_deal.deal.pk])
    due = _local(days=2, hour=15)

    form = client.get(url)
    response = htmx(client, url, {"title": "寄送样机", **_due_fields(due)})

    assert form.status_code == 200
    # A rep is offered no one else: the task is theirs.
    assert 'name="assignee"' not in form.content.decode()
    assert response.status_code == 200, response.content.decode()
    assert "tasks-changed" in _triggered(response)
    task = Task.objects.get(opportunity=demo_deal.deal, title="寄送样机")
    assert (task.assignee, task.due_at, task.status) == (cast.owner, due, TaskStatus.OPEN)
    assert "Added “寄送样机”" in response.content.decode()
    entry = AuditEntry.objects.get(action="task.create", object_id=str(task.pk))
    assert entry.actor == cast.owner
    # The deal page then lists it, with its controls.
    page = client.get(reverse("web:deal", args=[demo_deal.deal.pk])).content.decode()
    assert "寄送样机" in page
    assert reverse("web:task-reschedule", args=[task.pk]) in page


def test_a_rep_cannot_give_a_task_to_someone_else_on_the_page_or_over_the_api(
    cast: Cast, client_as: ClientAs, api_as: ApiAs, demo_deal: DemoDeal
) -> None:
    url = reverse("web:deal-task-add", args=[demo_deal.deal.pk])
    due = _local()

    page = htmx(
        client_as(cast.owner),
        url,
        {"title": "请主管出面", "assignee": str(cast.manager.pk), **_due_fields(due)},
    )
    api = api_as(cast.owner).post(
        f"/opportunities/{demo_deal.deal.pk}/tasks",
        {"title": "请主管出面", "due_at": due.isoformat(), "assignee": cast.manager.pk},
    )

    assert page.status_code == api.status_code == 422
    message = api.json()["details"][0]["message"]
    assert api.json()["details"][0]["field"] == "assignee"
    assert message in page.content.decode()
    assert "请主管出面" in page.content.decode()  # what was typed is kept
    assert not Task.objects.filter(title="请主管出面").exists()


def test_a_manager_adds_a_task_for_the_deals_owner_who_is_told(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    client = client_as(cast.manager)
    url = reverse("web:deal-task-add", args=[demo_deal.deal.pk])

    form = client.get(url).content.decode()
    response = htmx(
        client,
        url,
        {"title": "约王总面谈", "assignee": str(cast.owner.pk), **_due_fields(_local())},
    )

    # Offered: the manager and the deal's owner, not the teammate who cannot see the deal.
    assert f'value="{cast.owner.pk}"' in form
    assert f'value="{cast.manager.pk}"' in form
    assert f'value="{cast.teammate.pk}"' not in form
    assert response.status_code == 200, response.content.decode()
    task = Task.objects.get(title="约王总面谈")
    assert task.assignee == cast.owner
    told = Notification.objects.filter(
        recipient=cast.owner, cause_key__startswith=f"task:{task.pk}:"
    )
    assert told.count() == 1
    assert told.get().link == reverse("web:deal", args=[demo_deal.deal.pk])


@pytest.mark.parametrize(
    ("fields", "field_message"),
    [
        ({"title": ""}, "Task: This field is required."),
        ({"due_date": "2026-02-30"}, "Due date: Enter a valid date."),
        ({"due_time": "25:00"}, "Due time: Enter a valid time."),
    ],
)
def test_adding_a_task_is_refused_next_to_the_form_with_the_field(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal, fields: dict[str, str], field_message: str
) -> None:
    url = reverse("web:deal-task-add", args=[demo_deal.deal.pk])
    data = {"title": "寄送样机", **_due_fields(_local()), **fields}

    response = htmx(client_as(cast.owner), url, data)

    assert response.status_code == 422
    assert field_message in response.content.decode()
    assert Task.objects.filter(opportunity=demo_deal.deal).count() == 1  # the fixture's own


def test_a_due_time_in_the_past_gets_the_apis_message(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    url = reverse("web:deal-task-add", args=[demo_deal.deal.pk])

    response = htmx(client_as(cast.owner), url, {"title": "补录", **_due_fields(_local(days=-1))})

    assert response.status_code == 422
    assert "The due time must be in the future." in response.content.decode()


@pytest.mark.parametrize(("who", "status"), [("teammate", 404), ("outsider", 404), ("ops", 403)])
def test_only_those_who_work_the_deal_add_tasks_to_it(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal, who: str, status: int
) -> None:
    url = reverse("web:deal-task-add", args=[demo_deal.deal.pk])
    client = client_as(getattr(cast, who))

    assert client.get(url).status_code == status
    assert htmx(client, url, {"title": "x", **_due_fields(_local())}).status_code == status
    assert not Task.objects.filter(title="x").exists()


def test_a_rep_adds_a_task_on_today_choosing_one_of_their_deals(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    client = client_as(cast.owner)
    url = reverse("web:today-task-add")
    teammates_deal = OpportunityFactory(owner=cast.teammate, name="别人的商机")

    form = client.get(url).content.decode()
    due = _local(days=0, hour=23)
    response = htmx(
        client,
        url,
        {"opportunity": str(demo_deal.deal.pk), "title": "回电王总", **_due_fields(due)},
    )
    missing = htmx(client, url, {"title": "回电王总", **_due_fields(due)})
    foreign = htmx(
        client,
        url,
        {"opportunity": str(teammates_deal.pk), "title": "越权", **_due_fields(due)},
    )

    assert demo_deal.deal.name in form
    assert "别人的商机" not in form
    assert response.status_code == 200, response.content.decode()
    assert Task.objects.get(title="回电王总").opportunity == demo_deal.deal
    assert missing.status_code == 422
    assert "Deal: This field is required." in missing.content.decode()
    assert foreign.status_code == 422
    assert "Choose a deal." in foreign.content.decode()
    assert not Task.objects.filter(title="越权").exists()
    today = client.get(reverse("web:today")).content.decode()
    assert 'id="today-task-lists"' in today
    assert reverse("web:today-task-add") in today


def test_ops_get_no_form_to_add_tasks_on_today(cast: Cast, client_as: ClientAs) -> None:
    page = client_as(cast.ops).get(reverse("web:today")).content.decode()

    assert reverse("web:today-task-add") not in page


# --- rescheduling ---------------------------------------------------------------------------------


def test_rescheduling_on_the_page_moves_the_due_time_with_the_reason_audited(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    task = demo_deal.task
    new_due = _local(days=3, hour=9)

    response = htmx(
        client_as(cast.owner),
        reverse("web:task-reschedule", args=[task.pk]),
        {**_due_fields(new_due), "reason": "客户下周才回来"},
    )

    assert response.status_code == 200, response.content.decode()
    body = response.content.decode()
    assert f'id="task-{task.pk}"' in body
    assert "Rescheduled: due" in body
    task.refresh_from_db()
    assert task.due_at == new_due
    entry = AuditEntry.objects.get(action="task.reschedule", object_id=str(task.pk))
    assert (entry.actor, entry.data["reason"]) == (cast.owner, "客户下周才回来")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reason": ""}, "Reason: This field is required."),
        ({"due_date": ""}, "Due date: This field is required."),
    ],
)
def test_rescheduling_without_a_reason_or_date_is_refused_in_the_row(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal, fields: dict[str, str], message: str
) -> None:
    task = demo_deal.task
    data = {**_due_fields(_local(days=3)), "reason": "改期", **fields}

    response = htmx(client_as(cast.owner), reverse("web:task-reschedule", args=[task.pk]), data)

    assert response.status_code == 422
    body = response.content.decode()
    assert message in body
    assert "<details open>" in body  # the form stays open with what was entered
    before = task.due_at
    task.refresh_from_db()
    assert task.due_at == before
    assert not AuditEntry.objects.filter(action="task.reschedule").exists()


def test_rescheduling_into_the_past_or_a_closed_task_gets_the_apis_refusal(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    client = client_as(cast.owner)
    url = reverse("web:task-reschedule", args=[demo_deal.task.pk])

    past = htmx(client, url, {**_due_fields(_local(days=-2)), "reason": "改期"})
    htmx(client, reverse("web:task-done", args=[demo_deal.task.pk]))
    closed = htmx(client, url, {**_due_fields(_local(days=2)), "reason": "改期"})

    assert past.status_code == 422
    assert "The due time must be in the future." in past.content.decode()
    assert closed.status_code == 409
    assert "already" in closed.content.decode()


@pytest.mark.parametrize(("who", "status"), [("teammate", 404), ("outsider", 404), ("ops", 403)])
def test_others_cannot_reschedule_a_task(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal, who: str, status: int
) -> None:
    response = htmx(
        client_as(getattr(cast, who)),
        reverse("web:task-reschedule", args=[demo_deal.task.pk]),
        {**_due_fields(_local(days=3)), "reason": "改期"},
    )

    assert response.status_code == status
    assert not AuditEntry.objects.filter(action="task.reschedule").exists()


# --- reassigning ----------------------------------------------------------------------------------


def test_an_admin_reassigns_a_task_and_the_new_assignee_is_told(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    task = demo_deal.task
    client = client_as(cast.admin)

    page = client.get(reverse("web:deal", args=[demo_deal.deal.pk])).content.decode()
    response = htmx(
        client, reverse("web:task-reassign", args=[task.pk]), {"assignee": str(cast.manager.pk)}
    )

    assert reverse("web:task-reassign", args=[task.pk]) in page
    assert response.status_code == 200, response.content.decode()
    assert "who has been told" in response.content.decode()
    task.refresh_from_db()
    assert task.assignee == cast.manager
    entry = AuditEntry.objects.get(action="task.reassign", object_id=str(task.pk))
    assert (entry.actor, entry.data) == (cast.admin, {"from": cast.owner.pk, "to": cast.manager.pk})
    told = Notification.objects.get(
        recipient=cast.manager, cause_key__startswith=f"task:{task.pk}:"
    )
    assert told.cause_key == f"task:{task.pk}:assigned:{entry.pk}"


def test_a_manager_takes_over_a_task_of_their_team_but_gives_none_outside_it(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    task = demo_deal.task
    client = client_as(cast.manager)
    url = reverse("web:task-reassign", args=[task.pk])

    outside = htmx(client, url, {"assignee": str(cast.admin.pk)})
    taken = htmx(client, url, {"assignee": str(cast.manager.pk)})

    assert outside.status_code == 422
    assert "a member of a team you manage" in outside.content.decode()
    assert taken.status_code == 200, taken.content.decode()
    task.refresh_from_db()
    assert task.assignee == cast.manager
    # Nobody is told of a task they took themselves.
    assert not Notification.objects.filter(cause_key__startswith=f"task:{task.pk}:").exists()


def test_a_rep_gets_no_reassign_control_and_is_refused_as_by_the_api(
    cast: Cast, client_as: ClientAs, api_as: ApiAs, demo_deal: DemoDeal
) -> None:
    task = demo_deal.task
    client = client_as(cast.owner)

    page = client.get(reverse("web:deal", args=[demo_deal.deal.pk])).content.decode()
    response = htmx(
        client, reverse("web:task-reassign", args=[task.pk]), {"assignee": str(cast.manager.pk)}
    )
    api = api_as(cast.owner).post(f"/tasks/{task.pk}/reassign", {"assignee": cast.manager.pk})

    assert reverse("web:task-reschedule", args=[task.pk]) in page
    assert reverse("web:task-reassign", args=[task.pk]) not in page
    assert response.status_code == api.status_code == 403
    task.refresh_from_db()
    assert task.assignee == cast.owner


def test_reassigning_to_someone_who_cannot_see_the_deal_is_refused_in_the_row(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    task = demo_deal.task

    response = htmx(
        client_as(cast.manager),
        reverse("web:task-reassign", args=[task.pk]),
        {"assignee": str(cast.teammate.pk)},
    )
    blank = htmx(client_as(cast.manager), reverse("web:task-reassign", args=[task.pk]), {})

    assert response.status_code == 422
    assert "cannot see the deal" in response.content.decode()
    assert blank.status_code == 422
    assert "New assignee: This field is required." in blank.content.decode()
    task.refresh_from_db()
    assert task.assignee == cast.owner


def test_other_teams_and_organizations_cannot_reassign(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    for who in ("other_team_rep", "outsider"):
        response = htmx(
            client_as(getattr(cast, who)),
            reverse("web:task-reassign", args=[demo_deal.task.pk]),
            {"assignee": str(cast.admin.pk)},
        )
        assert response.status_code == 404


def test_the_controls_are_worded_in_chinese(cast: Cast, demo_deal: DemoDeal) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast.manager)

    page = client.get(reverse("web:deal", args=[demo_deal.deal.pk])).content.decode()
    form = client.get(reverse("web:deal-task-add", args=[demo_deal.deal.pk])).content.decode()
    refused = htmx(
        client,
        reverse("web:task-reschedule", args=[demo_deal.task.pk]),
        {**_due_fields(_local(days=-2)), "reason": "改期"},
    ).content.decode()

    for words in ("改期", "转派", "添加任务"):
        assert words in page
    for words in ("截止日期", "负责人"):
        assert words in form
    assert "截止时间必须在未来" in refused


# --- tasks closed by what is logged ---------------------------------------------------------------

FOLLOW_UP = """triggers:
  - id: call_back
    on: meeting.held
    task:
      title: {zh: 会后电话回访, en: Call back after the meeting}
      due: 24h
      closes_on: [call]
"""


@pytest.mark.parametrize("path", ["page", "api"])
def test_a_call_logged_closes_its_follow_up_task_from_the_page_as_from_the_api(
    cast: Cast, client_as: ClientAs, api_as: ApiAs, path: str
) -> None:
    source = seed_playbook_source().replace("triggers:\n", FOLLOW_UP, 1)
    playbook_publish_source(user=cast.ops, source=source, source_name="follow-up.yaml")
    deal = OpportunityFactory(owner=cast.owner, stage_key="demo")
    api = api_as(cast.owner)
    held = (timezone.now() - dt.timedelta(hours=1)).replace(microsecond=0)
    meeting = api.post(
        "/events",
        {
            "type": "meeting.held",
            "source": "crm",
            "external_id": "m-1",
            "occurred_at": held.isoformat(),
            "opportunity_id": deal.pk,
        },
    )
    assert meeting.status_code == 200, meeting.json()
    task = Task.objects.get(opportunity=deal, trigger_key="call_back")
    assert task.status == TaskStatus.OPEN

    if path == "page":
        response = htmx(
            client_as(cast.owner),
            reverse("web:log-call", args=[deal.pk]),
            {"delivery_id": "call-1", "summary": "回访王总"},
        )
    else:
        response = api.post(
            "/events",
            {
                "type": "call",
                "source": "crm",
                "external_id": "c-1",
                "occurred_at": timezone.now().isoformat(),
                "opportunity_id": deal.pk,
                "payload": {"summary": "回访王总"},
            },
        )

    assert response.status_code == 200
    task.refresh_from_db()
    assert (task.status, task.completed_by) == (TaskStatus.DONE, cast.owner)


def test_a_task_without_controls_for_ops_reading_someone_elses(
    cast: Cast, client_as: ClientAs
) -> None:
    task = TaskFactory(opportunity=OpportunityFactory(owner=cast.owner), title="别人的任务")

    page = client_as(cast.ops).get(reverse("web:deal", args=[task.opportunity_id])).content.decode()

    assert "别人的任务" in page
    assert reverse("web:task-reschedule", args=[task.pk]) not in page
    assert reverse("web:task-done", args=[task.pk]) not in page
