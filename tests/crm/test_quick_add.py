"""Quick add (a deal with its account and contact, all or nothing), duplicate checks, and the
search keys the rows keep."""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

import pytest

from lodestar.crm.quick_add import NewAccount, NewContact, QuickAdd, deal_quick_add
from lodestar.errors import PermissionDenied, ValidationFailed
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def huadong(cast: Cast) -> Any:
    from tests.factories import AccountFactory

    return AccountFactory(organization=cast.org, name="华东机械有限公司", owner=cast.owner)


def _counts() -> tuple[int, int, int]:
    from lodestar.crm.models import Account, Contact, Opportunity

    return Account.objects.count(), Contact.objects.count(), Opportunity.objects.count()


def _fields(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [d.field for d in exc.value.details]


def test_it_opens_the_deal_on_an_existing_account_in_the_first_stage(
    cast: Cast, published: Any, huadong: Any
) -> None:
    added = deal_quick_add(
        user=cast.owner,
        entry=QuickAdd(
            deal_name="二期产线改造",
            account_id=huadong.pk,
            contact=NewContact(name="王工", phone="13800138000"),
            amount=Decimal("50000"),
        ),
    )
    assert (added.account, added.account_created) == (huadong, False)
    assert added.deal.stage_key == "first_contact"
    assert added.contact is not None
    assert added.contact.account == huadong


def test_it_refuses_a_likely_duplicate_unless_told_it_is_another_customer(
    cast: Cast, published: Any, huadong: Any
) -> None:
    entry = QuickAdd(deal_name="新线体", new_account=NewAccount(name="hdjx"))
    with pytest.raises(ValidationFailed) as refused:
        deal_quick_add(user=cast.owner, entry=entry)
    assert _fields(refused) == ["account.name"]
    assert "华东机械有限公司" in str(refused.value.details[0].message)
    added = deal_quick_add(
        user=cast.owner,
        entry=QuickAdd(
            deal_name="新线体", new_account=NewAccount(name="华东机协"), allow_duplicate=True
        ),
    )
    assert added.account_created


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (
            QuickAdd(
                deal_name="x",
                new_account=NewAccount(name="苏州精工模具"),
                custom_fields={"signing_period": "someday"},
            ),
            "deal.custom_fields.signing_period",
        ),
        (
            QuickAdd(
                deal_name="x",
                new_account=NewAccount(name="苏州精工模具"),
                contact=NewContact(name="陈经理", decision_role_id=999_999),
            ),
            "contact.decision_role_id",
        ),
        (
            QuickAdd(deal_name="x", new_account=NewAccount(name="苏州精工模具"), stage_key="won"),
            "deal.stage_key",
        ),
        (
            QuickAdd(deal_name="  ", new_account=NewAccount(name="苏州精工模具")),
            "deal.name",
        ),
        (
            QuickAdd(
                deal_name="x", new_account=NewAccount(name="苏州精工模具"), amount=Decimal(-1)
            ),
            "deal.amount",
        ),
        (QuickAdd(deal_name="x"), "account.name"),
    ],
)
def test_it_names_the_field_of_a_problem_and_stores_nothing(
    cast: Cast, published: Any, entry: QuickAdd, field: str
) -> None:
    before = _counts()
    with pytest.raises(ValidationFailed) as refused:
        deal_quick_add(user=cast.owner, entry=entry)
    assert _fields(refused) == [field]
    assert _counts() == before


def test_it_does_not_open_a_deal_on_another_reps_account(cast: Cast, published: Any) -> None:
    from tests.factories import AccountFactory

    theirs = AccountFactory(organization=cast.org, owner=cast.other_team_rep)
    with pytest.raises(ValidationFailed) as refused:
        deal_quick_add(user=cast.owner, entry=QuickAdd(deal_name="x", account_id=theirs.pk))
    assert _fields(refused) == ["account.id"]


def test_it_lets_ops_read_but_not_add(cast: Cast, published: Any) -> None:
    entry = QuickAdd(deal_name="x", new_account=NewAccount(name="苏州精工模具"))
    with pytest.raises(PermissionDenied):
        deal_quick_add(user=cast.ops, entry=entry)
    assert _counts() == (0, 0, 0)


def test_it_names_a_colleagues_account_without_handing_it_over(cast: Cast, huadong: Any) -> None:
    from lodestar.crm.search import account_duplicates

    [own] = account_duplicates(user=cast.owner, name="华东机械")
    assert own.account == huadong
    [other] = account_duplicates(user=cast.other_team_rep, name="华东机械")
    assert (other.name, other.account) == ("华东机械有限公司", None)
    assert account_duplicates(user=cast.outsider, name="华东机械") == []


def test_it_keeps_the_search_key_on_save_rename_and_bulk_writes(cast: Cast) -> None:
    from lodestar.crm.models import Account
    from lodestar.crm.services import account_update
    from tests.factories import AccountFactory

    account = AccountFactory(organization=cast.org, name="华东机械", owner=cast.owner)
    assert "hdjx" in account.search_key
    account_update(user=cast.owner, account=account, data={"name": "苏州精工"})
    assert Account.objects.get(pk=account.pk).search_key == "苏州精工|szjg|suzhoujinggong"
    [bulk] = Account.objects.bulk_create([Account(organization=cast.org, name="长虹")])
    assert Account.objects.get(pk=bulk.pk).search_key == "长虹|ch|changhong"
    bulk.name = "重庆"
    Account.objects.bulk_update([bulk], ["name"])
    assert Account.objects.get(pk=bulk.pk).search_key == "重庆|cq|chongqing"


def test_it_fills_the_keys_of_rows_stored_before_they_existed(cast: Cast) -> None:
    from django.apps import apps

    from lodestar.crm.models import Account, Contact, Opportunity
    from tests.factories import ContactFactory, OpportunityFactory

    deal = OpportunityFactory(owner=cast.owner, name="二期改造")
    contact = ContactFactory(account=deal.account, name="王建国")
    for model in (Account, Contact, Opportunity):
        model.objects.update(search_key="")
    migration = importlib.import_module("lodestar.crm.migrations.0006_fill_search_keys")
    migration.fill(apps, None)
    assert Opportunity.objects.get(pk=deal.pk).search_key == "二期改造|eqgz|erqigaizao"
    assert Contact.objects.get(pk=contact.pk).search_key == "王建国|wjg|wangjianguo"
