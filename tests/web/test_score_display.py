"""One rounding for a health score wherever it is shown: the manager's alert, the dashboard's
table and the rep's Today page show the same whole number, and a score shown as 70 is never
called below 70."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lodestar.core.scoring import TaskRecord, rep_health
from lodestar.insights.health import HEALTH_KIND, health_sync
from lodestar.insights.models import Alert
from lodestar.insights.policy import Policies
from lodestar.insights.summary import RecomputeSummary
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def _score(cast: Cast, on_time: int, missed: int) -> None:
    """Record the rep's health as the worker does, scored on tasks alone (on time / due)."""
    now = timezone.now()
    due = now - dt.timedelta(hours=10)
    tasks = [
        TaskRecord(i, due, completed_at=due if i < on_time else None)
        for i in range(on_time + missed)
    ]
    health = rep_health(deals=[], tasks=tasks, now=now)
    health_sync(Policies(cast.org), {cast.owner.pk: health}, now, RecomputeSummary())


def _dashboard_cell(page: str, rep: str) -> str:
    name = rf"(?:<a [^>]*>)?{re.escape(rep)}(?:</a>)?"  # the name links to the rep's page
    row = re.search(rf'<th scope="row">{name}</th><td class="num[^"]*">(.*?)</td>', page)
    assert row is not None
    return row.group(1)


@pytest.mark.parametrize(
    ("on_time", "missed", "shown", "below"), [(3493, 1507, "70", False), (133, 67, "67", True)]
)
def test_the_alert_the_dashboard_and_today_show_the_same_rounded_score(
    cast: Cast,
    client_as: Callable[[Any], Client],
    on_time: int,
    missed: int,
    shown: str,
    below: bool,
) -> None:
    _score(cast, on_time, missed)  # 69.86 and 66.5 % of the tasks done on time

    cell = _dashboard_cell(
        client_as(cast.manager).get(reverse("web:dashboard")).content.decode(), str(cast.owner)
    )
    assert cell.startswith(shown)
    assert ("below threshold" in cell) is below
    today = client_as(cast.owner).get(reverse("web:today")).content.decode()
    mine = re.search(r'<strong class="health-score ([^"]*)">([^<]*)</strong>', today)
    assert mine is not None
    assert mine.group(2) == shown
    assert (mine.group(1) == "score-low") is below
    alert = Alert.objects.filter(kind=HEALTH_KIND, recipient=cast.manager).first()
    if below:
        assert alert is not None
        assert f"健康度 {shown}(低于 70,需要主管介入)" in alert.message_zh
        assert f"Health {shown} (below 70, needs a manager)" in alert.message_en
    else:
        assert alert is None
