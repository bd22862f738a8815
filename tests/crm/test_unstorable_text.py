"""CRM writes and searches refuse text no database can store (a NUL character) with a 422 that
names the field, on SQLite and PostgreSQL alike; nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lodestar.crm.models import Account, Contact, Opportunity, Product
from tests.conftest import ApiClient, Cast
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, ProductFactory

ApiAs = Callable[[Any], ApiClient]
NUL = "a\x00b"


def assert_refused(response: Any, field: str) -> None:
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    [detail] = body["details"]
    assert detail["field"] == field
    assert "NUL" in detail["message"]


@pytest.mark.parametrize(
    ("path", "body", "field", "model"),
    [
        ("/accounts", {"name": NUL}, "name", Account),
        ("/accounts", {"name": "华东机械", "external_ref": NUL}, "external_ref", Account),
        ("/products", {"name": NUL}, "name", Product),
        ("/products", {"name": "PLC", "aliases": ["x", NUL]}, "aliases.1", Product),
    ],
)
def test_it_refuses_a_nul_character_in_a_created_record(
    cast: Cast, api_as: ApiAs, path: str, body: dict[str, Any], field: str, model: Any
) -> None:
    before = model.objects.count()
    assert_refused(api_as(cast.admin).post(path, body), field)
    assert model.objects.count() == before


def test_it_refuses_a_nul_character_in_a_new_contacts_name(cast: Cast, api_as: ApiAs) -> None:
    account = AccountFactory(organization=cast.org, owner=cast.owner)
    response = api_as(cast.owner).post("/contacts", {"account_id": account.pk, "name": NUL})
    assert_refused(response, "name")
    assert not Contact.objects.exists()


def test_it_refuses_a_nul_character_in_a_new_deals_name_and_external_ref(
    cast: Cast, api_as: ApiAs
) -> None:
    account = AccountFactory(organization=cast.org, owner=cast.owner)
    api = api_as(cast.owner)
    for field in ("name", "external_ref"):
        body = {"name": "产线改造", "account_id": account.pk, field: NUL}
        assert_refused(api.post("/opportunities", body), field)
    assert not Opportunity.objects.exists()


def test_it_refuses_a_nul_character_in_an_update_and_keeps_the_record(
    cast: Cast, api_as: ApiAs
) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    contact = ContactFactory(account=deal.account)
    product = ProductFactory(organization=cast.org)
    api, admin = api_as(cast.owner), api_as(cast.admin)

    assert_refused(api.patch(f"/opportunities/{deal.pk}", {"name": NUL}), "name")
    assert_refused(api.patch(f"/accounts/{deal.account_id}", {"external_ref": NUL}), "external_ref")
    assert_refused(api.patch(f"/contacts/{contact.pk}", {"name": NUL}), "name")
    assert_refused(admin.patch(f"/products/{product.pk}", {"model_number": NUL}), "model_number")

    names = (deal.name, contact.name, product.model_number)
    for record in (deal, contact, product):
        record.refresh_from_db()
    assert (deal.name, contact.name, product.model_number) == names


@pytest.mark.parametrize("path", ["/accounts", "/contacts", "/products", "/opportunities"])
def test_it_refuses_a_nul_character_in_a_search(cast: Cast, api_as: ApiAs, path: str) -> None:
    assert_refused(api_as(cast.owner).get(path, q=NUL), "q")
