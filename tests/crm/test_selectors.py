from __future__ import annotations

import datetime as dt

import pytest

from lodestar.crm.models import OpportunityStatus
from lodestar.crm.selectors import (
    AccountFilters,
    ContactFilters,
    OpportunityFilters,
    access_account,
    access_contact,
    access_opportunity,
    access_product,
    account_list,
    contact_list,
    opportunity_list,
    product_list,
)
from lodestar.errors import NotFound, PermissionDenied
from lodestar.org.models import User
from tests.conftest import Cast
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, ProductFactory

# Who sees the owner's deal: the owner, their manager, ops and admin; not a teammate, a rep of
# another team, or someone from another organization.
SEES_OWNERS_DEAL = {
    "owner": True,
    "teammate": False,
    "manager": True,
    "other_team_rep": False,
    "ops": True,
    "admin": True,
    "outsider": False,
}


def actor(cast: Cast, name: str) -> User:
    return getattr(cast, name)


@pytest.mark.parametrize(("who", "sees"), SEES_OWNERS_DEAL.items())
def test_it_scopes_the_deal_list_by_role(cast: Cast, who: str, sees: bool) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    assert (deal in opportunity_list(user=actor(cast, who))) is sees


@pytest.mark.parametrize(("who", "sees"), SEES_OWNERS_DEAL.items())
def test_it_hides_deals_outside_the_scope_as_not_found(cast: Cast, who: str, sees: bool) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    if sees:
        assert access_opportunity(user=actor(cast, who), opportunity_id=deal.pk) == deal
    else:
        with pytest.raises(NotFound):
            access_opportunity(user=actor(cast, who), opportunity_id=deal.pk)


def test_it_lets_a_manager_see_their_own_deals(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.manager)
    assert list(opportunity_list(user=cast.manager)) == [deal]


def test_it_refuses_ops_writing_a_deal_they_can_read(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    with pytest.raises(PermissionDenied):
        access_opportunity(user=cast.ops, opportunity_id=deal.pk, for_write=True)


def test_it_shows_nothing_to_a_user_without_membership(cast: Cast) -> None:
    OpportunityFactory(owner=cast.owner)
    root = User.objects.create_superuser(username="root", password="pw-for-tests")
    assert not opportunity_list(user=root).exists()
    assert not account_list(user=root).exists()
    assert not product_list(user=root).exists()


def test_it_filters_deals_by_status_stage_owner_and_text(cast: Cast) -> None:
    won = OpportunityFactory(owner=cast.owner, status=OpportunityStatus.WON, name="PLC 改造")
    OpportunityFactory(owner=cast.teammate, stage_key="demo", name="MES 项目")
    filters = OpportunityFilters(status="won", q="plc")
    assert list(opportunity_list(user=cast.admin, filters=filters)) == [won]
    assert opportunity_list(user=cast.admin, filters=OpportunityFilters(stage_key="demo")).count()
    by_owner = OpportunityFilters(owner_id=cast.teammate.pk)
    assert [d.owner for d in opportunity_list(user=cast.admin, filters=by_owner)] == [cast.teammate]


def test_it_filters_deals_by_expected_close_range(cast: Cast) -> None:
    soon = OpportunityFactory(owner=cast.owner, expected_close_date=dt.date(2030, 1, 10))
    OpportunityFactory(owner=cast.owner, expected_close_date=dt.date(2030, 3, 10))
    filters = OpportunityFilters(
        expected_close_from=dt.date(2030, 1, 1), expected_close_to=dt.date(2030, 1, 31)
    )
    assert list(opportunity_list(user=cast.owner, filters=filters)) == [soon]


def test_it_filters_deals_by_account_name_text(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org, name="苏州精密机械")
    deal = OpportunityFactory(owner=cast.owner, account=account)
    OpportunityFactory(owner=cast.owner)
    assert list(opportunity_list(user=cast.owner, filters=OpportunityFilters(q="精密"))) == [deal]


@pytest.mark.parametrize(
    ("who", "sees"),
    {
        "owner": True,  # holds a deal on it
        "teammate": False,
        "manager": True,
        "other_team_rep": False,
        "ops": True,
        "admin": True,
        "outsider": False,
    }.items(),
)
def test_it_scopes_accounts_through_their_deals(cast: Cast, who: str, sees: bool) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    assert (deal.account in account_list(user=actor(cast, who))) is sees


def test_it_shows_a_rep_the_accounts_they_own(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org, owner=cast.teammate)
    assert list(account_list(user=cast.teammate)) == [account]
    assert not account_list(user=cast.owner).exists()


def test_it_shows_a_manager_the_accounts_their_team_members_own(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org, owner=cast.teammate)
    AccountFactory(organization=cast.org, owner=cast.other_team_rep)
    assert list(account_list(user=cast.manager)) == [account]


def test_it_filters_accounts_by_tier_industry_and_text(cast: Cast) -> None:
    key = AccountFactory(organization=cast.org, tier="key", industry="汽车", name="一汽配套")
    AccountFactory(organization=cast.org, tier="standard", industry="汽车")
    filters = AccountFilters(tier="key", industry="汽车", q="一汽")
    assert list(account_list(user=cast.admin, filters=filters)) == [key]


def test_it_refuses_a_rep_writing_an_account_they_only_hold_a_deal_on(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    assert access_account(user=cast.owner, account_id=deal.account_id) == deal.account
    with pytest.raises(PermissionDenied):
        access_account(user=cast.owner, account_id=deal.account_id, for_write=True)


def test_it_lets_a_rep_write_an_account_they_own(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org, owner=cast.owner)
    assert access_account(user=cast.owner, account_id=account.pk, for_write=True) == account


def test_it_hides_another_organizations_account_from_its_admin_peer(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org, owner=cast.owner)
    with pytest.raises(NotFound):
        access_account(user=cast.outsider, account_id=account.pk)


def test_it_scopes_contacts_by_their_account(cast: Cast) -> None:
    contact = ContactFactory(account=AccountFactory(organization=cast.org, owner=cast.owner))
    assert list(contact_list(user=cast.owner)) == [contact]
    assert not contact_list(user=cast.teammate).exists()
    with pytest.raises(NotFound):
        access_contact(user=cast.teammate, contact_id=contact.pk)


def test_it_filters_contacts_by_account_and_text(cast: Cast) -> None:
    account = AccountFactory(organization=cast.org)
    wang = ContactFactory(account=account, name="王总")
    ContactFactory(account=account, name="李工")
    ContactFactory(account=AccountFactory(organization=cast.org), name="王经理")
    filters = ContactFilters(account_id=account.pk, q="王")
    assert list(contact_list(user=cast.admin, filters=filters)) == [wang]


def test_it_refuses_ops_writing_contacts(cast: Cast) -> None:
    contact = ContactFactory(account=AccountFactory(organization=cast.org))
    with pytest.raises(PermissionDenied):
        access_contact(user=cast.ops, contact_id=contact.pk, for_write=True)


@pytest.mark.parametrize("who", ["owner", "manager", "ops", "admin"])
def test_it_shows_products_to_everyone_in_the_organization(cast: Cast, who: str) -> None:
    product = ProductFactory(organization=cast.org)
    assert list(product_list(user=actor(cast, who))) == [product]


def test_it_hides_products_of_another_organization(cast: Cast) -> None:
    product = ProductFactory(organization=cast.org)
    with pytest.raises(NotFound):
        access_product(user=cast.outsider, product_id=product.pk)


@pytest.mark.parametrize(("who", "writes"), [("owner", False), ("manager", False), ("ops", True)])
def test_it_lets_only_ops_and_admin_write_products(cast: Cast, who: str, writes: bool) -> None:
    product = ProductFactory(organization=cast.org)
    if writes:
        assert access_product(user=actor(cast, who), product_id=product.pk, for_write=True)
    else:
        with pytest.raises(PermissionDenied):
            access_product(user=actor(cast, who), product_id=product.pk, for_write=True)
