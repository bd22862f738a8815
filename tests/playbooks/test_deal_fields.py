"""Deals under a published playbook: opening stage, custom field checks, closing by stage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import ApiClient, Cast
from tests.factories import AccountFactory, OpportunityFactory

ApiAs = Callable[[Any], ApiClient]


def new_deal(cast: Cast, api: ApiClient, **extra: Any) -> Any:
    account = AccountFactory(organization=cast.org, owner=cast.owner)
    return api.post("/opportunities", {"name": "新商机", "account_id": account.pk, **extra})


def test_it_opens_a_deal_in_the_playbooks_first_stage(
    cast: Cast, published: Any, api_as: ApiAs
) -> None:
    response = new_deal(cast, api_as(cast.owner))
    assert response.status_code == 201, response.json()
    assert response.json()["stage_key"] == "first_contact"


def test_it_refuses_to_open_a_deal_in_a_terminal_or_unknown_stage(
    cast: Cast, published: Any, api_as: ApiAs
) -> None:
    api = api_as(cast.owner)
    for stage in ("won", "demoo"):
        response = new_deal(cast, api, stage_key=stage)
        assert response.status_code == 422
        detail = response.json()["details"][0]
        assert detail["field"] == "stage_key"
        assert "first_contact, demo, tech_confirmed, quote" in detail["message"]


def test_it_refuses_custom_fields_the_playbook_does_not_allow(
    cast: Cast, published: Any, api_as: ApiAs
) -> None:
    response = new_deal(
        cast,
        api_as(cast.owner),
        custom_fields={"budjet_confirmed": True, "signing_period": "someday"},
    )
    assert response.status_code == 422
    fields = {d["field"]: d["message"] for d in response.json()["details"]}
    assert "did you mean 'budget_confirmed'?" in fields["custom_fields.budjet_confirmed"]
    assert "not one of: within_1m, within_3m" in fields["custom_fields.signing_period"]


def test_it_words_custom_field_problems_in_the_callers_language(
    cast: Cast, published: Any, api_as: ApiAs
) -> None:
    api = api_as(cast.owner)
    api.client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    response = new_deal(
        cast, api, custom_fields={"budjet_confirmed": True, "signing_period": "someday"}
    )
    assert response.status_code == 422
    fields = {d["field"]: d["message"] for d in response.json()["details"]}
    assert "是否要填“budget_confirmed”" in fields["custom_fields.budjet_confirmed"]
    assert fields["custom_fields.signing_period"].startswith("“someday”不是“预计签约周期”的可选项")


def test_it_merges_patched_custom_fields_and_removes_those_set_to_null(
    cast: Cast, published: Any, api_as: ApiAs
) -> None:
    api = api_as(cast.owner)
    deal = OpportunityFactory(
        owner=cast.owner, stage_key="demo", custom_fields={"budget_confirmed": True}
    )
    api.patch(f"/opportunities/{deal.pk}", {"custom_fields": {"signing_period": "within_1m"}})
    deal.refresh_from_db()
    assert deal.custom_fields == {"budget_confirmed": True, "signing_period": "within_1m"}

    api.patch(f"/opportunities/{deal.pk}", {"custom_fields": {"budget_confirmed": None}})
    deal.refresh_from_db()
    assert deal.custom_fields == {"signing_period": "within_1m"}


def test_it_closes_deals_only_through_a_won_or_lost_stage_under_a_playbook(
    cast: Cast, published: Any, api_as: ApiAs
) -> None:
    deal = OpportunityFactory(owner=cast.owner, stage_key="demo")
    response = api_as(cast.owner).patch(f"/opportunities/{deal.pk}", {"status": "won"})
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "status"
