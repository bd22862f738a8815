"""The CRM endpoints, every one tried by every kind of caller.

The subject of each permission test belongs to `owner` (a rep in the manager's team). Callers:
the owner, a teammate, the manager, a rep of another team, ops, admin, and an admin of another
organization (the outsider). Anything a caller may not see is 404, whatever they try; what they
see but may not change is 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lodestar.crm.models import Account, Contact, Opportunity, Product
from tests.conftest import ApiClient, Cast
from tests.factories import (
    AccountFactory,
    ContactFactory,
    OpportunityFactory,
    ProductFactory,
)

ApiAs = Callable[[Any], ApiClient]
ACTORS = ["owner", "teammate", "manager", "other_team_rep", "ops", "admin", "outsider"]


def make_subject(resource: str, cast: Cast) -> Any:
    if resource == "opportunities":
        return OpportunityFactory(owner=cast.owner)
    account = AccountFactory(organization=cast.org, owner=cast.owner)
    if resource == "accounts":
        return account
    if resource == "contacts":
        return ContactFactory(account=account)
    return ProductFactory(organization=cast.org)


# Expected status per caller: reading the subject, and changing it (PATCH 200 / DELETE 204).
READ = {
    "opportunities": dict(
        owner=200, teammate=404, manager=200, other_team_rep=404, ops=200, admin=200, outsider=404
    ),
    "accounts": dict(
        owner=200, teammate=404, manager=200, other_team_rep=404, ops=200, admin=200, outsider=404
    ),
    "contacts": dict(
        owner=200, teammate=404, manager=200, other_team_rep=404, ops=200, admin=200, outsider=404
    ),
    "products": dict(
        owner=200, teammate=200, manager=200, other_team_rep=200, ops=200, admin=200, outsider=404
    ),
}
WRITE = {
    "opportunities": dict(
        owner=200, teammate=404, manager=200, other_team_rep=404, ops=403, admin=200, outsider=404
    ),
    "accounts": dict(
        owner=200, teammate=404, manager=200, other_team_rep=404, ops=403, admin=200, outsider=404
    ),
    "contacts": dict(
        owner=200, teammate=404, manager=200, other_team_rep=404, ops=403, admin=200, outsider=404
    ),
    "products": dict(
        owner=403, teammate=403, manager=403, other_team_rep=403, ops=200, admin=200, outsider=404
    ),
}
PATCHES = {
    "opportunities": {"name": "改名后的商机"},
    "accounts": {"region": "华东"},
    "contacts": {"title": "总工程师"},
    "products": {"category": "PLC"},
}
MODELS = {
    "opportunities": Opportunity,
    "accounts": Account,
    "contacts": Contact,
    "products": Product,
}


def matrix(table: dict[str, dict[str, int]]) -> list[Any]:
    return [
        pytest.param(resource, who, status, id=f"{resource}-{who}")
        for resource, by_actor in table.items()
        for who, status in by_actor.items()
    ]


def assert_error(response: Any, status: int, *, code: str, fields: list[str] = ()) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]
    assert [d["field"] for d in body["details"]] == list(fields)


# --- every endpoint × every caller -------------------------------------------------------------


@pytest.mark.parametrize(("resource", "who", "status"), matrix(READ))
def test_it_scopes_reading_one(
    cast: Cast, api_as: ApiAs, resource: str, who: str, status: int
) -> None:
    subject = make_subject(resource, cast)
    response = api_as(getattr(cast, who)).get(f"/{resource}/{subject.pk}")
    if status == 200:
        assert response.status_code == 200
        assert response.json()["id"] == subject.pk
    else:
        assert_error(response, 404, code="not_found")


@pytest.mark.parametrize(("resource", "who", "status"), matrix(READ))
def test_it_scopes_the_list(
    cast: Cast, api_as: ApiAs, resource: str, who: str, status: int
) -> None:
    subject = make_subject(resource, cast)
    response = api_as(getattr(cast, who)).get(f"/{resource}")
    assert response.status_code == 200
    ids = [item["id"] for item in response.json()["items"]]
    assert (subject.pk in ids) is (status == 200)


@pytest.mark.parametrize(("resource", "who", "status"), matrix(WRITE))
def test_it_scopes_updating(
    cast: Cast, api_as: ApiAs, resource: str, who: str, status: int
) -> None:
    subject = make_subject(resource, cast)
    change = PATCHES[resource]
    response = api_as(getattr(cast, who)).patch(f"/{resource}/{subject.pk}", change)
    subject.refresh_from_db()
    field, value = next(iter(change.items()))
    if status == 200:
        assert response.status_code == 200, response.content
        assert response.json()[field] == value
        assert getattr(subject, field) == value
    else:
        assert_error(response, status, code={403: "permission_denied", 404: "not_found"}[status])
        assert getattr(subject, field) != value


@pytest.mark.parametrize(("resource", "who", "status"), matrix(WRITE))
def test_it_scopes_deleting(
    cast: Cast, api_as: ApiAs, resource: str, who: str, status: int
) -> None:
    subject = make_subject(resource, cast)
    response = api_as(getattr(cast, who)).delete(f"/{resource}/{subject.pk}")
    still_there = MODELS[resource].objects.filter(pk=subject.pk).exists()
    if status == 200:
        assert response.status_code == 204
        assert not still_there
    else:
        assert_error(response, status, code={403: "permission_denied", 404: "not_found"}[status])
        assert still_there


# Creating: deals and contacts refer to the owner's account, which only some callers can see;
# an account the caller cannot see is an unknown reference (422 on `account_id`).
CREATE = {
    "opportunities": dict(
        owner=201, teammate=422, manager=201, other_team_rep=422, ops=403, admin=201, outsider=422
    ),
    "accounts": dict(
        owner=201, teammate=201, manager=201, other_team_rep=201, ops=403, admin=201, outsider=201
    ),
    "contacts": dict(
        owner=201, teammate=422, manager=201, other_team_rep=422, ops=403, admin=201, outsider=422
    ),
    "products": dict(
        owner=403, teammate=403, manager=403, other_team_rep=403, ops=201, admin=201, outsider=201
    ),
}


def create_body(resource: str, cast: Cast) -> dict[str, Any]:
    if resource == "products":
        return {"name": "S7-1200 PLC", "list_price": "8800.00", "aliases": ["1200"]}
    if resource == "accounts":
        return {"name": "苏州精密机械", "tier": "key"}
    account = AccountFactory(organization=cast.org, owner=cast.owner)
    if resource == "contacts":
        return {"account_id": account.pk, "name": "王总", "is_decision_maker": True}
    return {"name": "产线改造", "account_id": account.pk, "amount": "250000.00"}


@pytest.mark.parametrize(("resource", "who", "status"), matrix(CREATE))
def test_it_scopes_creating(
    cast: Cast, api_as: ApiAs, resource: str, who: str, status: int
) -> None:
    caller = getattr(cast, who)
    response = api_as(caller).post(f"/{resource}", create_body(resource, cast))
    if status == 201:
        assert response.status_code == 201, response.content
        created = MODELS[resource].objects.get(pk=response.json()["id"])
        assert created.organization_id == caller.membership.organization_id
    elif status == 422:
        assert_error(response, 422, code="invalid", fields=["account_id"])
    else:
        assert_error(response, 403, code="permission_denied")


# --- input validation --------------------------------------------------------------------------

REQUIRED = {
    "opportunities": ["name", "account_id"],
    "accounts": ["name"],
    "contacts": ["account_id", "name"],
    "products": ["name"],
}


@pytest.mark.parametrize("resource", REQUIRED)
def test_it_names_the_missing_fields(cast: Cast, api_as: ApiAs, resource: str) -> None:
    response = api_as(cast.admin).post(f"/{resource}", {})
    assert_error(response, 422, code="invalid", fields=REQUIRED[resource])


@pytest.mark.parametrize("resource", REQUIRED)
def test_it_refuses_an_unknown_field_on_create(cast: Cast, api_as: ApiAs, resource: str) -> None:
    body = {**create_body(resource, cast), "colour": "red"}
    response = api_as(cast.admin).post(f"/{resource}", body)
    assert_error(response, 422, code="invalid", fields=["colour"])
    assert response.json()["details"][0]["message"] == "Unknown field."


@pytest.mark.parametrize("resource", REQUIRED)
def test_it_refuses_an_unknown_field_on_update(cast: Cast, api_as: ApiAs, resource: str) -> None:
    subject = make_subject(resource, cast)
    response = api_as(cast.admin).patch(f"/{resource}/{subject.pk}", {"colour": "red"})
    assert_error(response, 422, code="invalid", fields=["colour"])


@pytest.mark.parametrize("resource", REQUIRED)
def test_it_refuses_null_for_a_required_field_on_update(
    cast: Cast, api_as: ApiAs, resource: str
) -> None:
    subject = make_subject(resource, cast)
    response = api_as(cast.admin).patch(f"/{resource}/{subject.pk}", {"name": None})
    assert_error(response, 422, code="invalid", fields=["name"])


@pytest.mark.parametrize("resource", REQUIRED)
def test_it_refuses_an_unknown_filter(cast: Cast, api_as: ApiAs, resource: str) -> None:
    response = api_as(cast.admin).get(f"/{resource}", stauts="won")
    assert_error(response, 422, code="invalid", fields=["stauts"])


@pytest.mark.parametrize("resource", REQUIRED)
def test_it_caps_the_page_size(cast: Cast, api_as: ApiAs, resource: str) -> None:
    response = api_as(cast.admin).get(f"/{resource}", limit=201)
    assert_error(response, 422, code="invalid", fields=["limit"])


def test_it_refuses_a_body_that_is_not_json(cast: Cast, api_as: ApiAs) -> None:
    client = api_as(cast.owner).client
    response = client.post("/api/v1/accounts", data="{", content_type="application/json")
    assert_error(response, 400, code="bad_request")


def test_it_refuses_more_than_two_decimal_places_of_money(cast: Cast, api_as: ApiAs) -> None:
    body = {**create_body("opportunities", cast), "amount": "10.001"}
    response = api_as(cast.owner).post("/opportunities", body)
    assert_error(response, 422, code="invalid", fields=["amount"])


def test_it_refuses_a_negative_amount_on_update(cast: Cast, api_as: ApiAs) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    response = api_as(cast.owner).patch(f"/opportunities/{deal.pk}", {"amount": "-1"})
    assert_error(response, 422, code="invalid", fields=["amount"])


def test_it_refuses_a_stage_change_through_patch(cast: Cast, api_as: ApiAs) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    response = api_as(cast.owner).patch(f"/opportunities/{deal.pk}", {"stage_key": "won"})
    assert_error(response, 422, code="invalid", fields=["stage_key"])
    assert "stage" in response.json()["details"][0]["message"]


def test_it_refuses_an_account_of_another_organization(cast: Cast, api_as: ApiAs) -> None:
    foreign = AccountFactory(organization=cast.outsider.membership.organization)
    body = {"name": "越界", "account_id": foreign.pk}
    response = api_as(cast.owner).post("/opportunities", body)
    assert_error(response, 422, code="invalid", fields=["account_id"])


def test_it_refuses_a_rep_opening_a_deal_for_a_teammate(cast: Cast, api_as: ApiAs) -> None:
    body = {**create_body("opportunities", cast), "owner_id": cast.teammate.pk}
    response = api_as(cast.owner).post("/opportunities", body)
    assert_error(response, 403, code="permission_denied", fields=["owner_id"])


def test_it_lets_a_manager_open_a_deal_for_a_team_member(cast: Cast, api_as: ApiAs) -> None:
    body = {**create_body("opportunities", cast), "owner_id": cast.owner.pk}
    response = api_as(cast.manager).post("/opportunities", body)
    assert response.status_code == 201
    assert response.json()["owner"]["id"] == cast.owner.pk
    assert response.json()["team"]["id"] == cast.team.pk


def test_it_refuses_deleting_an_account_that_has_deals(cast: Cast, api_as: ApiAs) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    response = api_as(cast.admin).delete(f"/accounts/{deal.account_id}")
    assert_error(response, 409, code="conflict")


def test_it_reports_a_malformed_email_on_its_field(cast: Cast, api_as: ApiAs) -> None:
    contact = make_subject("contacts", cast)
    response = api_as(cast.owner).patch(f"/contacts/{contact.pk}", {"email": "not-an-email"})
    assert_error(response, 422, code="invalid", fields=["email"])


# --- manager scope -----------------------------------------------------------------------------


def test_it_hides_another_teams_deal_from_a_manager(cast: Cast, api_as: ApiAs) -> None:
    deal = OpportunityFactory(owner=cast.other_team_rep)
    assert_error(api_as(cast.manager).get(f"/opportunities/{deal.pk}"), 404, code="not_found")


def test_it_shows_a_manager_every_deal_of_their_team(cast: Cast, api_as: ApiAs) -> None:
    mine = {OpportunityFactory(owner=who).pk for who in (cast.owner, cast.teammate, cast.manager)}
    OpportunityFactory(owner=cast.other_team_rep)
    response = api_as(cast.manager).get("/opportunities")
    assert {item["id"] for item in response.json()["items"]} == mine


# --- outputs, filters, pages -------------------------------------------------------------------


def test_it_returns_money_as_a_decimal_string_and_aware_times(cast: Cast, api_as: ApiAs) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    body = api_as(cast.owner).get(f"/opportunities/{deal.pk}").json()
    assert body["amount"] == "100000.00"
    assert body["created_at"].endswith("Z") or "+" in body["created_at"]


def test_it_creates_a_deal_at_the_first_stage_in_the_owners_team(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.owner).post("/opportunities", create_body("opportunities", cast))
    body = response.json()
    assert (body["stage_key"], body["status"], body["amount"]) == ("lead", "open", "250000.00")
    assert body["owner"]["id"] == cast.owner.pk
    assert body["team"]["id"] == cast.team.pk


def test_it_pages_with_the_total_count(cast: Cast, api_as: ApiAs) -> None:
    for _ in range(7):
        OpportunityFactory(owner=cast.owner)
    body = api_as(cast.owner).get("/opportunities", limit=3, offset=3).json()
    assert (body["count"], body["limit"], body["offset"], len(body["items"])) == (7, 3, 3, 3)
    last = api_as(cast.owner).get("/opportunities", limit=3, offset=6).json()
    assert (last["count"], len(last["items"])) == (7, 1)


def test_it_pages_without_overlap(cast: Cast, api_as: ApiAs) -> None:
    made = {OpportunityFactory(owner=cast.owner).pk for _ in range(5)}
    api = api_as(cast.owner)
    seen = [
        i["id"]
        for off in (0, 2, 4)
        for i in api.get("/opportunities", limit=2, offset=off).json()["items"]
    ]
    assert sorted(seen) == sorted(made)


def test_it_filters_deals(cast: Cast, api_as: ApiAs) -> None:
    won = OpportunityFactory(owner=cast.owner, status="won", name="PLC 改造")
    OpportunityFactory(owner=cast.owner, name="PLC 新线")
    OpportunityFactory(owner=cast.teammate, status="won", name="PLC 扩容")
    body = (
        api_as(cast.manager)
        .get("/opportunities", status="won", q="plc", owner=cast.owner.pk, team=cast.team.pk)
        .json()
    )
    assert [item["id"] for item in body["items"]] == [won.pk]


def test_it_filters_deals_by_expected_close_range(cast: Cast, api_as: ApiAs) -> None:
    import datetime as dt

    soon = OpportunityFactory(owner=cast.owner, expected_close_date=dt.date(2030, 1, 10))
    OpportunityFactory(owner=cast.owner, expected_close_date=dt.date(2030, 2, 10))
    body = (
        api_as(cast.owner)
        .get("/opportunities", expected_close_from="2030-01-01", expected_close_to="2030-01-31")
        .json()
    )
    assert [item["id"] for item in body["items"]] == [soon.pk]


def test_it_filters_accounts(cast: Cast, api_as: ApiAs) -> None:
    key = AccountFactory(organization=cast.org, tier="key", industry="汽车", name="一汽配套")
    AccountFactory(organization=cast.org, tier="key", industry="食品", name="一汽食堂")
    body = api_as(cast.admin).get("/accounts", q="一汽", tier="key", industry="汽车").json()
    assert [item["id"] for item in body["items"]] == [key.pk]


def test_it_filters_contacts(cast: Cast, api_as: ApiAs) -> None:
    account = AccountFactory(organization=cast.org)
    wang = ContactFactory(account=account, name="王总")
    ContactFactory(account=account, name="李工")
    body = api_as(cast.admin).get("/contacts", account=account.pk, q="王").json()
    assert [item["id"] for item in body["items"]] == [wang.pk]


def test_it_filters_products(cast: Cast, api_as: ApiAs) -> None:
    plc = ProductFactory(organization=cast.org, name="S7-1200", category="PLC")
    ProductFactory(organization=cast.org, name="S7-1500 HMI", category="HMI")
    body = api_as(cast.owner).get("/products", q="s7", category="PLC").json()
    assert [item["id"] for item in body["items"]] == [plc.pk]


# --- no N+1 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", REQUIRED)
def test_it_lists_with_a_constant_number_of_queries(
    cast: Cast, api_as: ApiAs, resource: str, django_assert_max_num_queries: Any
) -> None:
    for _ in range(20):
        make_subject(resource, cast)
    api = api_as(cast.manager)
    # token lookup, last-used touch, managed teams, count, page
    with django_assert_max_num_queries(5):
        response = api.get(f"/{resource}")
    assert len(response.json()["items"]) == 20
