"""The daily report (日报): the prefill from the day's log, sending, editing until due, late
reports, one per day, the due time behind the on-time yardstick, and the reminder."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import translation

from lodestar.automation.models import TaskStatus
from lodestar.crm.models import DailyReport
from lodestar.errors import PermissionDenied, ValidationFailed
from lodestar.insights.daily_reports import (
    DailyReportClosed,
    daily_report_reminders,
    daily_report_settings_update,
    daily_report_submit,
    day_activity,
    day_activity_counts,
    due_minutes_of,
    due_parts,
    prefill_body,
)
from lodestar.insights.metrics import MetricFilters, metric_report
from lodestar.integrations.models import Notification
from lodestar.org.models import AuditEntry, Organization
from tests.conftest import Cast
from tests.factories import (
    AttachmentFactory,
    DailyReportFactory,
    EventFactory,
    OpportunityFactory,
    TaskFactory,
)

# A Monday; the cast's organization works Monday to Friday in Asia/Shanghai (UTC+8).
DAY = dt.date(2026, 3, 2)
MINUTE = dt.timedelta(minutes=1)


def local(cast: Cast, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=cast.org.tz)


def set_due(org: Organization, minutes: int, reminder: int = 60) -> None:
    org.daily_report_due_minutes = minutes
    org.daily_report_reminder_minutes = reminder
    org.save()


@pytest.fixture
def deal(cast: Cast) -> Any:
    return OpportunityFactory(owner=cast.owner, name="华东机床-伺服电机")


def test_it_counts_only_the_work_of_that_local_day(cast: Cast, deal: Any) -> None:
    # The organization's day runs from 00:00 to 24:00 Beijing time (16:00 to 16:00 UTC).
    EventFactory(opportunity=deal, type="call", occurred_at=local(cast, DAY, 0, 0))
    EventFactory(opportunity=deal, type="call", occurred_at=local(cast, DAY, 23, 59))
    EventFactory(opportunity=deal, type="call", occurred_at=local(cast, DAY, 0, 0) - MINUTE)
    EventFactory(opportunity=deal, type="call", occurred_at=local(cast, DAY + dt.timedelta(1), 0))
    counts = day_activity_counts(organization=cast.org, user_ids=[cast.owner.pk], day=DAY)
    assert counts[cast.owner.pk]["calls"] == 2


def test_it_sorts_the_day_into_calls_meetings_contacts_uploads_tasks_and_stage_moves(
    cast: Cast, deal: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    at = local(cast, DAY, 10)
    EventFactory(opportunity=deal, type="call", occurred_at=at, payload={"summary": "确认预算"})
    EventFactory(
        opportunity=deal, type="meeting.held", occurred_at=at, payload={"topic": "技术交流"}
    )
    # A playbook's visit check-in counts as a visit even when not flagged as with the customer.
    EventFactory(opportunity=deal, type="store.visited", with_customer=False, occurred_at=at)
    EventFactory(opportunity=deal, type="email.sent", occurred_at=at)
    EventFactory(
        opportunity=deal,
        type="stage.changed",
        with_customer=False,
        occurred_at=at,
        payload={"from": "lead", "to": "demo"},
    )
    # Not work the report counts: an internal note without the customer.
    EventFactory(opportunity=deal, type="legal.review.started", with_customer=False, occurred_at=at)
    AttachmentFactory(opportunity=deal, uploaded_at=at)
    TaskFactory(opportunity=deal, status=TaskStatus.DONE, completed_at=at, completed_by=cast.owner)
    counts = day_activity_counts(organization=cast.org, user_ids=[cast.owner.pk], day=DAY)
    assert counts[cast.owner.pk] == {
        "calls": 1,
        "meetings": 2,
        "contacts": 1,
        "uploads": 1,
        "tasks_done": 1,
        "stage_moves": 1,
    }


def test_it_leaves_out_other_peoples_work_and_tasks_not_done_that_day(
    cast: Cast, deal: Any
) -> None:
    at = local(cast, DAY, 10)
    teammate_deal = OpportunityFactory(owner=cast.teammate)
    EventFactory(opportunity=teammate_deal, occurred_at=at)
    TaskFactory(opportunity=deal, created_at=at)  # still open
    TaskFactory(opportunity=deal, status=TaskStatus.CANCELLED, completed_at=at)
    TaskFactory(
        opportunity=deal,
        status=TaskStatus.DONE,
        completed_at=at - dt.timedelta(days=1),
        completed_by=cast.owner,
    )
    # Completed by the teammate although the owner's: the teammate's work.
    TaskFactory(
        opportunity=deal, status=TaskStatus.DONE, completed_at=at, completed_by=cast.teammate
    )
    counts = day_activity_counts(
        organization=cast.org, user_ids=[cast.owner.pk, cast.teammate.pk], day=DAY
    )
    assert sum(counts[cast.owner.pk].values()) == 0
    assert counts[cast.teammate.pk]["calls"] == 1
    assert counts[cast.teammate.pk]["tasks_done"] == 1


def test_it_prefills_the_text_with_each_kind_and_its_deals(cast: Cast, deal: Any) -> None:
    at = local(cast, DAY, 10)
    EventFactory(opportunity=deal, type="call", occurred_at=at, payload={"summary": "确认预算"})
    TaskFactory(
        opportunity=deal,
        title="准备行业案例包",
        status=TaskStatus.DONE,
        completed_at=at,
        completed_by=cast.owner,
    )
    activity = day_activity(organization=cast.org, user=cast.owner, day=DAY, now=at)
    with translation.override("en"):
        text = prefill_body(activity)
    assert text.splitlines() == [
        "Calls (1): 华东机床-伺服电机 (确认预算)",
        "Tasks done (1): 华东机床-伺服电机 (准备行业案例包)",
    ]


def test_it_sends_the_report_with_the_days_activity_snapshot(cast: Cast, deal: Any) -> None:
    EventFactory(opportunity=deal, type="call", occurred_at=local(cast, DAY, 10))
    now = local(cast, DAY, 18)
    result = daily_report_submit(
        user=cast.owner, day=DAY, body="拜访两家客户", plans="明天报价", blockers="", now=now
    )
    report = result.report
    assert (result.created, result.late) == (True, False)
    assert (report.body, report.plans, report.submitted_at, report.updated_at) == (
        "拜访两家客户",
        "明天报价",
        now,
        None,
    )
    assert report.activity["counts"]["calls"] == 1
    assert report.activity["items"][0]["deal"] == "华东机床-伺服电机"


def test_a_second_send_the_same_day_updates_the_one_report(cast: Cast) -> None:
    first = daily_report_submit(user=cast.owner, day=DAY, body="初稿", now=local(cast, DAY, 17))
    again = daily_report_submit(
        user=cast.owner, day=DAY, body="改后", blockers="缺样机", now=local(cast, DAY, 19)
    )
    assert not again.created
    assert again.report.pk == first.report.pk
    report = DailyReport.objects.get()
    assert (report.body, report.blockers) == ("改后", "缺样机")
    assert report.submitted_at == local(cast, DAY, 17)  # the first send is what counts
    assert report.updated_at == local(cast, DAY, 19)


def test_it_refuses_a_change_once_the_report_is_due(cast: Cast) -> None:
    set_due(cast.org, 20 * 60)
    daily_report_submit(user=cast.owner, day=DAY, body="初稿", now=local(cast, DAY, 19))
    with pytest.raises(DailyReportClosed) as refused:
        daily_report_submit(user=cast.owner, day=DAY, body="改后", now=local(cast, DAY, 20, 1))
    assert refused.value.status == 409
    assert "20:00" in str(refused.value.message)
    assert DailyReport.objects.get().body == "初稿"


def test_it_accepts_a_late_first_send_and_marks_it_late(cast: Cast) -> None:
    result = daily_report_submit(
        user=cast.owner, day=DAY, body="补交", now=local(cast, DAY + dt.timedelta(days=1), 9)
    )
    assert (result.created, result.late) == (True, True)


@pytest.mark.parametrize(
    ("day", "field"),
    [(DAY + dt.timedelta(days=1), "date"), (DAY - dt.timedelta(days=40), "date")],
)
def test_it_refuses_a_day_ahead_or_too_long_ago(cast: Cast, day: dt.date, field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        daily_report_submit(user=cast.owner, day=day, body="x", now=local(cast, DAY, 18))
    assert [d.field for d in refused.value.details] == [field]
    assert not DailyReport.objects.exists()


def test_it_refuses_an_empty_report_and_too_long_texts_naming_each_field(cast: Cast) -> None:
    with pytest.raises(ValidationFailed) as refused:
        daily_report_submit(
            user=cast.owner, day=DAY, body="  ", plans="计" * 2001, now=local(cast, DAY, 18)
        )
    assert [d.field for d in refused.value.details] == ["body", "plans"]


def test_a_due_time_change_moves_the_on_time_yardstick(cast: Cast) -> None:
    DailyReportFactory(author=cast.owner, date=DAY, submitted_at=local(cast, DAY, 21))
    filters = MetricFilters(rep_id=cast.owner.pk, date_from=DAY, date_to=DAY)
    at = local(cast, DAY + dt.timedelta(days=3), 12)

    def numerator() -> float | None:
        cast.org.refresh_from_db()
        return metric_report(
            user=cast.manager, name="daily_report_on_time", filters=filters, now=at
        ).numerator

    assert numerator() == 1  # due by midnight: 21:00 is on time
    daily_report_settings_update(user=cast.admin, due_minutes=20 * 60, reminder_minutes=30)
    assert numerator() == 0  # due by 20:00: 21:00 is late
    daily_report_settings_update(user=cast.admin, due_minutes=33 * 60, reminder_minutes=30)
    assert numerator() == 1  # due by 09:00 the next morning


def test_only_an_admin_sets_the_due_time_and_the_change_is_audited(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        daily_report_settings_update(user=cast.manager, due_minutes=1200, reminder_minutes=30)
    daily_report_settings_update(user=cast.admin, due_minutes=1200, reminder_minutes=30)
    entry = AuditEntry.objects.get(action="organization.daily_reports")
    assert entry.data == {
        "from": {"due_minutes": 1440, "reminder_minutes": 60},
        "to": {"due_minutes": 1200, "reminder_minutes": 30},
    }


def test_it_refuses_a_due_time_outside_noon_to_noon(cast: Cast) -> None:
    with pytest.raises(ValidationFailed) as refused:
        daily_report_settings_update(user=cast.admin, due_minutes=11 * 60, reminder_minutes=-1)
    assert [d.field for d in refused.value.details] == ["due", "reminder_minutes"]


@pytest.mark.parametrize(
    ("minutes", "parts"),
    [(1200, (dt.time(20), False)), (1440, (dt.time(0), True)), (1980, (dt.time(9), True))],
)
def test_a_due_time_reads_as_a_clock_time_and_a_day(minutes: int, parts: Any) -> None:
    assert due_parts(minutes) == parts
    assert due_minutes_of(*parts) == minutes


def test_it_reminds_each_rep_without_a_report_once(cast: Cast) -> None:
    set_due(cast.org, 20 * 60, reminder=60)
    daily_report_submit(user=cast.teammate, day=DAY, body="已交", now=local(cast, DAY, 18))
    at = local(cast, DAY, 19, 15)
    assert daily_report_reminders(now=at) == 2  # the owner and the other team's rep
    assert daily_report_reminders(now=at + 10 * MINUTE) == 0
    reminded = set(
        Notification.objects.filter(cause_key__startswith="daily-report:").values_list(
            "recipient__username", flat=True
        )
    )
    assert reminded == {"owner", "southrep"}


def test_it_does_not_remind_before_the_lead_after_the_due_time_or_on_a_day_off(
    cast: Cast,
) -> None:
    set_due(cast.org, 20 * 60, reminder=60)
    saturday = DAY + dt.timedelta(days=5)
    assert daily_report_reminders(now=local(cast, DAY, 18, 59)) == 0
    assert daily_report_reminders(now=local(cast, DAY, 20, 0)) == 0
    assert daily_report_reminders(now=local(cast, saturday, 19, 30)) == 0
    set_due(cast.org, 20 * 60, reminder=0)
    assert daily_report_reminders(now=local(cast, DAY, 19, 30)) == 0
    assert not Notification.objects.exists()


def test_it_reminds_of_yesterdays_report_due_the_next_morning(cast: Cast) -> None:
    set_due(cast.org, 33 * 60, reminder=60)  # 09:00 the next day
    assert daily_report_reminders(now=local(cast, DAY + dt.timedelta(days=1), 8, 30)) == 3
    keys = set(Notification.objects.values_list("cause_key", flat=True))
    assert all(key.startswith(f"daily-report:{DAY.isoformat()}:") for key in keys)


def test_the_history_shows_each_days_snapshot_or_else_the_logged_work(
    cast: Cast, deal: Any
) -> None:
    from lodestar.insights.daily_report_selectors import rep_history

    tuesday = DAY + dt.timedelta(days=1)
    EventFactory(opportunity=deal, type="call", occurred_at=local(cast, DAY, 9))
    EventFactory(opportunity=deal, type="call", occurred_at=local(cast, tuesday, 9))
    daily_report_submit(user=cast.owner, day=DAY, body="一通电话", now=local(cast, DAY, 18))
    EventFactory(opportunity=deal, type="call", occurred_at=local(cast, DAY, 19))  # after sending
    history = rep_history(
        user=cast.manager,
        rep_id=cast.owner.pk,
        date_to=tuesday,
        now=local(cast, tuesday, 23),
        days=2,
    )
    by_day = {row.date: row for row in history.rows}
    assert (by_day[DAY].status, by_day[DAY].counts["calls"]) == ("on_time", 1)
    assert (by_day[tuesday].status, by_day[tuesday].counts["calls"]) == ("pending", 1)


def test_the_team_day_counts_the_log_for_a_report_sent_without_a_snapshot(
    cast: Cast, deal: Any
) -> None:
    from lodestar.insights.daily_report_selectors import team_day

    EventFactory(opportunity=deal, type="call", occurred_at=local(cast, DAY, 9))
    DailyReportFactory(author=cast.owner, date=DAY, submitted_at=local(cast, DAY, 18))  # imported
    day = team_day(user=cast.manager, day=DAY, team_id=None, now=local(cast, DAY, 23))
    row = next(row for row in day.rows if row.person == cast.owner)
    assert (row.status, row.counts["calls"]) == ("on_time", 1)


def test_the_same_report_sent_again_after_the_due_time_is_a_repeat_not_a_change(
    cast: Cast,
) -> None:
    set_due(cast.org, 20 * 60)
    first = daily_report_submit(
        user=cast.owner, day=DAY, body="拜访两家客户", plans="报价", now=local(cast, DAY, 19, 59)
    )
    again = daily_report_submit(
        user=cast.owner, day=DAY, body="拜访两家客户", plans="报价", now=local(cast, DAY, 20, 1)
    )
    assert (again.created, again.late, again.report.pk) == (False, False, first.report.pk)
    assert DailyReport.objects.get().updated_at is None
