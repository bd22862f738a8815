"""The rep's own funnel health on 今日: the manager's number, its parts, trend and next steps."""

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
from lodestar.insights.models import HealthSnapshot
from lodestar.insights.policy import Policies
from lodestar.insights.selectors import TREND_WEEKS, own_health, team_health
from tests.conftest import Cast
from tests.web.conftest import DemoDeal

pytestmark = pytest.mark.django_db


def _record_weeks(cast: Cast, now: dt.datetime) -> None:
    """A snapshot a day for the trend's weeks, as the worker's hourly sweep leaves them."""
    policies = Policies(cast.org)
    for days_ago in range(TREND_WEEKS * 7 - 1, -1, -1):
        health_history_record(
            policies=policies,
            rep_ids={cast.owner.pk, cast.teammate.pk},
            now=now - dt.timedelta(days=days_ago),
        )


@pytest.fixture
def scored(cast: Cast, demo_deal: DemoDeal) -> dt.datetime:
    from tests.factories import TaskFactory

    now = timezone.now()
    TaskFactory(
        opportunity=demo_deal.deal,
        title="跟进报价确认",
        created_at=now - dt.timedelta(days=2),
        due_at=now - dt.timedelta(hours=3),
    )
    _record_weeks(cast, now)
    return now


def test_the_rep_sees_the_number_their_manager_sees(
    cast: Cast, scored: dt.datetime, client_as: Callable[[Any], Client]
) -> None:
    mine = own_health(user=cast.owner, now=scored)
    managers_row = next(s for s in team_health(user=cast.manager) if s.rep_id == cast.owner.pk)
    assert mine is not None
    assert mine.snapshot.pk == managers_row.pk

    today = client_as(cast.owner).get(reverse("web:today")).content.decode()
    dashboard = client_as(cast.manager).get(reverse("web:dashboard")).content.decode()
    on_today = re.search(r'class="health-score[^"]*">([^<]+)<', today)
    after_name = dashboard[dashboard.index(str(cast.owner)) :]
    on_dashboard = re.search(r'<td class="num[^"]*">([^<]+)<', after_name)
    assert on_today is not None
    assert on_dashboard is not None
    assert on_today[1].strip() == on_dashboard[1].strip() == str(round(managers_row.score))


def test_today_shows_the_parts_the_trend_and_what_raises_it(
    cast: Cast, scored: dt.datetime, client_as: Callable[[Any], Client]
) -> None:
    page = client_as(cast.owner).get(reverse("web:today")).content.decode()
    section = page[page.index('class="card my-health"') : page.index("</section>")]

    assert "My funnel health" in section
    for part in ("Dwell", "On time", "Interaction"):
        assert f"<dt>{part}</dt>" in section
    assert len(re.findall(r"<circle ", section)) == TREND_WEEKS
    assert "1 task overdue" in section
    assert "1 task due today" in section


def test_the_actions_put_the_weakest_part_first_and_leave_out_nothing_to_do(
    cast: Cast, scored: dt.datetime
) -> None:
    HealthSnapshot.objects.filter(rep=cast.owner).update(
        task_score=90.0,
        interaction_score=10.0,
        dwell_score=100.0,
        weights={"dwell_deviation": 0.4, "task_on_time": 0.3, "interaction_frequency": 0.3},
    )

    mine = own_health(user=cast.owner, now=scored)

    assert mine is not None
    # The customer never answered on the owner's deal: interaction has the most to gain.
    assert [a.kind for a in mine.actions] == ["silent", "overdue", "due_today"]
    assert all(action.count for action in mine.actions)
    assert len(mine.actions) <= 3


def test_it_is_in_chinese_for_a_chinese_reader(
    cast: Cast, scored: dt.datetime, client_as: Callable[[Any], Client]
) -> None:
    client = client_as(cast.owner)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    page = client.get(reverse("web:today")).content.decode()

    assert "1 个任务今天到期" in page
    assert "My funnel health" not in page


def test_no_health_part_for_someone_not_a_rep_or_before_the_first_score(
    cast: Cast, published: Any, client_as: Callable[[Any], Client]
) -> None:
    assert own_health(user=cast.manager, now=timezone.now()) is None
    assert own_health(user=cast.owner, now=timezone.now()) is None
    page = client_as(cast.owner).get(reverse("web:today")).content.decode()
    assert "my-health" not in page
