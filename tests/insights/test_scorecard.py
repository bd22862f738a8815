"""The communication scorecard: 300 characters of minutes within 24 h, a knowledge entry, a next
follow-up; three final scores under 75 in a row push the handbook to the rep, once per run."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lodestar.crm.models import Attachment, KnowledgeEntry, KnowledgeKind
from lodestar.db import bulk_insert_new
from lodestar.insights.models import CommunicationScore, HandbookPush
from lodestar.insights.refresh import insights_recompute
from lodestar.integrations.models import Notification
from tests.conftest import Cast
from tests.insights.conftest import DAY, HOUR, ApiAs, event

pytestmark = pytest.mark.django_db


@pytest.fixture
def handbook(cast: Cast) -> KnowledgeEntry:
    return KnowledgeEntry.objects.create(
        organization=cast.org,
        key="objection_handling",
        title="高频异议应答手册",
        kind=KnowledgeKind.HANDBOOK,
    )


def minutes(deal: Any, at: dt.datetime, chars: int) -> Attachment:
    return Attachment.objects.create(
        organization=deal.organization,
        opportunity=deal,
        kind="meeting_minutes",
        file="minutes.txt",
        original_name="纪要.txt",
        content_type="text/plain",
        size=chars * 3,
        sha256="0" * 64,
        text_length=chars,
        uploaded_at=at,
    )


def pushes(cast: Cast) -> list[HandbookPush]:
    return list(HandbookPush.objects.filter(rep=cast.owner))


def handbook_notices(cast: Cast) -> int:
    return Notification.objects.filter(
        recipient=cast.owner, cause_key__startswith="handbook:"
    ).count()


def test_it_pushes_the_handbook_once_after_three_scores_under_75(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime, handbook: KnowledgeEntry
) -> None:
    deal = make_deal(opened=30 * DAY)
    api = api_as(cast.owner)
    for index, days_ago in enumerate((5, 4)):
        api.post("/events", event(deal, "meeting.held", f"m{index}", now - days_ago * DAY))
    assert pushes(cast) == []

    api.post("/events", event(deal, "call", "m2", now - 3 * DAY))

    [push] = pushes(cast)
    assert push.handbook == handbook
    assert push.scores == [0.0, 0.0, 0.0]
    assert push.notified
    assert handbook_notices(cast) == 1
    notice = Notification.objects.filter(recipient=cast.owner, cause_key__startswith="handbook:")
    assert "《高频异议应答手册》" in notice.first().title  # type: ignore[union-attr]

    api.post("/events", event(deal, "demo.held", "m3", now - 2 * DAY))  # the same run goes on
    insights_recompute(now=now)

    assert len(pushes(cast)) == 1
    assert handbook_notices(cast) == 1


def test_a_title_with_its_own_book_title_marks_is_not_marked_twice(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime, handbook: KnowledgeEntry
) -> None:
    handbook.title = "《高频异议应答手册》"
    handbook.save(update_fields=["title"])
    deal = make_deal(opened=30 * DAY)
    api = api_as(cast.owner)
    for index, days_ago in enumerate((5, 4, 3)):
        api.post("/events", event(deal, "meeting.held", f"m{index}", now - days_ago * DAY))

    notice = Notification.objects.get(recipient=cast.owner, cause_key__startswith="handbook:")
    assert notice.title == "请阅读《高频异议应答手册》"


def test_a_push_another_run_wrote_first_is_announced_once(
    cast: Cast,
    make_deal: Any,
    api_as: ApiAs,
    now: dt.datetime,
    handbook: KnowledgeEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lodestar.insights import handbook as handbook_pushes

    def raced(rows: Any) -> bool:  # the insert goes in, as if some keys had been taken
        bulk_insert_new(rows)
        return False

    monkeypatch.setattr(handbook_pushes, "bulk_insert_new", raced)
    deal = make_deal(opened=30 * DAY)
    api = api_as(cast.owner)
    for index, days_ago in enumerate((5, 4, 3)):
        api.post("/events", event(deal, "meeting.held", f"m{index}", now - days_ago * DAY))

    [push] = pushes(cast)
    assert push.notified
    assert Notification.objects.filter(cause_key=f"handbook:{push.pk}").count() == 1


def test_it_starts_over_after_a_score_of_75_or_more(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime, handbook: KnowledgeEntry
) -> None:
    deal = make_deal(opened=30 * DAY)
    api = api_as(cast.owner)
    good = now - 4 * DAY
    minutes(deal, good + HOUR, 300)
    api.post(
        "/events",
        event(deal, "knowledge.linked", "k", good + HOUR, payload={"knowledge_keys": ["plc"]}),
    )
    for index, at in enumerate((now - 6 * DAY, now - 5 * DAY, good, now - 3 * DAY)):
        api.post("/events", event(deal, "meeting.held", f"m{index}", at))
    insights_recompute(now=now)

    scores = [s.score for s in CommunicationScore.objects.order_by("occurred_at")]
    assert scores == [0, 0, 70, 0]  # minutes 40 + knowledge 30; no follow-up: still under 75
    assert len(pushes(cast)) == 1  # 0, 0, 70 is a run of three


def test_it_scores_minutes_knowledge_and_follow_up(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    deal = make_deal(opened=30 * DAY)
    api = api_as(cast.owner)
    held = now - 2 * DAY
    minutes(deal, held + 23 * HOUR, 300)
    minutes(deal, held + 2 * HOUR, 299)  # too short; the longer one in time counts
    api.post(
        "/events",
        {
            "events": [
                event(
                    deal, "knowledge.linked", "k", held + HOUR, payload={"knowledge_keys": ["plc"]}
                ),
                event(
                    deal,
                    "followup.scheduled",
                    "f",
                    held + HOUR,
                    payload={"starts_at": (held + 3 * DAY).isoformat()},
                ),
                event(deal, "meeting.held", "m", held),
            ]
        },
    )

    body = api.get(f"/reps/{cast.owner.pk}/communication-scores").json()
    [score] = body["items"]
    assert (score["score"], score["final"]) == (100, True)
    assert [c["met"] for c in score["criteria"]] == [True, True, True]


def test_it_does_not_count_minutes_uploaded_after_24_hours_or_under_300_characters(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    deal = make_deal(opened=30 * DAY)
    held = now - 3 * DAY
    minutes(deal, held + 24 * HOUR + dt.timedelta(seconds=1), 5000)
    minutes(deal, held + HOUR, 299)
    api_as(cast.owner).post("/events", event(deal, "meeting.held", "m", held))

    stored = CommunicationScore.objects.get()
    assert stored.score == 0
    assert stored.criteria[0]["zh"] == "纪要只有 299 字,不足 300 字"


def test_it_keeps_a_score_provisional_inside_the_upload_window(
    cast: Cast,
    make_deal: Any,
    api_as: ApiAs,
    now: dt.datetime,
    django_capture_on_commit_callbacks: Any,
) -> None:
    deal = make_deal(opened=30 * DAY)
    api = api_as(cast.owner)
    api.post("/events", event(deal, "meeting.held", "m", now - HOUR))
    upload = SimpleUploadedFile("纪要.txt", ("会议纪要:客户确认了预算与上线时间。" * 30).encode())
    with django_capture_on_commit_callbacks(execute=True):  # the worker reads the text
        response = api.client.post(
            f"/api/v1/opportunities/{deal.pk}/attachments",
            {"kind": "meeting_minutes", "file": upload},
        )
    assert response.status_code == 201, response.json()
    api.post(
        "/events",
        event(deal, "minutes.uploaded", "u", now, payload={"attachment_id": response.json()["id"]}),
    )

    stored = CommunicationScore.objects.get()
    assert (stored.score, stored.final) == (40, False)
    insights_recompute(now=now + 2 * DAY)
    stored.refresh_from_db()
    assert (stored.score, stored.final) == (40, True)


def test_a_full_recompute_finds_the_one_communication_whose_score_went_missing(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lodestar.insights import scorecards

    deal = make_deal(opened=80 * DAY)
    held = [now - (3 + 5 * week) * DAY for week in range(12)]
    api_as(cast.owner).post(
        "/events",
        {"events": [event(deal, "meeting.held", f"m{i}", at) for i, at in enumerate(held)]},
    )
    insights_recompute(organization_id=cast.org.pk, now=now)
    lost = CommunicationScore.objects.get(occurred_at=held[7])
    lost.delete()
    monkeypatch.setattr(scorecards, "_SEARCH_DIRECTLY", 1)  # halve down to single meetings

    periods = scorecards._unscored_periods(cast.org.pk, now - scorecards.SCORECARD_HORIZON, now)
    insights_recompute(organization_id=cast.org.pk, now=now)

    assert len(periods) == 1
    assert CommunicationScore.objects.filter(event_id=lost.event_id).exists()
    assert CommunicationScore.objects.count() == len(held)


def test_a_full_recompute_finds_no_period_to_search_when_every_communication_is_scored(
    cast: Cast, make_deal: Any, api_as: ApiAs, now: dt.datetime
) -> None:
    from lodestar.insights import scorecards

    deal = make_deal(opened=30 * DAY)
    api_as(cast.owner).post(
        "/events",
        {"events": [event(deal, "call", f"c{i}", now - (i + 2) * DAY) for i in range(5)]},
    )
    insights_recompute(organization_id=cast.org.pk, now=now)

    periods = scorecards._unscored_periods(cast.org.pk, now - scorecards.SCORECARD_HORIZON, now)

    assert periods == []
    assert CommunicationScore.objects.count() == 5
