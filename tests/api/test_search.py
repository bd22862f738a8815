"""GET /api/v1/search and GET /api/v1/accounts/duplicates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import ApiClient, Cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(cast: Cast) -> dict[str, Any]:
    from tests.factories import AccountFactory, ContactFactory, OpportunityFactory

    mine = AccountFactory(organization=cast.org, name="华东机械有限公司", owner=cast.owner)
    theirs = AccountFactory(
        organization=cast.org, name="华南重工集团有限公司", owner=cast.other_team_rep
    )
    return {
        "mine": mine,
        "theirs": theirs,
        "deal": OpportunityFactory(account=mine, owner=cast.owner, name="二期产线改造"),
        "their_deal": OpportunityFactory(
            account=theirs, owner=cast.other_team_rep, name="华南重工二期"
        ),
        "contact": ContactFactory(
            account=mine, organization=cast.org, name="王建国", phone="13812345678"
        ),
    }


def test_it_finds_deals_accounts_and_contacts_by_pinyin_initials(
    cast: Cast, records: dict[str, Any], api_as: Callable[[Any], ApiClient]
) -> None:
    response = api_as(cast.owner).get("/search", q="hdjx")
    assert response.status_code == 200
    body = response.json()
    assert [a["name"] for a in body["accounts"]["items"]] == ["华东机械有限公司"]
    # The deal is found through its account's name.
    assert [d["name"] for d in body["deals"]["items"]] == ["二期产线改造"]
    assert body["contacts"]["count"] == 0


def test_it_finds_by_full_pinyin_with_spaces_and_by_chinese_text(
    cast: Cast, records: dict[str, Any], api_as: Callable[[Any], ApiClient]
) -> None:
    api = api_as(cast.owner)
    assert api.get("/search", q="huadong jixie").json()["accounts"]["count"] == 1
    assert api.get("/search", q="东机").json()["accounts"]["count"] == 1
    assert api.get("/search", q="wjg").json()["contacts"]["items"][0]["name"] == "王建国"
    assert api.get("/search", q="12345678").json()["contacts"]["count"] == 1


def test_it_finds_only_what_the_caller_may_read(
    cast: Cast, records: dict[str, Any], api_as: Callable[[Any], ApiClient]
) -> None:
    rep = api_as(cast.owner).get("/search", q="huanan").json()
    assert (rep["accounts"]["count"], rep["deals"]["count"]) == (0, 0)
    admin = api_as(cast.admin).get("/search", q="huanan").json()
    assert (admin["accounts"]["count"], admin["deals"]["count"]) == (1, 1)
    outsider = api_as(cast.outsider).get("/search", q="hdjx").json()
    assert outsider["accounts"]["count"] == 0


def test_it_refuses_an_empty_query_with_the_field_named(
    cast: Cast, api_as: Callable[[Any], ApiClient]
) -> None:
    response = api_as(cast.owner).get("/search", q="")
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["details"]] == ["q"]


def test_it_tells_a_possible_duplicate_and_hides_what_the_caller_may_not_read(
    cast: Cast, records: dict[str, Any], api_as: Callable[[Any], ApiClient]
) -> None:
    api = api_as(cast.owner)
    mine = api.get("/accounts/duplicates", name="华东机械").json()["items"]
    expected = {"name": "华东机械有限公司", "reason": "same_name", "visible": True}
    assert mine == [{**expected, "id": records["mine"].pk}]
    theirs = api.get("/accounts/duplicates", name="hnzg").json()["items"]
    assert theirs == [
        {"name": "华南重工集团有限公司", "reason": "pinyin_initials", "visible": False, "id": None}
    ]


def test_it_finds_no_duplicate_for_a_new_name_or_the_account_being_renamed(
    cast: Cast, records: dict[str, Any], api_as: Callable[[Any], ApiClient]
) -> None:
    api = api_as(cast.owner)
    assert api.get("/accounts/duplicates", name="苏州精工模具").json()["items"] == []
    renamed = api.get(
        "/accounts/duplicates", name="华东机械股份有限公司", exclude=records["mine"].pk
    ).json()
    assert renamed["items"] == []


def test_it_keeps_reading_an_account_by_id_next_to_the_duplicate_check(
    cast: Cast, records: dict[str, Any], api_as: Callable[[Any], ApiClient]
) -> None:
    response = api_as(cast.owner).get(f"/accounts/{records['mine'].pk}")
    assert response.json()["name"] == "华东机械有限公司"
