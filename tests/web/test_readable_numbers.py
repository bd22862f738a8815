"""Readable numbers: one duration format, percentages with one decimal at most, local times,
and drill-downs that name deals, accounts, reps, stages and required actions instead of ids."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from lodestar.insights.metrics import METRICS
from lodestar.web.readable import local_moment, percent_text, span_text
from tests.conftest import Cast
from tests.web.conftest import DemoDeal

ClientAs = Callable[[Any], Client]
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "lodestar" / "industry_templates"


@pytest.mark.parametrize(
    ("value", "shown"),
    [(61.94, "61.9 %"), (100.0, "100 %"), (66.666666, "66.7 %"), (0.05, "0.1 %"), (None, "–")],
)
def test_a_percentage_has_at_most_one_decimal(value: float | None, shown: str) -> None:
    with translation.override("en"):
        assert percent_text(value) == shown


def test_a_duration_reads_alike_in_both_languages() -> None:
    wait = dt.timedelta(hours=5976)
    with translation.override("zh-hans"):
        assert span_text(wait) == "8 个月 9 天"
    with translation.override("en"):
        assert span_text(wait) == "8 months 9 days"


def test_a_moment_is_shown_in_the_active_zone_never_as_iso_text() -> None:
    moment = dt.datetime(2026, 12, 5, 11, 22, tzinfo=dt.UTC)
    with translation.override("zh-hans"), timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")):
        assert "19:22" in local_moment(moment)
        assert "19:22" in local_moment(moment.isoformat())
        assert not ISO_MOMENT.search(local_moment(moment))


def test_an_overdue_task_reads_in_two_units_never_hours_in_the_thousands(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    from tests.factories import TaskFactory

    now = timezone.now()
    TaskFactory(
        opportunity=demo_deal.deal,
        title="寄送样机",
        created_at=now - dt.timedelta(days=260),
        due_at=now - dt.timedelta(days=249, minutes=5),
    )
    page = client_as(cast.owner).get(reverse("web:today")).content.decode()
    assert "Overdue by 8 months 9 days" in page
    assert "5976" not in page


def test_the_pages_show_times_in_the_organizations_zone(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    cast.org.time_zone = "America/New_York"
    cast.org.save()
    due = demo_deal.task.due_at
    page = client_as(cast.owner).get(reverse("web:today")).content.decode()
    with translation.override("en"):
        expected = date_format(
            due.astimezone(zoneinfo.ZoneInfo("America/New_York")), "SHORT_DATETIME_FORMAT"
        )
    assert expected in page


def test_the_task_drilldown_names_deals_and_reps_with_local_times(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    from tests.factories import TaskFactory

    now = timezone.now()
    TaskFactory(
        opportunity=demo_deal.deal,
        title="催款",
        created_at=now - dt.timedelta(days=3),
        due_at=now - dt.timedelta(days=2),
    )
    html = client_as(cast.manager).get(reverse("web:drilldown", args=["task_on_time"]))
    text = html.content.decode()
    assert (
        f'<a href="{reverse("web:deal", args=[demo_deal.deal.pk])}">{demo_deal.deal.name}' in text
    )
    assert str(cast.owner) in text
    assert not ISO_MOMENT.search(text)
    assert 'data-label="Due at"' in text  # each value carries its column's name for the cards
    assert re.search(r"<strong>\d+(\.\d)? %</strong>", text)


def test_the_conversion_drilldown_names_stages_not_keys(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    text = client_as(cast.manager).get(reverse("web:drilldown", args=["stage_conversion"]))
    html = text.content.decode()
    assert "&gt;" not in html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert "first_contact" not in html
    assert "Product demo" in html


def test_the_action_penetration_drilldown_names_accounts_reps_and_requirements(
    cast: Cast, client_as: ClientAs
) -> None:
    from lodestar.playbooks.services import playbook_publish_source
    from tests.factories import AccountFactory

    playbook_publish_source(
        user=cast.ops,
        source=(TEMPLATES / "industrial_equipment.yaml").read_text(encoding="utf-8"),
        source_name="industrial_equipment.yaml",
    )
    account = AccountFactory(organization=cast.org, owner=cast.owner, tier="key", name="宝山钢铁")
    client = client_as(cast.manager)
    html = client.get(reverse("web:drilldown", args=["action_penetration"])).content.decode()
    body = html.split("<tbody>", 1)[1]
    assert "宝山钢铁" in body
    assert str(cast.owner) in body
    assert "Inspection report uploaded" in body
    assert "Key-account monthly actions" in body
    assert f"{account.pk}:key_account_monthly" not in html
    assert "attachment:inspection_report" not in html

    zh = client.get(
        reverse("web:drilldown", args=["action_penetration"]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "设备巡检报告上传" in zh
    assert "重点客户月度规定动作" in zh


def test_a_yardstick_headline_and_note_are_worded_in_the_readers_language(
    cast: Cast, client_as: ClientAs, published: Any
) -> None:
    from tests.factories import AccountFactory

    AccountFactory(organization=cast.org, owner=cast.owner, industry="", region="")
    client = client_as(cast.manager)
    html = client.get(reverse("web:drilldown", args=["record_completeness"])).content.decode()
    assert "Fields filled: " in html
    assert "fields filled" not in html  # the API's note, in English only
    assert "industry, region" in html


def test_the_admin_shows_a_score_as_the_pages_do(cast: Cast) -> None:
    from lodestar.org.models import User
    from tests.factories import HealthSnapshotFactory

    HealthSnapshotFactory(rep=cast.owner, score=79.365079365, dwell_score=66.5)
    operator = Client(HTTP_ACCEPT_LANGUAGE="en")
    operator.force_login(User.objects.create_superuser(username="root", password="pw-for-tests"))
    html = operator.get(reverse("admin:insights_healthsnapshot_changelist")).content.decode()
    assert ">79<" in html
    assert ">67<" in html
    assert "79.365" not in html


def test_the_trend_names_its_weeks_in_the_readers_words(cast: Cast, published: Any) -> None:
    from lodestar.web.dashboard import DashboardFilters, health_trend

    now = dt.datetime(2026, 12, 6, 4, tzinfo=dt.UTC)
    with translation.override("zh-hans"):
        labels = health_trend(user=cast.manager, filters=DashboardFilters(), now=now).chart_data()
    assert labels["labels"][-1] == "11月30日"
    assert not any(re.fullmatch(r"\d{4}-\d{2}-\d{2}", label) for label in labels["labels"])


@pytest.mark.parametrize("metric", sorted(METRICS))
def test_every_drilldown_reads_in_words(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal, metric: str
) -> None:
    from tests.factories import DailyReportFactory, StageTransitionFactory, TaskFactory

    now = timezone.now()
    StageTransitionFactory(
        opportunity=demo_deal.deal, from_stage="first_contact", to_stage="demo", occurred_at=now
    )
    TaskFactory(opportunity=demo_deal.deal, department="技术支持部", due_at=now)
    DailyReportFactory(author=cast.owner, date=timezone.localdate(now))
    response = client_as(cast.manager).get(reverse("web:drilldown", args=[metric]))
    assert response.status_code == 200
    html = response.content.decode()
    assert not ISO_MOMENT.search(html)
    for raw in ("</strong> percent", "days (median", "hours (mean", "fields filled"):
        assert raw not in html
    assert "rep average" not in html


def test_the_deal_fields_show_dates_and_money_as_people_read_them(
    cast: Cast, demo_deal: DemoDeal
) -> None:
    from lodestar.web.criteria import deal_field_inputs

    deal = demo_deal.deal
    deal.expected_close_date = dt.date(2027, 1, 15)
    deal.amount = 1234567
    deal.currency = "CNY"
    with translation.override("zh-hans"):
        shown = {item.key: item for item in deal_field_inputs(deal, None)}
    assert shown["expected_close_date"].value == "2027-01-15"  # what the date input takes
    assert shown["expected_close_date"].display != "2027-01-15"
    assert "2027" in shown["expected_close_date"].display
    assert shown["amount"].display.startswith("¥")
    assert shown["amount"].display.replace(",", "")[1:] == "1234567"  # the money filter's
