"""`/api/v1/members` and `/api/v1/teams`: the member directory, read in each role's scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import ApiClient, Cast

ApiAs = Callable[[Any], ApiClient]

EVERYONE = {"manager", "owner", "teammate", "ops", "admin", "southrep"}
EAST_TEAM = {"manager", "owner", "teammate"}


def _usernames(response: Any) -> set[str]:
    assert response.status_code == 200, response.json()
    return {item["username"] for item in response.json()["items"]}


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("admin", EVERYONE),
        ("ops", EVERYONE),
        ("manager", EAST_TEAM),
        ("owner", EAST_TEAM),
        ("other_team_rep", {"southrep"}),
        ("outsider", {"outsider"}),
    ],
)
def test_each_role_lists_the_members_in_its_scope(
    cast: Cast, api_as: ApiAs, who: str, sees: set[str]
) -> None:
    assert _usernames(api_as(getattr(cast, who)).get("/members")) == sees


def test_a_member_reads_with_role_team_and_whether_active(cast: Cast, api_as: ApiAs) -> None:
    cast.teammate.is_active = False
    cast.teammate.save()
    response = api_as(cast.manager).get(f"/members/{cast.teammate.pk}")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["role"], body["role_name"], body["is_active"]) == ("rep", "Sales rep", False)
    assert body["team"] == {"id": cast.team.pk, "name": "华东一组"}


def test_it_filters_members_by_role_team_activity_and_text(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.admin)
    assert _usernames(api.get("/members", role="manager")) == {"manager"}
    assert _usernames(api.get("/members", team=cast.team.pk)) == EAST_TEAM
    cast.owner.is_active = False
    cast.owner.save()
    assert _usernames(api.get("/members", active="false")) == {"owner"}
    assert _usernames(api.get("/members", q="south")) == {"southrep"}


@pytest.mark.parametrize(
    ("who", "whom"),
    [
        ("owner", "other_team_rep"),  # a rep reads their own team only
        ("manager", "other_team_rep"),  # a manager the teams they manage
        ("manager", "ops"),
        ("outsider", "owner"),  # another organization's admin
        ("admin", "outsider"),
    ],
)
def test_a_member_outside_the_callers_scope_is_not_found(
    cast: Cast, api_as: ApiAs, who: str, whom: str
) -> None:
    response = api_as(getattr(cast, who)).get(f"/members/{getattr(cast, whom).pk}")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("admin", {"华东一组", "华南组"}),
        ("ops", {"华东一组", "华南组"}),
        ("manager", {"华东一组"}),
        ("other_team_rep", {"华南组"}),
        ("outsider", set()),
    ],
)
def test_each_role_lists_the_teams_in_its_scope(
    cast: Cast, api_as: ApiAs, who: str, sees: set[str]
) -> None:
    response = api_as(getattr(cast, who)).get("/teams")
    assert response.status_code == 200, response.json()
    assert {item["name"] for item in response.json()["items"]} == sees


def test_a_team_names_its_manager_and_counts_its_members(cast: Cast, api_as: ApiAs) -> None:
    items = api_as(cast.admin).get("/teams").json()["items"]
    east = next(item for item in items if item["name"] == "华东一组")
    assert (east["manager"]["username"], east["member_count"]) == ("manager", 3)
