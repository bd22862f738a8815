"""`GET /api/v1/events`: the log as the caller may read it, filtered, paged, in local time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from lodestar.org.models import Role
from tests.conftest import ApiClient, Cast
from tests.factories import AccountFactory, EventFactory, OpportunityFactory, UserFactory

ApiAs = Callable[[Any], ApiClient]

NOON_UTC = dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.UTC)


@pytest.fixture
def logged(cast: Cast) -> dict[str, Any]:
    """A call on the owner's deal, a meeting on a southern rep's deal, an account note, and a
    call in another organization."""
    own = OpportunityFactory(owner=cast.owner)
    south = OpportunityFactory(owner=cast.other_team_rep)
    foreign_rep = UserFactory(organization=cast.outsider.membership.organization, role=Role.REP)
    return {
        "own": EventFactory(opportunity=own, type="call", occurred_at=NOON_UTC),
        "south": EventFactory(
            opportunity=south, type="meeting", source="wecom", occurred_at=NOON_UTC
        ),
        "account": EventFactory(
            opportunity=None,
            organization=cast.org,
            account=AccountFactory(organization=cast.org, owner=cast.owner),
            actor=cast.owner,
            type="note",
            occurred_at=NOON_UTC - dt.timedelta(days=3),
        ),
        "foreign": EventFactory(opportunity=OpportunityFactory(owner=foreign_rep)),
    }


def _ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.json()
    return {item["id"] for item in response.json()["items"]}


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("owner", {"own", "account"}),
        ("teammate", set()),
        ("manager", {"own", "account"}),
        ("other_team_rep", {"south"}),
        ("ops", {"own", "south", "account"}),
        ("admin", {"own", "south", "account"}),
    ],
)
def test_it_lists_only_the_events_of_deals_and_accounts_the_caller_may_read(
    cast: Cast, logged: dict[str, Any], api_as: ApiAs, who: str, sees: set[str]
) -> None:
    response = api_as(getattr(cast, who)).get("/events")
    assert _ids(response) == {logged[name].pk for name in sees}


def test_another_organizations_admin_reads_none_of_ours(
    cast: Cast, logged: dict[str, Any], api_as: ApiAs
) -> None:
    assert _ids(api_as(cast.outsider).get("/events")) == {logged["foreign"].pk}
    deal_filter = api_as(cast.outsider).get("/events", opportunity=logged["own"].opportunity_id)
    assert _ids(deal_filter) == set()


def test_it_filters_by_deal_account_type_source_and_time(
    cast: Cast, logged: dict[str, Any], api_as: ApiAs
) -> None:
    api = api_as(cast.admin)
    own, south, note = logged["own"], logged["south"], logged["account"]
    assert _ids(api.get("/events", opportunity=own.opportunity_id)) == {own.pk}
    assert _ids(api.get("/events", account=note.account_id)) == {note.pk}
    assert _ids(api.get("/events", type="meeting")) == {south.pk}
    assert _ids(api.get("/events", source="wecom")) == {south.pk}
    window = {"occurred_from": "2026-11-30T00:00:00+08:00", "occurred_to": "2026-12-02T00:00+08:00"}
    assert _ids(api.get("/events", **window)) == {own.pk, south.pk}


def test_it_pages_newest_first_and_words_times_in_the_organizations_zone(
    cast: Cast, logged: dict[str, Any], api_as: ApiAs
) -> None:
    body = api_as(cast.admin).get("/events", limit=2).json()
    assert (body["count"], body["limit"], body["offset"]) == (3, 2, 0)
    assert [item["occurred_at"] for item in body["items"]] == ["2026-12-01T12:00:00+08:00"] * 2
    rest = api_as(cast.admin).get("/events", limit=2, offset=2).json()["items"]
    assert [item["id"] for item in rest] == [logged["account"].pk]
    assert rest[0]["actor"]["username"] == "owner"


def test_it_refuses_an_unknown_filter_and_a_time_without_offset(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.admin)
    unknown = api.get("/events", deal=1)
    assert (unknown.status_code, unknown.json()["details"][0]["field"]) == (422, "deal")
    naive = api.get("/events", occurred_from="2026-12-01T00:00:00")
    assert (naive.status_code, naive.json()["details"][0]["field"]) == (422, "occurred_from")
    # pydantic alone would read a number as a Unix time.
    number = api.get("/events", occurred_to="0.5")
    assert (number.status_code, number.json()["details"][0]["field"]) == (422, "occurred_to")
