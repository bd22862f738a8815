"""Notifications and alerts stored as message keys with parameters, worded for each reader."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import translation

from lodestar import messages
from lodestar.integrations.delivery import _message_and_destination
from lodestar.integrations.models import Channel, LanguagePreference, Notification
from lodestar.integrations.selectors import recipient_language
from lodestar.integrations.services import language_remember, notify
from lodestar.messages import LEGACY, MESSAGES, Msg, Rendered, render, render_in
from tests.conftest import Cast
from tests.factories import ChannelConfigFactory, NotificationFactory, TaskFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DUE = dt.datetime(2026, 12, 5, 9, 30, tzinfo=dt.UTC)  # 17:30 in Shanghai
CHINESE = re.compile(r"[\u4e00-\u9fff]")

# Parameters for every key of the registry; the deal's name and the people are data.
SAMPLES: dict[str, dict[str, Any]] = {
    "text": {"text": messages.text("已 80 小时无客户互动", "no customer contact for 80 h")},
    "alert.raised": {"text": messages.text("健康度 55,低于 70", "health 55, below 70")},
    "task.created": {
        "task": messages.text("发送定制化方案", "Send tailored proposal"),
        "deal": "华东机床-伺服电机",
        "due": messages.moment(DUE, SHANGHAI),
    },
    "task.due_soon": {
        "task": messages.text("发送定制化方案", "Send tailored proposal"),
        "deal": "华东机床-伺服电机",
        "due": messages.moment(DUE, SHANGHAI),
    },
    "task.still_open": {
        "task": messages.text("发送定制化方案", "Send tailored proposal"),
        "deal": "华东机床-伺服电机",
        "due": messages.moment(DUE, SHANGHAI),
        "late": messages.span(dt.timedelta(days=3, hours=4)),
    },
    "task.overdue": {
        "task": messages.text("发送定制化方案", "Send tailored proposal"),
        "deal": "华东机床-伺服电机",
        "due": messages.moment(DUE, SHANGHAI),
    },
    "task.escalated": {
        "task": messages.text("发送定制化方案", "Send tailored proposal"),
        "deal": "华东机床-伺服电机",
        "assignee": "王磊",
    },
    "daily_report.due_soon": {"day": "2026-12-07", "due": messages.moment(DUE, SHANGHAI)},
    "handbook.pushed": {
        "title": "高频异议应答手册",
        "count": 3,
        "scores": "60, 70, 72",
        "threshold": "75",
    },
    "webhook.disabled": {"url": "https://crm.example.com/hook", "count": 10, "error": "HTTP 503"},
    "report.weekly": {
        "team": "华东一组",
        "week": "2026-W50",
        "health": "64",
        "health_before": "71",
        "below": 2,
        "threshold": "70",
        "stuck": 3,
        "silent": 1,
        "pipeline": "¥1,280,000",
        "pipeline_before": "¥1,150,000",
    },
}
STORED = Rendered("stored title", "stored body")
DATA = (
    "华东机床-伺服电机",
    "王磊",
    "高频异议应答手册",
    "https://crm.example.com/hook",
    "HTTP 503",
    "华东一组",
)


def without_data(text: str) -> str:
    for name in DATA:
        text = text.replace(name, "")
    return text


def test_every_key_has_sample_parameters() -> None:
    assert set(SAMPLES) == set(MESSAGES)


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_it_words_each_key_in_chinese_and_in_english(key: str) -> None:
    zh = render_in("zh-hans", key, SAMPLES[key], stored=STORED)
    en = render_in("en", key, SAMPLES[key], stored=STORED)
    for text in (zh, en):
        assert text != STORED
        assert "%(" not in text.title + text.body
    # Chinese words in the Chinese one; not one outside the data in the English one.
    assert CHINESE.search(without_data(zh.title + zh.body))
    assert not CHINESE.search(without_data(en.title + en.body))
    assert not re.search(r"[A-Za-z]{3,}", without_data(zh.title + zh.body))


def test_it_words_a_task_overdue_with_the_title_moment_and_deal_of_each_language() -> None:
    params = SAMPLES["task.overdue"]
    assert render_in("en", "task.overdue", params, stored=STORED).title == (
        "Task overdue: Send tailored proposal (华东机床-伺服电机, due 2026-12-05 17:30)"
    )
    assert render_in("zh-hans", "task.overdue", params, stored=STORED).title == (
        "任务已超时：发送定制化方案（华东机床-伺服电机，截止 2026-12-05 17:30）"
    )


def test_it_words_durations_choices_and_lists_for_the_reader() -> None:
    params = {**SAMPLES["task.still_open"]}
    assert "3 days 4 hours" in render_in("en", "task.still_open", params, stored=STORED).body
    assert "3 天 4 小时" in render_in("zh-hans", "task.still_open", params, stored=STORED).body
    reason = messages.choice("exemption_reason", "customer_on_leave")
    with translation.override("en"):
        assert render("text", {"text": reason}, stored=STORED).title == (
            "Customer on leave / holiday"
        )
        assert render("text", {"text": ["a", "b"]}, stored=STORED).title == "a, b"
    with translation.override("zh-hans"):
        assert render("text", {"text": reason}, stored=STORED).title == "客户休假中"
        assert render("text", {"text": ["甲", "乙"]}, stored=STORED).title == "甲、乙"


def test_it_shows_the_stored_text_for_legacy_unknown_keys_and_parameters_that_do_not_fit() -> None:
    assert render(LEGACY, {}, stored=STORED) == STORED
    assert render("no.such.key", {"task": "x"}, stored=STORED) == STORED
    assert render("task.overdue", {"task": "x"}, stored=STORED) == STORED  # deal, due missing
    assert (
        render("task.overdue", {**SAMPLES["task.overdue"], "due": {"at": "?"}}, stored=STORED)
        == STORED
    )


def test_a_notification_is_stored_as_its_key_and_worded_in_the_site_language(
    cast: Cast, settings: Any
) -> None:
    settings.LANGUAGE_CODE = "zh-hans"
    (row,) = notify(
        organization=cast.org,
        recipient=cast.owner,
        cause_key="task:1:due-soon",
        message=Msg("task.due_soon", SAMPLES["task.due_soon"]),
    )
    row.refresh_from_db()
    assert (row.message_key, row.params) == ("task.due_soon", SAMPLES["task.due_soon"])
    assert row.title == "即将到期：发送定制化方案"  # kept for search and the admin
    with translation.override("en"):
        assert row.shown_title == "Due soon: Send tailored proposal"
        assert row.shown_body == "华东机床-伺服电机 · due 2026-12-05 17:30"
    with translation.override("zh-hans"):
        assert row.shown_body == "华东机床-伺服电机 · 截止 2026-12-05 17:30"


def test_a_notification_without_a_message_keeps_its_own_title(cast: Cast) -> None:
    (row,) = notify(
        organization=cast.org, recipient=cast.owner, title="自定义", body="正文", cause_key="x"
    )
    assert row.message_key == LEGACY
    with translation.override("en"):
        assert (row.shown_title, row.shown_body) == ("自定义", "正文")


def test_an_email_is_worded_in_the_recipient_s_language(cast: Cast, settings: Any) -> None:
    settings.LANGUAGE_CODE = "zh-hans"
    ChannelConfigFactory(organization=cast.org, kind=Channel.EMAIL, enabled=True)
    message = Msg("task.overdue", SAMPLES["task.overdue"])
    for user, language in ((cast.owner, "en"), (cast.teammate, None)):
        if language:
            language_remember(user=user, language=language)
        notify(organization=cast.org, recipient=user, cause_key="task:9:overdue", message=message)
    owner_mail = Notification.objects.get(recipient=cast.owner, channel=Channel.EMAIL)
    teammate_mail = Notification.objects.get(recipient=cast.teammate, channel=Channel.EMAIL)
    with translation.override("zh-hans"):  # whatever the worker's own language
        assert _message_and_destination(owner_mail)[0].title.startswith("Task overdue: Send")
    with translation.override("en"):
        assert _message_and_destination(teammate_mail)[0].title.startswith("任务已超时：发送")


def test_it_remembers_the_language_a_signed_in_user_reads_in(cast: Cast) -> None:
    assert recipient_language(user_id=cast.owner.pk) == "zh-hans"
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cast.owner)
    client.get("/inbox/")
    assert recipient_language(user_id=cast.owner.pk) == "en"
    client.get("/inbox/")  # the same language again: nothing to write
    language_remember(user=cast.owner, language="fr")  # not a language of the site: ignored
    assert LanguagePreference.objects.get(user=cast.owner).language == "en"


def test_the_inbox_api_answers_in_the_request_s_language(cast: Cast, api_as: Any) -> None:
    notify(
        organization=cast.org,
        recipient=cast.owner,
        cause_key="task:1:created",
        message=Msg("task.created", SAMPLES["task.created"]),
    )
    api = api_as(cast.owner)
    item = api.get("/notifications").json()["items"][0]
    assert item["title"] == "New task: Send tailored proposal"
    assert item["message_key"] == "task.created"
    assert item["params"]["task"] == {"zh": "发送定制化方案", "en": "Send tailored proposal"}
    api.client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    assert api.get("/notifications").json()["items"][0]["title"] == "新任务：发送定制化方案"


def test_an_overdue_task_alert_names_the_playbook_s_title_in_each_language(
    published: Any, cast: Cast
) -> None:
    from lodestar.insights.models import Alert
    from lodestar.insights.task_alerts import sweep_tasks
    from lodestar.insights.wording import alert_text
    from tests.factories import OpportunityFactory

    deal = OpportunityFactory(owner=cast.owner, name="华东机床-伺服电机")
    task = TaskFactory(
        opportunity=deal,
        assignee=cast.owner,
        title="发送定制化方案",
        trigger_key="proposal",
        created_at=DUE - dt.timedelta(days=2),
        due_at=DUE,
    )
    sweep_tasks(now=DUE + dt.timedelta(hours=2))
    alert = Alert.objects.select_related("opportunity").get(dedupe_key=f"task:{task.pk}:overdue")
    assert alert.message_key == "task.overdue"
    with translation.override("en"):
        assert alert_text(alert, DUE).startswith("Task overdue: Send tailored proposal (")
    with translation.override("zh-hans"):
        assert alert_text(alert, DUE).startswith("任务已超时：发送定制化方案（")
    assert alert.message_en.startswith("Task overdue: Send tailored proposal")
    inbox = Notification.objects.get(cause_key=f"alert:{alert.pk}", channel=Channel.IN_APP)
    with translation.override("en"):
        assert inbox.shown_title == alert_text(alert, DUE)


# --- the migration of stored rows ---------------------------------------------------------------

BEFORE = ("integrations", "0002_field_verbose_names")
AFTER = ("integrations", "0003_notification_message_key")


@pytest.mark.django_db(transaction=True)
def test_stored_notifications_stay_readable_and_alert_ones_speak_one_language() -> None:
    alert_row = NotificationFactory(
        title="【华东机床】已 80 小时无客户互动",
        body="[华东机床] no customer contact for 80 h",
        cause_key="alert:7",
    )
    task_row = NotificationFactory(title="发送定制化方案", body="华东机床 · 2026-12-05 17:30")
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([BEFORE])
        executor.loader.build_graph()
        executor.migrate([AFTER])
        old = executor.loader.project_state(AFTER).apps.get_model("integrations", "Notification")
        migrated = {row.pk: (row.message_key, row.params) for row in old.objects.all()}
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert migrated[task_row.pk] == (LEGACY, {})
    assert migrated[alert_row.pk] == (
        "alert.raised",
        {"text": {"zh": alert_row.title, "en": alert_row.body}},
    )
    alert_row.refresh_from_db()
    task_row.refresh_from_db()
    with translation.override("en"):
        assert (alert_row.shown_title, alert_row.shown_body) == (alert_row.body, "")
        assert (task_row.shown_title, task_row.shown_body) == (task_row.title, task_row.body)
    with translation.override("zh-hans"):
        assert alert_row.shown_title == "【华东机床】已 80 小时无客户互动"


def test_the_calendar_feed_speaks_the_user_s_language(published: Any, cast: Cast) -> None:
    from lodestar.automation.calendar import task_events
    from tests.factories import OpportunityFactory

    deal = OpportunityFactory(owner=cast.owner, name="华东机床-伺服电机")
    TaskFactory(
        opportunity=deal,
        assignee=cast.owner,
        title="发送定制化方案",
        trigger_key="proposal",
        created_at=DUE - dt.timedelta(days=2),
        due_at=DUE,
    )
    with translation.override("en"):  # the calendar app's request names no language
        (event,) = task_events(cast.owner, DUE - dt.timedelta(hours=1))
    assert event.summary == "发送定制化方案"
    assert event.description.startswith("商机")  # "Deal: …" in the site's language
    language_remember(user=cast.owner, language="en")
    (event,) = task_events(cast.owner, DUE - dt.timedelta(hours=1))
    assert event.summary == "Send tailored proposal"
    assert event.description.startswith("Deal: 华东机床-伺服电机")
