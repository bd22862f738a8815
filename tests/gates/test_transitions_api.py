"""`GET /api/v1/opportunities/{id}/transitions`: a deal's stage moves with their gate snapshots."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lodestar.playbooks.models import PlaybookVersion
from tests.conftest import ApiClient, Cast
from tests.factories import OpportunityFactory

ApiAs = Callable[[Any], ApiClient]


@pytest.fixture
def moved(cast: Cast, published: PlaybookVersion, api_as: ApiAs) -> Any:
    """A deal moved back from tech_confirmed to demo, then refused forward by the demo gate."""
    deal = OpportunityFactory(owner=cast.owner, stage_key="tech_confirmed")
    api = api_as(cast.owner)
    assert api.post(f"/opportunities/{deal.pk}/advance", {"to_stage": "demo"}).status_code == 200
    blocked = api.post(f"/opportunities/{deal.pk}/advance", {"to_stage": "tech_confirmed"})
    assert blocked.status_code == 409
    return deal


def test_it_lists_each_move_with_stage_names_who_when_and_the_gate_snapshot(
    cast: Cast, moved: Any, api_as: ApiAs
) -> None:
    response = api_as(cast.owner).get(f"/opportunities/{moved.pk}/transitions")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 1
    move = body["items"][0]
    assert (move["from_stage"], move["to_stage"], move["direction"]) == (
        "tech_confirmed",
        "demo",
        "backward",
    )
    assert (move["from_stage_name"], move["to_stage_name"]) == (
        "Technical solution confirmed",
        "Product demo",
    )
    assert move["actor"]["username"] == "owner"
    assert move["occurred_at"].endswith("+08:00")
    checklist = move["gates"][0]
    assert checklist["stage"] == "tech_confirmed"
    criterion = checklist["criteria"][0]
    assert {"id", "met", "label", "explanation", "label_i18n", "explanation_i18n"} <= set(criterion)
    assert criterion["explanation_i18n"]["zh"]
    assert criterion["explanation"] == criterion["explanation_i18n"]["en"]


def test_it_names_the_stages_in_chinese_for_a_chinese_caller(
    cast: Cast, moved: Any, api_as: ApiAs
) -> None:
    api = api_as(cast.owner)
    api.client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    move = api.get(f"/opportunities/{moved.pk}/transitions").json()["items"][0]
    assert (move["from_stage_name"], move["to_stage_name"]) == ("技术方案确认", "产品演示")


@pytest.mark.parametrize("who", ["manager", "ops", "admin"])
def test_those_who_read_the_deal_read_its_moves(
    cast: Cast, moved: Any, api_as: ApiAs, who: str
) -> None:
    response = api_as(getattr(cast, who)).get(f"/opportunities/{moved.pk}/transitions")
    assert response.json()["count"] == 1


@pytest.mark.parametrize("who", ["teammate", "other_team_rep", "outsider"])
def test_those_who_may_not_read_the_deal_get_404(
    cast: Cast, moved: Any, api_as: ApiAs, who: str
) -> None:
    response = api_as(getattr(cast, who)).get(f"/opportunities/{moved.pk}/transitions")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
