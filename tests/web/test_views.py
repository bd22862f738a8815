"""The pages through Django's test client: who may see what, and what each action answers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lodestar.automation.models import Task, TaskStatus
from lodestar.crm.models import Attachment
from lodestar.events.models import Event
from lodestar.insights.models import Alert, AlertStatus, Exemption
from lodestar.insights.task_titles import task_title
from tests.conftest import Cast
from tests.factories import TaskFactory
from tests.web.conftest import DemoDeal, htmx

ClientAs = Callable[[Any], Client]
MINUTES = ("会议纪要:客户确认预算范围,王总和李厂长参加演示,要求下周提供试用账号。" * 12).encode()


# --- home and navigation -----------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_the_login_page(db: None) -> None:
    response = Client().get(reverse("web:today"))
    assert response.status_code == 302
    assert reverse("web:login") in response["Location"]


@pytest.mark.parametrize(
    ("who", "home"),
    [
        ("owner", "web:today"),
        ("manager", "web:dashboard"),
        ("ops", "web:playbooks"),
        ("admin", "web:dashboard"),
    ],
)
def test_it_sends_each_role_to_its_home(
    cast: Cast, client_as: ClientAs, who: str, home: str
) -> None:
    response = client_as(getattr(cast, who)).get(reverse("web:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse(home)


def test_it_shows_a_rep_the_rep_navigation(cast: Cast, client_as: ClientAs) -> None:
    page = client_as(cast.owner).get(reverse("web:today")).content.decode()
    assert 'href="/today/"' in page
    assert 'href="/board/"' in page
    assert 'href="/dashboard/"' not in page
    assert 'href="/admin/"' not in page


def test_it_shows_ops_the_playbooks(cast: Cast, client_as: ClientAs, published: Any) -> None:
    response = client_as(cast.ops).get(reverse("web:playbooks"))
    assert response.status_code == 200
    assert "v1" in response.content.decode()


# --- the rep's page ----------------------------------------------------------------------------


def test_it_lists_the_reps_tasks_with_time_left_and_overdue(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    now = timezone.now()
    TaskFactory(
        opportunity=demo_deal.deal,
        title="发送定制化方案",
        created_at=now - dt.timedelta(days=2),
        due_at=now - dt.timedelta(hours=26),
    )
    page = client_as(cast.owner).get(reverse("web:today")).content.decode()
    assert "准备行业案例包" in page
    assert "left" in page
    assert "发送定制化方案" in page
    assert "Overdue by 1 day 2 hours" in page


def test_it_shows_deals_with_their_unmet_criteria_and_the_action_forms(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    page = client_as(cast.owner).get(reverse("web:today")).content.decode()
    assert reverse("web:today-deals") in page  # the deals load right after the tasks
    page = client_as(cast.owner).get(reverse("web:today-deals")).content.decode()
    assert "<html" not in page
    assert demo_deal.deal.name in page
    assert "Decision-makers attended" in page  # unmet, with its explanation
    assert 'capture="environment"' in page  # the phone camera
    assert "王总" in page
    assert 'name="attendees"' in page


def test_it_does_not_show_a_rep_their_teammates_tasks_or_deals(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    client = client_as(cast.teammate)
    assert "准备行业案例包" not in client.get(reverse("web:today")).content.decode()
    assert demo_deal.deal.name not in client.get(reverse("web:today-deals")).content.decode()


def test_it_completes_a_task_and_answers_with_the_row(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    client = client_as(cast.owner)
    response = htmx(client, reverse("web:task-done", args=[demo_deal.task.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert "Done" in body
    # The deal is in the event's name: htmx listens without a filter (filters need eval).
    assert json.loads(response["HX-Trigger"]) == {f"deal-changed-{demo_deal.deal.pk}": {}}
    demo_deal.task.refresh_from_db()
    assert demo_deal.task.status == TaskStatus.DONE
    assert demo_deal.task.completed_by == cast.owner

    again = htmx(client, reverse("web:task-done", args=[demo_deal.task.pk]))
    assert again.status_code == 409
    assert "already" in again.content.decode()


@pytest.mark.parametrize(
    ("language", "action", "finished"),
    [("en", "Mark done", "Done"), ("zh-hans", "标记完成", "已完成")],
)
def test_it_words_the_button_of_an_open_task_apart_from_the_finished_state(
    cast: Cast, demo_deal: DemoDeal, language: str, action: str, finished: str
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(cast.owner)
    for page in (reverse("web:today"), reverse("web:deal", args=[demo_deal.deal.pk])):
        row = _task_row(client.get(page).content.decode(), demo_deal.task.pk)
        # The task's title follows, for screen readers only.
        assert f'>{action}<span class="visually-hidden">' in row
        assert finished not in row

    done = htmx(client, reverse("web:task-done", args=[demo_deal.task.pk])).content.decode()
    assert f"✓ {finished}" in done
    assert action not in done


def _task_row(page: str, task_id: int) -> str:
    start = page.index(f'id="task-{task_id}"')
    return page[start : page.index("</li>", start)]


@pytest.mark.parametrize("who", ["teammate", "outsider", "other_team_rep"])
def test_it_hides_a_task_from_people_outside_its_scope(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal, who: str
) -> None:
    response = htmx(
        client_as(getattr(cast, who)), reverse("web:task-done", args=[demo_deal.task.pk])
    )
    assert response.status_code == 404
    demo_deal.task.refresh_from_db()
    assert demo_deal.task.status == TaskStatus.OPEN


def test_it_logs_a_call_once_however_often_the_form_is_sent(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    client = client_as(cast.owner)
    url = reverse("web:log-call", args=[demo_deal.deal.pk])
    data = {"delivery_id": "form-1", "summary": "王总确认预算", "minutes": "12"}
    first = htmx(client, url, data)
    assert first.status_code == 200
    assert "Call logged" in first.content.decode()
    assert htmx(client, url, data).status_code == 200
    calls = Event.objects.filter(opportunity=demo_deal.deal, type="call")
    assert calls.count() == 1
    assert calls.get().payload == {"summary": "王总确认预算", "minutes": 12}


def test_it_refuses_a_call_with_bad_input_next_to_the_form(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    url = reverse("web:log-call", args=[demo_deal.deal.pk])
    response = htmx(client_as(cast.owner), url, {"delivery_id": "x", "minutes": "-3"})
    assert response.status_code == 422
    assert 'role="alert"' in response.content.decode()
    assert not Event.objects.filter(type="call").exists()


def test_it_logs_a_meeting_with_its_attendees(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    url = reverse("web:log-meeting", args=[demo_deal.deal.pk])
    ids = [c.pk for c in demo_deal.bosses]
    response = htmx(
        client_as(cast.owner), url, {"delivery_id": "m-1", "topic": "演示", "attendees": ids}
    )
    assert response.status_code == 200, response.content.decode()
    event = Event.objects.get(opportunity=demo_deal.deal, type="meeting.held")
    assert sorted(event.payload["attendee_contact_ids"]) == sorted(ids)
    assert event.with_customer


def test_it_refuses_an_attendee_from_another_account(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    from tests.factories import ContactFactory

    stranger = ContactFactory(organization=cast.org)
    url = reverse("web:log-meeting", args=[demo_deal.deal.pk])
    response = htmx(client_as(cast.owner), url, {"delivery_id": "m", "attendees": [stranger.pk]})
    assert response.status_code == 422
    assert not Event.objects.filter(type="meeting.held").exists()


@pytest.mark.parametrize("who", ["teammate", "outsider"])
def test_it_lets_nobody_outside_the_scope_log_on_a_deal(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal, who: str
) -> None:
    url = reverse("web:log-call", args=[demo_deal.deal.pk])
    response = htmx(client_as(getattr(cast, who)), url, {"delivery_id": "x"})
    assert response.status_code == 404
    assert not Event.objects.exists()


def test_it_uploads_minutes_with_their_text(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    url = reverse("web:upload", args=[demo_deal.deal.pk])
    upload = SimpleUploadedFile("纪要.txt", MINUTES, content_type="application/octet-stream")
    response = htmx(client_as(cast.owner), url, {"kind": "meeting_minutes", "file": upload})
    assert response.status_code == 200, response.content.decode()
    attachment = Attachment.objects.get(opportunity=demo_deal.deal)
    assert attachment.kind == "meeting_minutes"
    assert attachment.text_length >= 300
    assert "Uploaded" in response.content.decode()


def test_it_refuses_an_unsupported_file_with_the_services_message(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    url = reverse("web:upload", args=[demo_deal.deal.pk])
    upload = SimpleUploadedFile("x.bin", b"\x00\x01\x02binary", content_type="application/pdf")
    response = htmx(client_as(cast.owner), url, {"kind": "meeting_minutes", "file": upload})
    assert response.status_code == 422
    assert "not supported" in response.content.decode()
    assert not Attachment.objects.exists()


def test_it_declares_an_exemption(cast: Cast, client_as: ClientAs, demo_deal: DemoDeal) -> None:
    url = reverse("web:exemption", args=[demo_deal.deal.pk])
    data = {"reason_code": "customer_unreachable", "reason": "王总出差两周", "days": "14"}
    response = htmx(client_as(cast.owner), url, data)
    assert response.status_code == 200, response.content.decode()
    assert "re-check" in response.content.decode()
    assert Exemption.objects.get(opportunity=demo_deal.deal).reason == "王总出差两周"


def test_it_refuses_an_exemption_without_a_reason(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    url = reverse("web:exemption", args=[demo_deal.deal.pk])
    response = htmx(client_as(cast.owner), url, {"reason_code": "customer_unreachable"})
    assert response.status_code == 422
    assert not Exemption.objects.exists()


# --- the deal page -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("owner", 200), ("manager", 200), ("ops", 200), ("teammate", 404), ("outsider", 404)],
)
def test_it_shows_the_deal_page_to_its_scope_only(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal, who: str, status: int
) -> None:
    response = client_as(getattr(cast, who)).get(reverse("web:deal", args=[demo_deal.deal.pk]))
    assert response.status_code == status


def test_it_shows_the_stage_path_checklist_contacts_and_tasks(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    page = client_as(cast.owner).get(reverse("web:deal", args=[demo_deal.deal.pk])).content.decode()
    assert 'aria-current="step"' in page
    assert "Product demo" in page
    assert "✓" in page  # budget met
    assert "✗" in page  # attendance and minutes not
    assert "王总" in page
    assert "准备行业案例包" in page


def test_it_says_why_a_deal_cannot_advance_then_advances_it(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    client = client_as(cast.owner)
    url = reverse("web:advance", args=[demo_deal.deal.pk])
    blocked = htmx(client, url, {"to_stage": "tech_confirmed"})
    assert blocked.status_code == 409
    body = blocked.content.decode()
    assert "exit criteria are unmet" in body
    assert 'role="alert"' in body
    demo_deal.deal.refresh_from_db()
    assert demo_deal.deal.stage_key == "demo"

    ids = [c.pk for c in demo_deal.bosses]
    htmx(
        client,
        reverse("web:log-meeting", args=[demo_deal.deal.pk]),
        {"delivery_id": "m", "attendees": ids},
    )
    upload = SimpleUploadedFile("纪要.txt", MINUTES)
    htmx(
        client,
        reverse("web:upload", args=[demo_deal.deal.pk]),
        {"kind": "meeting_minutes", "file": upload},
    )
    moved = htmx(client, url, {"to_stage": "tech_confirmed"})
    assert moved.status_code == 200, moved.content.decode()
    assert "Moved to" in moved.content.decode()
    demo_deal.deal.refresh_from_db()
    assert demo_deal.deal.stage_key == "tech_confirmed"


def test_it_refreshes_the_gate_panel_and_the_needs_fragment(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    client = client_as(cast.owner)
    panel = client.get(reverse("web:gate-panel", args=[demo_deal.deal.pk]), HTTP_HX_REQUEST="true")
    needs = client.get(reverse("web:deal-needs", args=[demo_deal.deal.pk]), HTTP_HX_REQUEST="true")
    assert panel.status_code == needs.status_code == 200
    assert 'id="gate-panel"' in panel.content.decode()
    assert "<html" not in panel.content.decode()
    assert "still unmet" in needs.content.decode()


# --- the board ---------------------------------------------------------------------------------


def test_it_shows_the_board_by_the_playbooks_stages(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    page = client_as(cast.owner).get(reverse("web:board")).content.decode()
    assert 'data-stage="first_contact"' in page
    assert 'data-stage="quote"' in page
    assert f'id="card-{demo_deal.deal.pk}"' in page
    assert 'draggable="true"' in page
    assert f'for="move-{demo_deal.deal.pk}"' in page  # the keyboard fallback


def test_it_refuses_a_board_move_with_the_unmet_criteria_and_keeps_the_card(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    url = reverse("web:board-move", args=[demo_deal.deal.pk])
    response = htmx(client_as(cast.owner), url, {"to_stage": "quote"})
    assert response.status_code == 409
    body = response.content.decode()
    assert 'data-stage="demo"' in body
    assert "✗" in body


def test_it_moves_a_card_backwards_which_is_always_allowed(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    url = reverse("web:board-move", args=[demo_deal.deal.pk])
    response = htmx(client_as(cast.owner), url, {"to_stage": "first_contact"})
    assert response.status_code == 200
    assert 'data-stage="first_contact"' in response.content.decode()


@pytest.mark.parametrize(("who", "status"), [("ops", 403), ("teammate", 404), ("outsider", 404)])
def test_it_lets_only_deal_workers_in_scope_move_cards(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal, who: str, status: int
) -> None:
    url = reverse("web:board-move", args=[demo_deal.deal.pk])
    assert (
        htmx(client_as(getattr(cast, who)), url, {"to_stage": "first_contact"}).status_code
        == status
    )


# --- the manager dashboard ---------------------------------------------------------------------


def test_it_shows_the_manager_the_alert_inbox_and_the_filters(
    cast: Cast, client_as: ClientAs, health_alert: Alert
) -> None:
    page = client_as(cast.manager).get(reverse("web:dashboard")).content.decode()
    assert "funnel health is 52" in page
    assert "Plan coaching" in page
    assert "Acknowledge" in page
    assert 'for="id_team"' in page
    assert 'for="id_rep"' in page
    assert 'for="id_period"' in page


@pytest.mark.parametrize("part", ["tiles", "funnel", "trend"])
def test_it_serves_the_dashboard_fragments(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal, part: str
) -> None:
    response = client_as(cast.manager).get(
        reverse("web:dashboard-part", args=[part]), {"period": "4w"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "<html" not in response.content.decode()


def test_it_drills_down_into_a_tile_and_not_into_unknown_metrics(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    client = client_as(cast.manager)
    assert client.get(reverse("web:drilldown", args=["task_on_time"])).status_code == 200
    assert client.get(reverse("web:drilldown", args=["no_such_metric"])).status_code == 404


def test_it_acknowledges_the_managers_own_alert_only(
    cast: Cast, client_as: ClientAs, health_alert: Alert
) -> None:
    url = reverse("web:alert-ack", args=[health_alert.pk])
    assert htmx(client_as(cast.teammate), url).status_code == 404
    response = htmx(client_as(cast.manager), url)
    assert response.status_code == 200
    assert "Acknowledged" in response.content.decode()
    health_alert.refresh_from_db()
    assert health_alert.status == AlertStatus.ACKNOWLEDGED


def test_it_plans_coaching_as_a_task_for_the_rep(
    cast: Cast, client_as: ClientAs, health_alert: Alert
) -> None:
    url = reverse("web:alert-coaching", args=[health_alert.pk])
    response = htmx(client_as(cast.manager), url, {"rep_id": cast.owner.pk})
    assert response.status_code == 200, response.content.decode()
    # Stored in the site's language, named after its manager: worded in each reader's.
    task = Task.objects.get(assignee=cast.owner, trigger_key=f"coaching:{cast.manager.pk}")
    assert task_title(task).en == f"Coaching session with {cast.manager}"
    assert task.due_at > timezone.now()
    health_alert.refresh_from_db()
    assert health_alert.status == AlertStatus.ACKNOWLEDGED


def test_it_lets_only_the_reps_manager_plan_coaching(
    cast: Cast, client_as: ClientAs, health_alert: Alert
) -> None:
    url = reverse("web:alert-coaching", args=[health_alert.pk])
    response = htmx(client_as(cast.teammate), url, {"rep_id": cast.owner.pk})
    assert response.status_code == 403
    assert not Task.objects.filter(trigger_key__startswith="coaching:").exists()


def test_it_shows_pages_in_chinese_when_asked(cast: Cast, demo_deal: DemoDeal) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast.owner)
    page = client.get(reverse("web:deal", args=[demo_deal.deal.pk])).content.decode()
    assert 'lang="zh-hans"' in page
    assert "产品演示" in page
