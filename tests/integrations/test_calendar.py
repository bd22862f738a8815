"""The private .ics feed: RFC 5545 structure, escaping, folding, privacy and token rotation."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from lodestar.automation.models import Task, TaskStatus
from lodestar.errors import PermissionDenied
from lodestar.integrations.calendar.ics import (
    CalendarEvent,
    escape_text,
    fold_line,
    render_calendar,
)
from lodestar.integrations.calendar.sources import events_for, register_source
from lodestar.integrations.models import CalendarFeed
from lodestar.integrations.selectors import calendar_feed_path
from lodestar.integrations.services import calendar_feed_revoke, calendar_feed_rotate
from lodestar.org.models import User
from tests.conftest import Cast
from tests.factories import OpportunityFactory

NOW = dt.datetime(2024, 9, 3, 2, 0, tzinfo=dt.UTC)


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def parse(text: str) -> dict[str, object]:
    """A strict little reader: checks line endings, octet limits and BEGIN/END nesting."""
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")  # CRLF only
    for physical in text.split("\r\n")[:-1]:
        assert len(physical.encode("utf-8")) <= 75, physical
    logical = re.sub(r"\r\n[ \t]", "", text).split("\r\n")[:-1]
    root: dict[str, object] = {"children": []}
    stack = [root]
    for line in logical:
        name, _, value = line.partition(":")
        if name == "BEGIN":
            node: dict[str, object] = {"type": value, "children": []}
            stack[-1]["children"].append(node)  # type: ignore[attr-defined]
            stack.append(node)
        elif name == "END":
            assert stack.pop()["type"] == value
        else:
            stack[-1][name.split(";")[0]] = unescape(value)
    assert len(stack) == 1
    (calendar,) = root["children"]  # type: ignore[misc]
    return calendar  # type: ignore[no-any-return]


class TestIcsWriter:
    def test_it_writes_a_parsable_calendar(self) -> None:
        event = CalendarEvent(
            uid="task-1@lodestar",
            start=dt.datetime(2024, 9, 3, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
            end=dt.datetime(2024, 9, 3, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
            summary="发送定制化方案; 王总, 李工",
            description="第一行\n第二行 \\ 反斜杠",
        )
        calendar = parse(render_calendar([event], name="Lodestar", now=NOW))
        assert calendar["type"] == "VCALENDAR"
        assert calendar["VERSION"] == "2.0"
        assert calendar["PRODID"]
        (vevent,) = calendar["children"]  # type: ignore[misc]
        assert vevent["type"] == "VEVENT"
        assert vevent["UID"] == "task-1@lodestar"
        assert vevent["DTSTAMP"] == "20240903T020000Z"
        assert vevent["DTSTART"] == "20240903T020000Z"  # 10:00 +08:00 in UTC
        assert vevent["DTEND"] == "20240903T023000Z"
        assert vevent["SUMMARY"] == "发送定制化方案; 王总, 李工"
        assert vevent["DESCRIPTION"] == "第一行\n第二行 \\ 反斜杠"

    def test_it_escapes_text(self) -> None:
        assert escape_text("a;b,c\\d\r\ne") == "a\\;b\\,c\\\\d\\ne"

    def test_it_folds_at_75_octets_without_splitting_characters(self) -> None:
        line = "DESCRIPTION:" + "销售导航" * 40  # 3-octet characters
        folded = fold_line(line)
        physical = folded.split("\r\n")
        assert all(len(p.encode()) <= 75 for p in physical)
        assert all(p.startswith(" ") for p in physical[1:])
        assert "".join([physical[0], *(p[1:] for p in physical[1:])]) == line

    def test_short_lines_are_untouched(self) -> None:
        assert fold_line("SUMMARY:x") == "SUMMARY:x"

    def test_an_event_must_end_after_it_starts(self) -> None:
        with pytest.raises(ValueError, match="end after"):
            CalendarEvent(uid="u", start=NOW, end=NOW, summary="s")
        with pytest.raises(ValueError, match="aware"):
            CalendarEvent(uid="u", start=dt.datetime(2024, 1, 1), end=NOW, summary="s")


def make_task(user: User, title: str, due: dt.datetime, **extra: object) -> Task:
    return Task.objects.create(
        organization=user.membership.organization,
        assignee=user,
        title=title,
        created_at=due - dt.timedelta(hours=2),
        due_at=due,
        **extra,
    )


@pytest.mark.django_db
@pytest.mark.urls("tests.integrations.urls")
class TestFeed:
    def subscribe(self, user: User) -> str:
        return calendar_feed_path(token=calendar_feed_rotate(user=user))

    def test_it_lists_the_users_open_tasks(self, cast: Cast, client: Client) -> None:
        deal = OpportunityFactory(owner=cast.owner, name="华东钢铁 PLC 改造")
        make_task(cast.owner, "准备行业案例包 + 设置试用账号", NOW, opportunity=deal)
        make_task(cast.owner, "done already", NOW, status=TaskStatus.DONE)
        make_task(cast.teammate, "someone else's", NOW)
        response = client.get(self.subscribe(cast.owner))
        assert response.status_code == 200
        assert response["Content-Type"] == "text/calendar; charset=utf-8"
        calendar = parse(response.content.decode("utf-8"))
        events = calendar["children"]
        assert [e["SUMMARY"] for e in events] == ["准备行业案例包 + 设置试用账号"]  # type: ignore[attr-defined]
        (event,) = events  # type: ignore[misc]
        assert event["DTEND"] == "20240903T020000Z"  # ends at the deadline
        assert event["DTSTART"] == "20240903T013000Z"
        assert "华东钢铁 PLC 改造" in event["DESCRIPTION"]

    def test_it_keeps_uids_stable_across_fetches(self, cast: Cast, client: Client) -> None:
        task = make_task(cast.owner, "t", NOW)
        path = self.subscribe(cast.owner)
        first = parse(client.get(path).content.decode())
        second = parse(client.get(path).content.decode())
        uids = [[e["UID"] for e in c["children"]] for c in (first, second)]  # type: ignore[attr-defined]
        assert uids == [[f"task-{task.pk}@lodestar"]] * 2

    def test_an_unknown_token_is_a_plain_404(self, cast: Cast, client: Client) -> None:
        self.subscribe(cast.owner)
        response = client.get(calendar_feed_path(token="x" * 43))
        assert response.status_code == 404

    def test_rotating_the_token_kills_the_old_url(self, cast: Cast, client: Client) -> None:
        old = self.subscribe(cast.owner)
        new = self.subscribe(cast.owner)
        assert old != new
        assert client.get(old).status_code == 404
        assert client.get(new).status_code == 200

    def test_only_a_digest_is_stored(self, cast: Cast) -> None:
        token = calendar_feed_rotate(user=cast.owner)
        feed = CalendarFeed.objects.get(user=cast.owner)
        assert token not in feed.digest
        assert feed.digest == CalendarFeed.digest_of(token)
        assert len(token) >= 43

    def test_revoking_switches_the_feed_off(self, cast: Cast, client: Client) -> None:
        path = self.subscribe(cast.owner)
        assert calendar_feed_revoke(user=cast.owner)
        assert client.get(path).status_code == 404

    def test_a_deactivated_user_has_no_feed(self, cast: Cast, client: Client) -> None:
        path = self.subscribe(cast.owner)
        User.objects.filter(pk=cast.owner.pk).update(is_active=False)
        assert client.get(path).status_code == 404

    def test_users_outside_an_organization_get_no_token(self) -> None:
        loner = User.objects.create_user("loner")
        with pytest.raises(PermissionDenied):
            calendar_feed_rotate(user=loner)

    def test_it_refuses_other_methods(self, cast: Cast, client: Client) -> None:
        assert client.post(self.subscribe(cast.owner)).status_code == 405

    def test_another_source_can_add_events(self, cast: Cast, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        from lodestar.integrations.calendar import sources

        monkeypatch.setattr(sources, "_SOURCES", list(sources._SOURCES))

        def follow_ups(user: User, now: dt.datetime) -> list[CalendarEvent]:
            return [
                CalendarEvent(
                    uid=f"followup-1-{user.pk}@lodestar",
                    start=now,
                    end=now + dt.timedelta(hours=1),
                    summary="回访王总",
                )
            ]

        register_source(follow_ups)
        register_source(follow_ups)  # idempotent
        make_task(cast.owner, "t", NOW)
        assert sorted(e.summary for e in events_for(cast.owner, NOW)) == ["t", "回访王总"]

    def test_the_feed_is_private_and_not_cached_publicly(self, cast: Cast, client: Client) -> None:
        response = client.get(self.subscribe(cast.owner))
        assert response["Cache-Control"].startswith("private")
        assert response["Referrer-Policy"] == "no-referrer"


def test_a_user_without_membership_gets_no_task_events(db: None) -> None:
    assert events_for(User.objects.create_user("loner"), NOW) == []
