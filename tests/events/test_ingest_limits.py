"""POST /api/v1/events with the fuzzers' worst items, each inside 999 good ones.

The bad item is refused alone with its reason, the good ones are stored exactly once (and
recognised as duplicates when the batch is sent again), nothing answers 500, and the deal stays
readable and movable afterwards — on both databases.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lodestar.events.models import Event
from lodestar.playbooks.models import PlaybookVersion
from tests.conftest import ApiClient, Cast
from tests.factories import OpportunityFactory

ApiAs = Callable[[Any], ApiClient]
GOOD = 999
BAD_AT = 500  # the bad item sits in the middle of the batch
MB = 1024 * 1024


@pytest.fixture
def deal(cast: Cast, published: PlaybookVersion) -> Any:
    return OpportunityFactory(owner=cast.owner, stage_key="demo")


def good_items(deal: Any, now: dt.datetime) -> list[str]:
    return [
        json.dumps(
            {
                "type": "call",
                "source": "feed",
                "external_id": f"good-{i}",
                "occurred_at": (now - i * dt.timedelta(minutes=7)).isoformat(),
                "opportunity_id": deal.pk,
                "payload": {"minutes": i % 40, "summary": "回访"},
            }
        )
        for i in range(GOOD)
    ]


def bad_item(deal: Any, now: dt.datetime, **changes: Any) -> str:
    """An item that is good but for `changes`; values are JSON texts, put in as written."""
    fields = {
        "type": '"call"',
        "source": '"feed"',
        "external_id": '"bad"',
        "occurred_at": json.dumps(now.isoformat()),
        "opportunity_id": str(deal.pk),
        **changes,
    }
    return "{" + ", ".join(f"{json.dumps(key)}: {text}" for key, text in fields.items()) + "}"


def post_text(api: ApiClient, text: str) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return api.client.post("/api/v1/events", data=text, content_type="application/json")


def batch_with(goods: list[str], bad: str) -> str:
    return '{"events": [' + ", ".join([*goods[:BAD_AT], bad, *goods[BAD_AT:]]) + "]}"


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


# (changes to the item as JSON texts, the field refused, a word its reason holds)
WORST: dict[str, tuple[dict[str, str], str, str]] = {
    "nan": ({"payload": '{"minutes": NaN}'}, "payload.minutes", "NaN"),
    "nested-infinity": (
        {"payload": '{"notes": {"parts": [1, Infinity]}}'},
        "payload.notes.parts.1",
        "Infinity",
    ),
    "nested-minus-infinity": (
        {"payload": '{"x": [{"y": -Infinity}]}'},
        "payload.x.0.y",
        "-Infinity",
    ),
    "year-1-at-plus-14": (
        {"occurred_at": '"0001-01-01T00:00:00+14:00"'},
        "occurred_at",
        "supported range",
    ),
    "year-10000-in-utc": (
        {"occurred_at": '"9999-12-31T23:59:59-14:00"'},
        "occurred_at",
        "supported range",
    ),
    "contact-id-10^30": ({"contact_id": str(10**30)}, "contact_id", "id"),
    "deal-id-minus-1": ({"opportunity_id": "-1"}, "opportunity_id", "id"),
    "account-id-2^63": ({"account_id": str(2**63)}, "account_id", "id"),
    "nul-in-external-id": ({"external_id": '"bad\\u0000id"'}, "external_id", "NUL"),
    "nul-in-payload-text": ({"payload": '{"summary": "a\\u0000b"}'}, "payload.summary", "NUL"),
    "nul-in-payload-key": ({"payload": '{"no\\u0000te": 1}'}, "payload.no\\x00te", "NUL"),
    "unpaired-surrogate": ({"payload": '{"summary": "\\ud800"}'}, "payload.summary", "surrogate"),
    "2-mb-text": ({"payload": json.dumps({"summary": "x" * (2 * MB)})}, "payload", "65536"),
    "payload-1000-deep": ({"payload": nested(1000)}, "payload." + ".".join(["a"] * 20), "Nested"),
    "payload-not-an-object": ({"payload": "[1, 2]"}, "payload", "object"),
    "payload-time-out-of-range": (
        {"type": '"followup.scheduled"', "payload": '{"starts_at": "0001-01-01T00:00:00+14:00"}'},
        "payload.starts_at",
        "1900-01-01",
    ),
    "huge-integer-in-payload": (
        {"payload": '{"minutes": ' + "9" * 30 + "}"},
        "payload.minutes",
        "64-bit",
    ),
}


@pytest.mark.parametrize("case", WORST)
def test_it_stores_the_999_good_items_once_and_refuses_the_worst_one_alone(
    cast: Cast, deal: Any, api_as: ApiAs, case: str
) -> None:
    changes, field, reason = WORST[case]
    now = timezone.now()
    body = batch_with(good_items(deal, now), bad_item(deal, now, **changes))
    api = api_as(cast.owner)

    first, again = post_text(api, body), post_text(api, body)

    for response, verdict in ((first, "accepted"), (again, "duplicate")):
        assert response.status_code == 207
        results = response.json()["results"]
        assert [r["status"] for r in results if r["index"] != BAD_AT] == [verdict] * GOOD
        refused = results[BAD_AT]
        assert refused["status"] == "rejected"
        assert refused["external_id"] == json.loads(changes.get("external_id", '"bad"'))
        assert [d["field"] for d in refused["details"]] == [field]
        assert reason in refused["details"][0]["message"]
    assert Event.objects.filter(opportunity=deal, source="feed").count() == GOOD
    assert not Event.objects.filter(external_id="bad").exists()


@pytest.fixture
def rival_deal(cast: Cast) -> Any:
    return OpportunityFactory(owner=cast.outsider)


def test_it_refuses_another_organizations_deal_as_unknown_without_saying_it_exists(
    cast: Cast, deal: Any, rival_deal: Any, api_as: ApiAs
) -> None:
    now = timezone.now()
    bad = bad_item(deal, now, opportunity_id=str(rival_deal.pk))
    response = post_text(api_as(cast.owner), batch_with(good_items(deal, now), bad))

    assert response.status_code == 207
    assert response.json()["accepted"] == GOOD
    [detail] = response.json()["results"][BAD_AT]["details"]
    assert detail["field"] == "opportunity_id"
    assert detail["message"] == f"No deal with id {rival_deal.pk} that you can record activity on."
    assert not Event.objects.filter(opportunity=rival_deal).exists()


def test_it_refuses_an_item_that_is_not_an_object_alone(
    cast: Cast, deal: Any, api_as: ApiAs
) -> None:
    response = post_text(api_as(cast.owner), batch_with(good_items(deal, timezone.now()), "42"))

    assert response.status_code == 207
    assert response.json()["accepted"] == GOOD
    assert response.json()["results"][BAD_AT]["details"][0]["field"] == "item"


def test_it_answers_200_when_no_item_is_rejected(cast: Cast, deal: Any, api_as: ApiAs) -> None:
    goods = good_items(deal, timezone.now())[:3]
    response = post_text(api_as(cast.owner), '{"events": [' + ", ".join(goods) + "]}")
    assert response.status_code == 200
    assert response.json()["accepted"] == 3


def test_the_deal_page_gate_and_advance_still_work_after_the_worst_items(
    cast: Cast, deal: Any, rival_deal: Any, api_as: ApiAs
) -> None:
    now = timezone.now()
    worst = [bad_item(deal, now, **changes) for changes, _field, _reason in WORST.values()]
    worst.append(bad_item(deal, now, opportunity_id=str(rival_deal.pk)))
    api = api_as(cast.owner)
    body = '{"events": [' + ", ".join([*good_items(deal, now)[: 1000 - len(worst)], *worst]) + "]}"

    logged = post_text(api, body)

    assert logged.status_code == 207
    assert logged.json()["rejected"] == len(worst)
    page = Client(HTTP_ACCEPT_LANGUAGE="en")
    page.force_login(cast.owner)
    assert page.get(reverse("web:deal", args=[deal.pk])).status_code == 200
    assert api.get(f"/opportunities/{deal.pk}/gate").status_code == 200
    moved = api.post(f"/opportunities/{deal.pk}/advance", {"to_stage": "first_contact"})
    assert moved.status_code == 200
    assert moved.json()["kind"] == "regression"


# Letters, digits, punctuation and spaces, with control characters (NUL among them) and unpaired
# surrogates, which plain `st.text()` leaves out.
TEXT = st.text(st.characters(categories=["L", "N", "P", "Zs", "Cc", "Cs"]))


def json_containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats()  # NaN and both infinities included
    | TEXT,
    json_containers,
    max_leaves=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=JSON_VALUES)
def test_any_json_payload_is_stored_as_sent_or_refused_with_a_reason_never_a_500(
    cast: Cast, deal: Any, api_as: ApiAs, payload: Any
) -> None:
    external_id = f"fuzz-{next(_NUMBERS)}"
    item = {
        "type": "meeting.held",
        "external_id": external_id,
        "occurred_at": timezone.now().isoformat(),
        "opportunity_id": deal.pk,
        "payload": payload,
    }
    response = post_text(api_as(cast.owner), json.dumps(item))

    assert response.status_code in (200, 207)
    [result] = response.json()["results"]
    if result["status"] == "accepted":
        assert same_json(Event.objects.get(external_id=external_id).payload, payload)
    else:
        assert result["details"]
        assert result["details"][0]["field"].startswith("payload")


ITEM_FIELDS = st.sampled_from(
    ["type", "source", "external_id", "occurred_at", "opportunity_id", "account_id",
     "contact_id", "team_id", "with_customer", "payload"]
)  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(item=st.dictionaries(ITEM_FIELDS | TEXT, JSON_VALUES, max_size=6), envelope=st.booleans())
def test_any_json_item_is_judged_on_its_own_never_a_500(
    cast: Cast, deal: Any, api_as: ApiAs, item: dict[str, Any], envelope: bool
) -> None:
    body = {"events": [item]} if envelope else item
    response = post_text(api_as(cast.owner), json.dumps(body))

    if not envelope and "events" in item:  # an envelope of its own making, judged as one
        assert response.status_code in (200, 207, 422)
        return
    assert response.status_code in (200, 207)
    [result] = response.json()["results"]
    assert result["status"] in ("accepted", "rejected")


_NUMBERS = itertools.count()


def same_json(stored: Any, sent: Any) -> bool:
    """Equal as JSON: PostgreSQL keeps numbers as decimals, so 2.5e16 may come back as an
    integer; a number is the same if it is the same double."""
    if isinstance(sent, bool) or sent is None or isinstance(sent, str):
        return type(stored) is type(sent) and stored == sent
    if isinstance(sent, int | float):
        return not isinstance(stored, bool) and float(stored) == float(sent)
    if isinstance(sent, list):
        return (
            isinstance(stored, list)
            and len(stored) == len(sent)
            and all(same_json(a, b) for a, b in zip(stored, sent, strict=True))
        )
    return (
        isinstance(stored, dict)
        and stored.keys() == sent.keys()
        and all(same_json(stored[key], sent[key]) for key in sent)
    )
