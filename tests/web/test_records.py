"""The record pages: quick add of a deal, accounts and contacts, and global search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.conftest import Cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def roles(cast: Cast) -> list[Any]:
    from tests.factories import DecisionRoleFactory

    return [
        DecisionRoleFactory(organization=cast.org, key="purchasing", name_zh="采购总监"),
        DecisionRoleFactory(organization=cast.org, key="plant", name_zh="生产厂长"),
    ]


@pytest.fixture
def huadong(cast: Cast) -> Any:
    from tests.factories import AccountFactory

    return AccountFactory(organization=cast.org, name="华东机械有限公司", owner=cast.owner)


def _quick(**fields: Any) -> dict[str, Any]:
    data = {
        "account_name": "",
        "contact_choice": "new",
        "contact_name": "",
        "name": "二期产线改造",
        "amount": "",
        "expected_close_date": "",
        "stage": "",
    }
    data.update(fields)
    return data


def test_it_shows_the_quick_add_page_with_the_first_stage_chosen(
    cast: Cast, published: Any, client_as: Callable[[Any], Client]
) -> None:
    response = client_as(cast.owner).get("/deals/new/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'option value="first_contact" selected' in html


def test_it_creates_the_account_the_contact_and_the_deal_together(
    cast: Cast, published: Any, roles: list[Any], client_as: Callable[[Any], Client]
) -> None:
    from lodestar.crm.models import Account, Contact, Opportunity

    response = client_as(cast.owner).post(
        "/deals/new/",
        _quick(
            account_name="苏州精工模具有限公司",
            contact_name="陈经理",
            contact_title="采购经理",
            contact_phone="13800138000",
            contact_role=str(roles[0].pk),
            amount="120000",
            expected_close_date="2027-03-01",
        ),
    )
    deal = Opportunity.objects.get(name="二期产线改造")
    assert response.status_code == 302
    assert response["Location"] == f"/deals/{deal.pk}/"
    assert deal.stage_key == "first_contact"
    assert str(deal.amount) == "120000.00"
    assert deal.account.name == "苏州精工模具有限公司"
    assert deal.account.owner == cast.owner
    contact = Contact.objects.get(account=deal.account)
    assert (contact.name, contact.phone, contact.decision_role) == (
        "陈经理",
        "13800138000",
        roles[0],
    )
    assert Account.objects.filter(name="苏州精工模具有限公司").count() == 1


def test_it_refuses_a_likely_duplicate_account_and_stores_nothing(
    cast: Cast, published: Any, huadong: Any, client_as: Callable[[Any], Client]
) -> None:
    from lodestar.crm.models import Account, Contact, Opportunity

    response = client_as(cast.owner).post(
        "/deals/new/", _quick(account_name="华东机械", contact_name="王工")
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Possible duplicate" in html
    assert f"/deals/new/?account={huadong.pk}" in html
    assert Account.objects.count() == 1
    assert not Opportunity.objects.exists()
    assert not Contact.objects.exists()


def test_it_lists_the_accounts_the_rep_may_see(
    cast: Cast, huadong: Any, client_as: Callable[[Any], Client]
) -> None:
    from tests.factories import AccountFactory

    AccountFactory(organization=cast.org, name="华南机电有限公司", owner=cast.other_team_rep)
    html = client_as(cast.owner).get("/accounts/").content.decode()
    assert "华东机械有限公司" in html
    assert "华南机电有限公司" not in html


def test_it_shows_the_account_with_tap_to_call_contacts(
    cast: Cast, huadong: Any, client_as: Callable[[Any], Client]
) -> None:
    from tests.factories import ContactFactory

    ContactFactory(account=huadong, organization=cast.org, name="王总", phone="138-0013-8000")
    response = client_as(cast.owner).get(f"/accounts/{huadong.pk}/")
    assert response.status_code == 200
    assert 'href="tel:13800138000"' in response.content.decode()


def test_it_finds_by_pinyin_initials_in_search(
    cast: Cast, huadong: Any, client_as: Callable[[Any], Client]
) -> None:
    html = client_as(cast.owner).get("/search/", {"q": "hdjx"}).content.decode()
    assert f'href="/accounts/{huadong.pk}/"' in html
