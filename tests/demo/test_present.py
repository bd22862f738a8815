"""The demo lives in the present and tells its history as the services would have written it."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from pathlib import Path
from typing import Any

import pytest

from lodestar.automation.models import Task, TaskStatus
from lodestar.crm.models import Opportunity, OpportunityStatus
from lodestar.demo import DemoSummary, generate, load_demo_organization, processes
from lodestar.insights.models import Alert, Exemption
from lodestar.integrations.models import Notification
from lodestar.org.models import AuditEntry, Organization, User

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 3, 16)
NOW = dt.datetime.combine(TODAY, dt.time(15, 30), tzinfo=SHANGHAI)
MIDNIGHT = dt.datetime.combine(TODAY, dt.time(), tzinfo=SHANGHAI)
SMALL = {"reps": 5, "deals": 200, "months": 3, "seed": 7, "events_per_deal": 40}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def demo() -> tuple[Organization, DemoSummary]:
    summary = generate(slug="present", now=NOW, **SMALL)
    return Organization.objects.get(slug="present"), summary


def test_it_gives_the_same_data_for_the_same_seed_and_day_whatever_the_hour() -> None:
    morning = generate(slug="morning", now=MIDNIGHT + dt.timedelta(hours=7), **SMALL)
    night = generate(slug="night", now=MIDNIGHT + dt.timedelta(hours=23, minutes=59), **SMALL)
    tomorrow = generate(slug="tomorrow", today=TODAY + dt.timedelta(days=1), **SMALL)

    assert morning == night
    assert tomorrow.digest != morning.digest


def test_its_history_ends_where_the_day_begins(demo: tuple[Organization, DemoSummary]) -> None:
    from lodestar.events.models import Event

    org, _ = demo
    latest = Event.objects.filter(organization=org).order_by("-occurred_at").first()

    assert latest is not None
    assert MIDNIGHT - dt.timedelta(days=1) < latest.occurred_at <= MIDNIGHT


def test_it_has_tasks_due_today_and_this_week_and_none_long_overdue(
    demo: tuple[Organization, DemoSummary],
) -> None:
    org, _ = demo
    open_tasks = list(Task.objects.filter(organization=org, status=TaskStatus.OPEN))
    due_days = [task.due_at.astimezone(SHANGHAI).date() for task in open_tasks]
    overdue = [MIDNIGHT - task.due_at for task in open_tasks if task.due_at < MIDNIGHT]

    assert TODAY in due_days
    assert any(TODAY < day < TODAY + dt.timedelta(days=7) for day in due_days)
    assert overdue
    assert max(overdue) < dt.timedelta(days=7)


def test_most_open_deals_are_within_their_stage_target(
    demo: tuple[Organization, DemoSummary],
) -> None:
    org, _ = demo
    ratios = []
    for deal in Opportunity.objects.filter(organization=org, status=OpportunityStatus.OPEN):
        kind = "industrial" if "工业" in deal.team.name else "saas"
        stage = next(s for s in processes.process(kind).stages if s.key == deal.stage_key)
        dwell = (MIDNIGHT - deal.stage_entered_at) / dt.timedelta(hours=1)
        ratios.append(dwell / stage.target_dwell_hours)

    within = sum(ratio <= 1 for ratio in ratios)
    assert within > len(ratios) / 3
    assert within < len(ratios)
    assert max(ratios) < 30


def test_its_audit_lines_read_as_the_services_write_them(
    demo: tuple[Organization, DemoSummary],
) -> None:
    from lodestar.gates.services import opportunity_advance
    from lodestar.insights.services import exemption_declare

    org, _ = demo
    demo_lines = {
        action: json.loads(data) if isinstance(data, str) else data
        for action, data in AuditEntry.objects.filter(organization=org).values_list(
            "action", "data"
        )
    }
    deal = (
        Opportunity.objects.filter(organization=org, status=OpportunityStatus.OPEN)
        .exclude(stage_key="lead")
        .exclude(pk__in=Exemption.objects.values("opportunity_id"))
        .select_related("owner")
        .first()
    )
    assert deal is not None
    kind = "industrial" if "工业" in deal.team.name else "saas"
    keys = processes.process(kind).keys
    earlier = keys[keys.index(deal.stage_key) - 1]

    opportunity_advance(user=deal.owner, opportunity=deal, to_stage=earlier, now=NOW)
    exemption_declare(
        user=deal.owner,
        opportunity=deal,
        reason_code="customer_on_leave",
        reason="客户休假",
        days=7,
        now=NOW,
    )
    service_lines = {
        entry.action: entry.data
        for entry in AuditEntry.objects.filter(organization=org, at=NOW, actor=deal.owner)
    }

    for action in ("opportunity.stage_change", "exemption.declare"):
        assert action in demo_lines
        assert set(demo_lines[action]) <= set(service_lines[action])
    assert set(demo_lines["opportunity.stage_change"]) == set(
        service_lines["opportunity.stage_change"]
    )


def test_its_trigger_tasks_close_on_the_events_their_playbook_names(
    demo: tuple[Organization, DemoSummary],
) -> None:
    from lodestar.events.models import Event

    org, _ = demo
    task = (
        Task.objects.filter(organization=org, trigger_key="upload_minutes", status="done")
        .exclude(completed_by=None)
        .first()
    )
    closed_by_upload = Task.objects.filter(
        organization=org,
        trigger_key="upload_minutes",
        opportunity__events__type="minutes.uploaded",
        opportunity__events__occurred_at=models_f("completed_at"),
    )

    assert task is not None
    assert closed_by_upload.exists()
    assert (
        not Event.objects.filter(
            organization=org, type="task.completed", payload__trigger_key="upload_minutes"
        )
        .filter(opportunity__in=closed_by_upload.values("opportunity_id"))
        .exists()
    )


def models_f(name: str) -> object:
    from django.db.models import F

    return F(name)


def test_the_loaded_demo_has_a_health_trend_of_twelve_weeks() -> None:
    from lodestar.insights.selectors import TREND_WEEKS, rep_health_report

    load_demo_organization(now=NOW, **SMALL)
    manager = User.objects.get(username="manager")
    rep = User.objects.get(username="rep")

    report = rep_health_report(user=manager, rep_id=rep.pk, now=NOW)

    assert len(report.trend) == TREND_WEEKS == 12
    assert all(point.date is not None for point in report.trend)
    assert all(point.score is not None for point in report.trend)


def test_the_sweeps_find_nothing_new_to_raise_right_after_the_load() -> None:
    from lodestar.insights.refresh import insights_recompute
    from lodestar.insights.task_alerts import sweep_tasks

    summary = load_demo_organization(now=NOW, **SMALL)
    org = summary.organization_id
    overdue_tasks = Task.objects.filter(organization_id=org, status="open", due_at__lt=NOW)
    alerts, notifications = Alert.objects.count(), Notification.objects.count()

    next_sweep = NOW + dt.timedelta(minutes=5)
    insights_recompute(organization_id=org, now=next_sweep)
    report = sweep_tasks(now=next_sweep)

    assert (report.overdue, report.escalated, report.reminded) == (0, 0, 0)
    assert Alert.objects.count() == alerts
    assert Notification.objects.count() == notifications
    # The load raised one alert per task overdue today, not a backlog of months.
    assert Alert.objects.filter(organization_id=org, kind="task_overdue").count() == (
        overdue_tasks.count()
    )


def test_the_rep_login_has_tasks_due_today_and_this_week() -> None:
    summary = load_demo_organization(now=NOW, **SMALL)
    rep = User.objects.get(username="rep")
    open_tasks = Task.objects.filter(
        organization_id=summary.organization_id, assignee=rep, status=TaskStatus.OPEN
    )
    due_days = [task.due_at.astimezone(SHANGHAI).date() for task in open_tasks]

    # Made by the triggers of the rep's newest leads' first visits, yesterday afternoon.
    assert due_days.count(TODAY) >= 2
    assert all(day < TODAY + dt.timedelta(days=7) for day in due_days)
    assert set(open_tasks.values_list("trigger_key", flat=True)) - {""}


def test_the_rep_login_sees_a_twelve_week_health_trend_and_what_to_do_today() -> None:
    from lodestar.insights.selectors import own_health

    load_demo_organization(now=NOW, **SMALL)
    health = own_health(user=User.objects.get(username="rep"), now=NOW)

    assert health is not None
    assert sum(point.score is not None for point in health.trend) == 12
    assert health.actions
    assert all(action.count for action in health.actions)
