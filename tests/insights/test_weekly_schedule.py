"""When weekly reports are made and how they reach the manager: the schedule in the
organization's zone, once per team and week (re-runs and a second worker change nothing), the
outbox to e-mail and the robot with the report's link, and the PDF with its Chinese text."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from lodestar.core.reports import IsoWeek
from lodestar.errors import PermissionDenied, ValidationFailed
from lodestar.insights import weekly_reports
from lodestar.insights.models import WeeklyReport, WeeklyReportSchedule
from lodestar.insights.weekly_pdf import cjk_font_available, weekly_report_pdf
from lodestar.insights.weekly_reports import (
    schedule_of,
    weekly_report_make,
    weekly_reports_due,
    weekly_schedule_update,
)
from lodestar.integrations.delivery import Outcome, deliver
from lodestar.integrations.models import Channel, ChannelConfig, Notification
from lodestar.org.models import AuditEntry
from tests.conftest import Cast
from tests.insights.weekly_data import DUE, NOW, WEEK, TeamWeek, build_week
from tests.integrations.servers import WebhookReceiver

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def week(cast: Cast) -> TeamWeek:
    return build_week(cast)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


def reports(cast: Cast) -> list[tuple[int, str]]:
    return list(
        WeeklyReport.objects.filter(organization=cast.org)
        .order_by("team_id")
        .values_list("team_id", "week")
    )


def test_without_a_schedule_reports_are_due_on_monday_at_eight_local_time(cast: Cast) -> None:
    schedule = schedule_of(organization=cast.org)
    assert (schedule.weekday, schedule.hour, schedule.enabled) == (1, 8, True)
    assert schedule.due(WEEK) == DUE


def test_the_sweep_makes_each_teams_report_once_its_moment_has_come(week: TeamWeek) -> None:
    cast = week.cast
    assert weekly_reports_due(now=DUE - MINUTE) == 0  # Monday 07:59 in Shanghai
    assert reports(cast) == []
    assert weekly_reports_due(now=DUE) == 2  # both teams of the organization
    assert reports(cast) == [
        (cast.team.pk, "2026-W50"),
        (cast.other_team_rep.membership.team_id, "2026-W50"),
    ]


def test_running_the_sweep_again_makes_and_sends_nothing_new(week: TeamWeek) -> None:
    cast = week.cast
    assert weekly_reports_due(now=DUE) == 2
    sent = Notification.objects.count()
    made = list(WeeklyReport.objects.values_list("pk", "generated_at"))
    for later in (DUE + MINUTE, DUE + dt.timedelta(days=3)):
        assert weekly_reports_due(now=later) == 0
    assert list(WeeklyReport.objects.values_list("pk", "generated_at")) == made
    assert Notification.objects.count() == sent
    # The next week is another report.
    assert weekly_reports_due(now=DUE + dt.timedelta(weeks=1)) == 2
    assert WeeklyReport.objects.filter(organization=cast.org, week="2026-W51").count() == 2


def test_a_second_worker_making_the_same_week_is_turned_away_and_sends_nothing(
    week: TeamWeek, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers both find no report and compute it; the first to insert wins."""
    cast = week.cast
    compose = weekly_reports.weekly_figures

    def slow_compose(**kwargs: Any) -> dict[str, Any]:
        figures = compose(**kwargs)
        if not WeeklyReport.objects.exists():  # the other worker inserts in the meantime
            monkeypatch.setattr(weekly_reports, "weekly_figures", compose)
            weekly_report_make(organization=cast.org, team=cast.team, week=WEEK, now=NOW)
        return figures

    monkeypatch.setattr(weekly_reports, "weekly_figures", slow_compose)
    sent_before = Notification.objects.count()
    second = weekly_report_make(organization=cast.org, team=cast.team, week=WEEK, now=NOW)
    assert not second.created
    assert WeeklyReport.objects.count() == 1
    # Only the winner's notifications exist: one in-app row for the manager.
    assert Notification.objects.count() - sent_before == 1


def test_the_database_holds_one_report_per_team_and_week(week: TeamWeek) -> None:
    report = weekly_report_make(
        organization=week.cast.org, team=week.cast.team, week=WEEK, now=NOW
    ).report
    with pytest.raises(IntegrityError), transaction.atomic():
        WeeklyReport.objects.create(
            organization=report.organization,
            team=report.team,
            week=report.week,
            period_start=report.period_start,
            period_end=report.period_end,
            generated_at=NOW,
        )


def test_the_schedule_follows_the_weekday_hour_and_zone_of_the_organization(
    week: TeamWeek,
) -> None:
    cast = week.cast
    cast.org.time_zone = "America/New_York"
    cast.org.save()
    weekly_schedule_update(user=cast.admin, weekday=5, hour=17, enabled=True, now=NOW)
    friday_five_pm = dt.datetime(2026, 12, 11, 17, 0, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    assert weekly_reports_due(now=friday_five_pm - MINUTE) == 0
    assert weekly_reports_due(now=friday_five_pm) == 2
    report = WeeklyReport.objects.get(team=cast.team)
    assert (report.week, report.period_end) == ("2026-W50", friday_five_pm)


def test_a_switched_off_schedule_makes_no_report(week: TeamWeek) -> None:
    weekly_schedule_update(user=week.cast.admin, weekday=1, hour=8, enabled=False, now=NOW)
    assert weekly_reports_due(now=DUE + MINUTE) == 0


def test_only_an_administrator_changes_the_schedule_and_it_is_audited(cast: Cast) -> None:
    for who in (cast.manager, cast.ops, cast.owner):
        with pytest.raises(PermissionDenied):
            weekly_schedule_update(user=who, weekday=2, hour=9, enabled=True)
    with pytest.raises(ValidationFailed) as refused:
        weekly_schedule_update(user=cast.admin, weekday=8, hour=9, enabled=True)
    assert refused.value.details[0].field == "weekday"
    weekly_schedule_update(user=cast.admin, weekday=2, hour=9, enabled=True)
    row = WeeklyReportSchedule.objects.get(organization=cast.org)
    assert (row.weekday, row.hour, row.updated_by) == (2, 9, cast.admin)
    assert AuditEntry.objects.filter(action="weekly_report.schedule", actor=cast.admin).exists()


def test_a_week_that_has_not_begun_is_refused(week: TeamWeek) -> None:
    with pytest.raises(ValidationFailed) as refused:
        weekly_report_make(
            organization=week.cast.org, team=week.cast.team, week=IsoWeek(2026, 51), now=NOW
        )
    assert "has not begun" in str(refused.value.details[0].message)
    assert not WeeklyReport.objects.exists()


def test_the_report_goes_through_the_outbox_to_email_and_the_robot_with_its_link(
    week: TeamWeek, receiver: WebhookReceiver, mailoutbox: Any, settings: Any
) -> None:
    settings.LODESTAR_BASE_URL = "https://lodestar.example.com"
    cast = week.cast
    ChannelConfig.objects.create(organization=cast.org, kind=Channel.EMAIL)
    ChannelConfig.objects.create(
        organization=cast.org, team=cast.team, kind=Channel.WECOM, webhook_url=receiver.url
    )
    report = weekly_report_make(organization=cast.org, team=cast.team, week=WEEK, now=NOW).report
    link = f"/reports/weekly/{report.pk}/"
    rows = {row.channel: row for row in Notification.objects.filter(cause_key__startswith="weekly")}
    assert set(rows) == {"in_app", "email", "wecom"}
    assert {row.link for row in rows.values()} == {link}
    assert rows["email"].email_address == cast.manager.email
    assert deliver(rows["email"].pk, worker="w", now=lambda: NOW) is Outcome.DELIVERED
    assert deliver(rows["wecom"].pk, worker="w", now=lambda: NOW) is Outcome.DELIVERED
    (mail,) = mailoutbox
    assert mail.to == [cast.manager.email]
    assert f"https://lodestar.example.com{link}" in mail.body
    assert "2026-W50" in mail.subject
    assert "华东一组" in mail.subject
    (posted,) = receiver.received
    content = posted.body["markdown"]["content"]
    assert f"https://lodestar.example.com{link}" in content
    assert "¥45,000" in content  # the weighted pipeline in the message


def test_a_second_sweep_does_not_send_the_report_again(week: TeamWeek) -> None:
    ChannelConfig.objects.create(organization=week.cast.org, kind=Channel.EMAIL)
    weekly_reports_due(now=DUE)
    sent = Notification.objects.filter(channel="email").count()
    weekly_reports_due(now=DUE + dt.timedelta(hours=1))
    assert Notification.objects.filter(channel="email").count() == sent == 1


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_pdf_renders_with_its_chinese_text(week: TeamWeek) -> None:
    report = weekly_report_make(
        organization=week.cast.org, team=week.cast.team, week=WEEK, now=NOW
    ).report
    pdf = weekly_report_pdf(report, language="zh-hans")
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "2026-W50" in text
    if not cjk_font_available():
        pytest.skip("no CJK font (fonts-noto-cjk): the PDF is drawn, its Chinese is not")
    compact = text.replace(" ", "").replace("\n", "")
    assert "华东一组" in compact
    assert "在阶段2(产品演示)停留12天" in compact  # the stuck reason, as stored in Chinese


def test_the_pdf_in_english_says_weighted_pipeline_not_forecast(week: TeamWeek) -> None:
    report = weekly_report_make(
        organization=week.cast.org, team=week.cast.team, week=WEEK, now=NOW
    ).report
    text = pdf_text(weekly_report_pdf(report, language="en")).replace("\n", " ")
    assert "Weighted pipeline" in text
    assert "This is not a forecast." in text


def test_without_a_chinese_font_the_pdf_is_still_drawn_and_says_what_to_install(
    week: TeamWeek, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lodestar.insights import weekly_pdf

    monkeypatch.setattr(weekly_pdf, "cjk_font_available", lambda: False)
    report = weekly_report_make(
        organization=week.cast.org, team=week.cast.team, week=WEEK, now=NOW
    ).report
    pdf = weekly_report_pdf(report, language="en")
    assert pdf.startswith(b"%PDF")
    assert "install fonts-noto-cjk" in pdf_text(pdf).replace("\n", " ")


@pytest.mark.django_db(transaction=True)
def test_racing_workers_make_each_teams_report_once(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four worker threads, each with its own connection, sweep the same moment at once."""
    import threading
    import time

    from django.db import connection, connections

    if connection.vendor == "sqlite":
        # pytest-django's SQLite test database is in-memory with a shared cache, where a busy
        # table fails at once instead of waiting; the constraint itself is tested above.
        pytest.skip("threads need a file database (PostgreSQL in make test)")
    week = build_week(cast)
    compose = weekly_reports.weekly_figures
    composed: list[int] = []

    def slow_compose(**kwargs: Any) -> dict[str, Any]:
        figures = compose(**kwargs)
        composed.append(kwargs["team"].pk)
        time.sleep(0.3)  # every worker has found the week's reports missing by now
        return figures

    monkeypatch.setattr(weekly_reports, "weekly_figures", slow_compose)
    start = threading.Barrier(4)
    made: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            made.append(weekly_reports_due(now=DUE))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(composed) > 2  # the workers did race: more reports computed than kept
    assert sum(made) == 2  # one report per team, whoever made it
    assert WeeklyReport.objects.filter(organization=week.cast.org).count() == 2
    told = Notification.objects.filter(cause_key__startswith="weekly-report:", channel="in_app")
    assert list(told.values_list("recipient_id", flat=True)) == [cast.manager.pk]


def test_a_reports_pdf_is_drawn_once_per_language(
    week: TeamWeek, monkeypatch: pytest.MonkeyPatch
) -> None:
    import weasyprint
    from django.core.cache import cache

    cache.clear()  # nothing drawn by an earlier test
    drawn: list[int] = []
    real = weasyprint.HTML

    def counting(*args: Any, **kwargs: Any) -> Any:
        drawn.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(weasyprint, "HTML", counting)
    report = weekly_report_make(
        organization=week.cast.org, team=week.cast.team, week=WEEK, now=NOW
    ).report
    first = weekly_report_pdf(report, language="en")
    assert weekly_report_pdf(report, language="en") == first
    assert len(drawn) == 1
    weekly_report_pdf(report, language="zh-hans")
    assert len(drawn) == 2
