"""The manager's alert groups and a rep's page in a real browser, at a desk and on a phone:
groups collapsed with their counts, opened to their cards, more cards loaded, cards picked and
acknowledged, the whole group acknowledged, and the rep's name leading to their page; nothing
wider than the screen."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from lodestar.crm.models import Opportunity
from lodestar.insights.health import health_history_record
from lodestar.insights.models import Alert, AlertStatus
from lodestar.insights.policy import Policies
from lodestar.insights.selectors import TREND_WEEKS
from tests.alerting import raise_alerts
from tests.browser.conftest import DESKTOP, PHONE, log_in, screenshot
from tests.conftest import Cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alerted(cast: Cast) -> Cast:
    """Twelve stalled deals of the owner's and three silent ones of the teammate's alerted to
    their manager; twelve weeks of the owner's health behind their page."""
    from tests.factories import TaskFactory

    raise_alerts(cast, cast.owner, "risk.stale", 12)
    raise_alerts(cast, cast.teammate, "risk.silence", 3)
    now = timezone.now()
    # The deals have been open for months: each week of the trend has a score.
    Opportunity.objects.filter(owner=cast.owner).update(
        created_at=now - dt.timedelta(days=120), stage_entered_at=now - dt.timedelta(days=100)
    )
    deal = Opportunity.objects.filter(owner=cast.owner).order_by("pk").first()
    TaskFactory(
        opportunity=deal,
        title="回访客户确认交期",
        created_at=now - dt.timedelta(days=3),
        due_at=now - dt.timedelta(hours=5),
    )
    policies = Policies(cast.org)
    for days_ago in range(TREND_WEEKS * 7 - 1, -1, -1):
        health_history_record(
            policies=policies, rep_ids={cast.owner.pk}, now=now - dt.timedelta(days=days_ago)
        )
    return cast


def fits(page: Any, viewport: dict[str, int]) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def test_a_manager_works_the_alert_groups_at_a_desk(
    alerted: Cast, live_server: Any, open_page: Any
) -> None:
    cast = alerted
    page = open_page(DESKTOP)
    log_in(page, live_server.url, "manager")
    assert page.url.endswith("/dashboard/")

    group = page.locator(f"#alerts-{cast.owner.pk}-risk-stale")
    summary = group.locator("summary")
    assert "×12" in summary.inner_text()
    assert group.get_attribute("open") is None
    assert not group.locator(".alert-item").first.is_visible()
    screenshot(page, "40-dashboard-alert-groups-1280")

    summary.click()
    assert group.locator(".alert-item").count() == 10
    group.get_by_role("button", name="Show 2 more").click()
    group.locator(".alert-item").nth(11).wait_for()

    picked = [int(box.get_attribute("value")) for box in group.locator(".pick input").all()[:2]]
    for alert_id in picked:
        page.locator(f"#pick-{alert_id}").check()
    group.get_by_role("button", name="Acknowledge selected").click()
    group.get_by_text("2 alerts acknowledged.").wait_for()
    assert set(
        Alert.objects.filter(status=AlertStatus.ACKNOWLEDGED).values_list("pk", flat=True)
    ) == set(picked)

    group.get_by_role("button", name="Acknowledge all 10").click()
    group.get_by_text("10 alerts acknowledged.").wait_for()
    assert not Alert.objects.filter(kind="risk.stale", status=AlertStatus.OPEN).exists()
    assert Alert.objects.filter(kind="risk.silence", status=AlertStatus.OPEN).count() == 3
    assert fits(page, DESKTOP)
    screenshot(page, "41-dashboard-alert-group-open-1280")

    group.get_by_role("link", name=f"{cast.owner}'s page").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/reps/{cast.owner.pk}/")
    assert page.locator("h1").inner_text() == str(cast.owner)
    assert page.locator(".sparkline circle").count() == 12
    page.get_by_text("回访客户确认交期", exact=True).wait_for()
    assert fits(page, DESKTOP)
    screenshot(page, "42-rep-page-1280")


def test_the_groups_and_the_rep_page_fit_a_phone(
    alerted: Cast, live_server: Any, open_page: Any
) -> None:
    cast = alerted
    phone = open_page(PHONE)
    log_in(phone, live_server.url, "manager")
    group = phone.locator(f"#alerts-{cast.teammate.pk}-risk-silence")
    group.locator("summary").click()
    group.locator(".alert-item").nth(2).wait_for()
    assert fits(phone, PHONE)
    screenshot(phone, "43-dashboard-alert-groups-375")

    phone.goto(f"{live_server.url}/reps/{cast.owner.pk}/")
    phone.wait_for_load_state("networkidle")
    phone.locator(".sparkline").wait_for()
    assert fits(phone, PHONE)
    screenshot(phone, "44-rep-page-375")
