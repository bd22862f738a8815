"""A rep's page: their health (parts, 12-week trend), open deals, tasks, scorecards and
coaching notes; the rep, their manager, ops and admins may open it, nobody else."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lodestar.insights.health import health_history_record
from lodestar.insights.policy import Policies
from lodestar.insights.selectors import TREND_WEEKS
from lodestar.insights.services import coaching_task_create
from lodestar.org.models import Role
from tests.conftest import Cast
from tests.web.conftest import DemoDeal

pytestmark = pytest.mark.django_db
ClientAs = Callable[[Any], Client]


@pytest.fixture
def worked(cast: Cast, demo_deal: DemoDeal) -> dt.datetime:
    """The owner with an overdue task, a coaching session planned, and 12 weeks of health."""
    from tests.factories import TaskFactory

    now = timezone.now()
    TaskFactory(
        opportunity=demo_deal.deal,
        title="跟进报价确认",
        created_at=now - dt.timedelta(days=2),
        due_at=now - dt.timedelta(hours=3),
    )
    coaching_task_create(
        user=cast.manager, rep_id=cast.owner.pk, note="一起复盘演示环节的提问", now=now
    )
    policies = Policies(cast.org)
    for days_ago in range(TREND_WEEKS * 7 - 1, -1, -1):
        health_history_record(
            policies=policies, rep_ids={cast.owner.pk}, now=now - dt.timedelta(days=days_ago)
        )
    return now


def rep_url(user: Any) -> str:
    return reverse("web:rep", args=[user.pk])


def test_the_manager_sees_the_reps_health_deals_tasks_and_coaching(
    cast: Cast, demo_deal: DemoDeal, worked: dt.datetime, client_as: ClientAs
) -> None:
    response = client_as(cast.manager).get(rep_url(cast.owner))
    assert response.status_code == 200
    page = response.content.decode()

    health = page[page.index('class="card my-health"') :]
    health = health[: health.index("</section>")]
    for part in ("Dwell", "On time", "Interaction"):
        assert f"<dt>{part}</dt>" in health
    assert len(re.findall(r"<circle ", health)) == TREND_WEEKS
    assert f"{cast.owner}'s health score per week" in health
    assert demo_deal.deal.name in page
    assert reverse("web:deal", args=[demo_deal.deal.pk]) in page
    assert "跟进报价确认" in page  # overdue
    assert "准备行业案例包" in page  # due within the week
    assert f"Planned by {cast.manager}" in page
    assert "一起复盘演示环节的提问" in page
    assert "Scorecard history" in page


def test_a_coaching_session_handed_to_someone_else_stays_on_the_reps_page(
    cast: Cast, worked: dt.datetime, client_as: ClientAs
) -> None:
    from lodestar.automation.models import Task

    Task.objects.filter(description="一起复盘演示环节的提问").update(assignee=cast.teammate)
    page = client_as(cast.manager).get(rep_url(cast.owner)).content.decode()
    assert "一起复盘演示环节的提问" in page
    assert f"now with {cast.teammate}" in page


def test_the_rep_sees_their_own_page_with_the_same_score_as_today(
    cast: Cast, worked: dt.datetime, client_as: ClientAs
) -> None:
    client = client_as(cast.owner)
    own = client.get(rep_url(cast.owner)).content.decode()
    today = client.get(reverse("web:today")).content.decode()
    pattern = r'class="health-score[^"]*">([^<]+)<'
    assert re.search(pattern, own)[1] == re.search(pattern, today)[1]  # type: ignore[index]


@pytest.mark.parametrize("who", ["admin", "ops"])
def test_admins_and_ops_open_any_reps_page(
    cast: Cast, worked: dt.datetime, client_as: ClientAs, who: str
) -> None:
    assert client_as(getattr(cast, who)).get(rep_url(cast.owner)).status_code == 200


def test_nobody_else_opens_a_reps_page(
    cast: Cast, worked: dt.datetime, client_as: ClientAs
) -> None:
    from tests.factories import UserFactory

    south = cast.other_team_rep.membership.team
    south_manager = UserFactory(
        organization=cast.org, role=Role.MANAGER, team=south, username="southmanager"
    )
    south.manager = south_manager
    south.save()

    assert client_as(south_manager).get(rep_url(cast.owner)).status_code == 404
    assert client_as(cast.teammate).get(rep_url(cast.owner)).status_code == 404
    assert client_as(cast.outsider).get(rep_url(cast.owner)).status_code == 404
    assert client_as(cast.manager).get(rep_url(cast.other_team_rep)).status_code == 404
    # A manager has no rep page.
    assert client_as(cast.admin).get(rep_url(cast.manager)).status_code == 404
    assert client_as(south_manager).get(rep_url(cast.other_team_rep)).status_code == 200


def test_a_rep_without_a_score_yet_gets_a_page_saying_so(cast: Cast, client_as: ClientAs) -> None:
    page = client_as(cast.manager).get(rep_url(cast.teammate)).content.decode()
    assert "No health score yet" in page
    assert "No open deals." in page
    assert "No coaching planned yet." in page


def test_the_dashboard_and_drilldowns_link_the_reps_names(
    cast: Cast, worked: dt.datetime, client_as: ClientAs
) -> None:
    client = client_as(cast.manager)
    dashboard = client.get(reverse("web:dashboard")).content.decode()
    assert f'<a href="{rep_url(cast.owner)}">{cast.owner}</a>' in dashboard

    drilldown = client.get(reverse("web:drilldown", args=["task_on_time"])).content.decode()
    assert f'<a href="{rep_url(cast.owner)}">{cast.owner}</a>' in drilldown
