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
    # The header's search box keeps the query.
    assert 'id="header-q" name="q" maxlength="100" value="hdjx"' in html


# --- quick add: who, and what is refused -------------------------------------------------------


def test_it_sends_visitors_to_sign_in_and_refuses_ops(
    cast: Cast, client_as: Callable[[Any], Client]
) -> None:
    assert Client().get("/deals/new/").status_code == 302
    assert client_as(cast.ops).get("/deals/new/").status_code == 403
    assert client_as(cast.ops).post("/deals/new/", _quick(account_name="x")).status_code == 403
    assert client_as(cast.ops).get("/deals/new/accounts/", {"account_name": "x"}).status_code == 403


def test_it_works_on_a_chosen_account_and_lists_its_contacts(
    cast: Cast, published: Any, huadong: Any, client_as: Callable[[Any], Client]
) -> None:
    from lodestar.crm.models import Opportunity
    from tests.factories import ContactFactory

    wang = ContactFactory(account=huadong, organization=cast.org, name="王总", title="厂长")
    client = client_as(cast.owner)
    html = client.get("/deals/new/", {"account": huadong.pk}).content.decode()
    assert f'name="account_id" value="{huadong.pk}"' in html
    assert "王总 · 厂长" in html
    response = client.post(
        "/deals/new/", _quick(account_id=str(huadong.pk), contact_choice=str(wang.pk))
    )
    assert response.status_code == 302
    assert Opportunity.objects.get().account == huadong
    assert huadong.contacts.count() == 1


def test_it_ignores_an_account_the_rep_may_not_see(
    cast: Cast, published: Any, client_as: Callable[[Any], Client]
) -> None:
    from lodestar.crm.models import Opportunity
    from tests.factories import AccountFactory

    theirs = AccountFactory(organization=cast.org, name="华南机电", owner=cast.other_team_rep)
    client = client_as(cast.owner)
    assert "华南机电" not in client.get("/deals/new/", {"account": theirs.pk}).content.decode()
    response = client.post("/deals/new/", _quick(account_id=str(theirs.pk)))
    assert response.status_code == 422
    assert not Opportunity.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field_error"),
    [
        ({"account_name": "苏州精工", "name": ""}, "id_name_error"),
        ({"account_name": "苏州精工", "amount": "lots"}, "id_amount_error"),
        ({"account_name": "苏州精工", "amount": "-5"}, "id_amount_error"),
        (
            {"account_name": "苏州精工", "expected_close_date": "31/03"},
            "id_expected_close_date_error",
        ),
        ({"account_name": "苏州精工", "stage": "won"}, "id_stage_error"),
        ({"account_name": ""}, "id_account_name_error"),
        ({"account_name": "苏州精工", "contact_phone": "138"}, "id_contact_name_error"),
    ],
)
def test_it_puts_each_problem_under_its_field_and_stores_nothing(
    cast: Cast,
    published: Any,
    client_as: Callable[[Any], Client],
    fields: dict[str, str],
    field_error: str,
) -> None:
    from lodestar.crm.models import Account, Opportunity

    response = client_as(cast.owner).post("/deals/new/", _quick(**fields))
    assert response.status_code == 422
    assert f'id="{field_error}"' in response.content.decode()
    assert not Account.objects.exists()
    assert not Opportunity.objects.exists()


def test_it_creates_a_duplicate_account_once_the_rep_confirms_it(
    cast: Cast, published: Any, huadong: Any, client_as: Callable[[Any], Client]
) -> None:
    from lodestar.crm.models import Account

    response = client_as(cast.owner).post(
        "/deals/new/", _quick(account_name="华东机械(苏州)", allow_duplicate="on")
    )
    assert response.status_code == 302
    assert Account.objects.count() == 2


@pytest.fixture
def first_stage_fields(cast: Cast) -> Any:
    """The seed playbook asking for the signing period before the first stage ends."""
    from lodestar.playbooks.services import playbook_publish_source
    from tests.conftest import seed_playbook_source

    source = seed_playbook_source().replace(
        "required_to_exit: [quote]", "required_to_exit: [first_contact, quote]"
    )
    return playbook_publish_source(user=cast.ops, source=source, source_name="seed.yaml")


def test_it_asks_for_the_first_stages_custom_fields_and_checks_them(
    cast: Cast, first_stage_fields: Any, client_as: Callable[[Any], Client]
) -> None:
    from lodestar.crm.models import Opportunity

    client = client_as(cast.owner)
    html = client.get("/deals/new/").content.decode()
    assert 'name="cf_signing_period"' in html
    assert "Within 1 month" in html
    refused = client.post("/deals/new/", _quick(account_name="苏州精工", cf_signing_period="x"))
    assert refused.status_code == 422
    assert 'id="id_cf_signing_period_error"' in refused.content.decode()
    added = client.post(
        "/deals/new/", _quick(account_name="苏州精工", cf_signing_period="within_1m")
    )
    assert added.status_code == 302
    assert Opportunity.objects.get().custom_fields == {"signing_period": "within_1m"}


def test_it_suggests_accounts_and_warns_of_duplicates_as_the_rep_types(
    cast: Cast, huadong: Any, client_as: Callable[[Any], Client]
) -> None:
    from tests.factories import AccountFactory

    AccountFactory(organization=cast.org, name="华东电气", owner=cast.owner)
    client = client_as(cast.owner)
    html = client.get("/deals/new/accounts/", {"account_name": "hdjx"}).content.decode()
    assert "Possible duplicate:" in html
    assert f"/deals/new/?account={huadong.pk}" in html
    matches = client.get("/deals/new/accounts/", {"account_name": "hd"}).content.decode()
    assert "Possible duplicate:" not in matches
    assert "华东电气" in matches
    assert "华东机械有限公司" in matches
    fresh = client.get("/deals/new/accounts/", {"account_name": "苏州精工"}).content.decode()
    assert "it will be created with the deal" in fresh


# --- accounts ----------------------------------------------------------------------------------


def test_it_searches_and_pages_the_accounts(cast: Cast, client_as: Callable[[Any], Client]) -> None:
    from tests.factories import AccountFactory

    for n in range(30):
        AccountFactory(organization=cast.org, name=f"华东{n:02d}号厂", owner=cast.owner)
    AccountFactory(organization=cast.org, name="苏州精工", owner=cast.owner)
    client = client_as(cast.owner)
    first = client.get("/accounts/", {"q": "hd"}).content.decode()
    assert "30 accounts" in first
    assert "华东00号厂" in first
    assert "苏州精工" not in first
    second = client.get("/accounts/", {"q": "hd", "page": "2"}).content.decode()
    assert "华东29号厂" in second
    assert "华东00号厂" not in second
    assert "Page 2 of 2" in second


def test_it_lets_ops_read_every_account_but_add_none(
    cast: Cast, huadong: Any, client_as: Callable[[Any], Client]
) -> None:
    client = client_as(cast.ops)
    html = client.get("/accounts/").content.decode()
    assert "华东机械有限公司" in html
    assert "/accounts/new/" not in html
    detail = client.get(f"/accounts/{huadong.pk}/").content.decode()
    assert f"/accounts/{huadong.pk}/edit/" not in detail
    assert client.get(f"/accounts/{huadong.pk}/edit/").status_code == 403
    assert client.get("/accounts/new/").status_code == 403
    assert client.get(f"/accounts/{huadong.pk}/contacts/new/").status_code == 403


def test_it_hides_an_account_outside_the_scope(
    cast: Cast, huadong: Any, client_as: Callable[[Any], Client]
) -> None:
    assert client_as(cast.teammate).get(f"/accounts/{huadong.pk}/").status_code == 404
    assert client_as(cast.outsider).get(f"/accounts/{huadong.pk}/").status_code == 404
    assert client_as(cast.manager).get(f"/accounts/{huadong.pk}/").status_code == 200


def test_it_shows_the_accounts_deals_the_user_may_read(
    cast: Cast, huadong: Any, client_as: Callable[[Any], Client]
) -> None:
    from tests.factories import OpportunityFactory

    OpportunityFactory(owner=cast.owner, account=huadong, name="二期产线改造")
    html = client_as(cast.owner).get(f"/accounts/{huadong.pk}/").content.decode()
    assert "二期产线改造" in html
    assert f"/deals/new/?account={huadong.pk}" in html


def test_it_creates_an_account_after_the_duplicate_warning(
    cast: Cast, huadong: Any, client_as: Callable[[Any], Client]
) -> None:
    from lodestar.crm.models import Account

    client = client_as(cast.owner)
    data = {"name": "华东机械", "tier": "standard", "industry": "", "region": "上海"}
    warned = client.post("/accounts/new/", data)
    assert warned.status_code == 422
    assert f"/accounts/{huadong.pk}/" in warned.content.decode()
    created = client.post("/accounts/new/", {**data, "allow_duplicate": "on"})
    account = Account.objects.exclude(pk=huadong.pk).get()
    assert created["Location"] == f"/accounts/{account.pk}/"
    assert (account.owner, account.region) == (cast.owner, "上海")


def test_it_refuses_an_unknown_tier_by_its_field(
    cast: Cast, client_as: Callable[[Any], Client]
) -> None:
    response = client_as(cast.owner).post("/accounts/new/", {"name": "苏州精工", "tier": "gold"})
    assert response.status_code == 422
    assert 'id="id_tier_error"' in response.content.decode()


def test_it_edits_an_account_and_keeps_its_own_name_from_looking_like_a_duplicate(
    cast: Cast, huadong: Any, client_as: Callable[[Any], Client]
) -> None:
    client = client_as(cast.owner)
    form = client.get(f"/accounts/{huadong.pk}/edit/").content.decode()
    assert 'value="华东机械有限公司"' in form
    data = {"name": "华东机械有限公司", "tier": "key", "region": "苏州", "industry": "机械"}
    response = client.post(f"/accounts/{huadong.pk}/edit/", data)
    assert response.status_code == 302
    huadong.refresh_from_db()
    assert (huadong.tier, huadong.region) == ("key", "苏州")


def test_it_lets_only_those_who_may_write_edit_an_account(
    cast: Cast, huadong: Any, client_as: Callable[[Any], Client]
) -> None:
    from tests.factories import OpportunityFactory

    # A teammate holding a deal on the account reads it but does not own it.
    OpportunityFactory(owner=cast.teammate, account=huadong)
    assert client_as(cast.teammate).get(f"/accounts/{huadong.pk}/").status_code == 200
    assert client_as(cast.teammate).get(f"/accounts/{huadong.pk}/edit/").status_code == 403
    assert client_as(cast.manager).get(f"/accounts/{huadong.pk}/edit/").status_code == 200


# --- contacts ----------------------------------------------------------------------------------


def test_it_adds_a_contact_to_an_account(
    cast: Cast, huadong: Any, roles: list[Any], client_as: Callable[[Any], Client]
) -> None:
    client = client_as(cast.owner)
    assert client.get(f"/accounts/{huadong.pk}/contacts/new/").status_code == 200
    response = client.post(
        f"/accounts/{huadong.pk}/contacts/new/",
        {"name": "陈经理", "phone": "021-5555 1234 转 808", "decision_role": str(roles[1].pk)},
    )
    assert response["Location"] == f"/accounts/{huadong.pk}/"
    contact = huadong.contacts.get()
    assert contact.decision_role == roles[1]
    html = client.get(f"/accounts/{huadong.pk}/").content.decode()
    assert 'href="tel:02155551234;ext=808"' in html


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"name": ""}, "id_name_error"),
        ({"name": "陈经理", "email": "not-an-address"}, "id_email_error"),
        ({"name": "陈经理", "decision_role": "999999"}, "id_decision_role_error"),
        ({"name": "陈经理", "phone": "1" * 40}, "id_phone_error"),
    ],
)
def test_it_refuses_a_bad_contact_by_its_field(
    cast: Cast,
    huadong: Any,
    client_as: Callable[[Any], Client],
    data: dict[str, str],
    field_error: str,
) -> None:
    response = client_as(cast.owner).post(f"/accounts/{huadong.pk}/contacts/new/", data)
    assert response.status_code == 422
    assert f'id="{field_error}"' in response.content.decode()
    assert not huadong.contacts.exists()


def test_it_edits_a_contact_and_hides_others(
    cast: Cast, huadong: Any, client_as: Callable[[Any], Client]
) -> None:
    from tests.factories import ContactFactory

    wang = ContactFactory(account=huadong, organization=cast.org, name="王总", phone="1")
    client = client_as(cast.owner)
    assert 'value="王总"' in client.get(f"/contacts/{wang.pk}/edit/").content.decode()
    response = client.post(f"/contacts/{wang.pk}/edit/", {"name": "王建国", "phone": "13800138000"})
    assert response["Location"] == f"/accounts/{huadong.pk}/"
    wang.refresh_from_db()
    assert (wang.name, wang.phone) == ("王建国", "13800138000")
    assert "wjg" in wang.search_key
    assert client_as(cast.teammate).get(f"/contacts/{wang.pk}/edit/").status_code == 404
    assert client_as(cast.ops).get(f"/contacts/{wang.pk}/edit/").status_code == 403


def test_it_shows_phone_numbers_as_tap_to_call_links_on_the_deal_page(
    cast: Cast, published: Any, client_as: Callable[[Any], Client]
) -> None:
    from tests.factories import ContactFactory, OpportunityFactory

    deal = OpportunityFactory(owner=cast.owner, stage_key="first_contact")
    ContactFactory(account=deal.account, name="王总", phone="+86 138 0013 8000")
    html = client_as(cast.owner).get(f"/deals/{deal.pk}/").content.decode()
    assert 'href="tel:+8613800138000"' in html
    assert f"/accounts/{deal.account_id}/contacts/new/" in html


# --- search ------------------------------------------------------------------------------------


def test_it_searches_deals_accounts_and_contacts_within_the_scope(
    cast: Cast, huadong: Any, client_as: Callable[[Any], Client]
) -> None:
    from tests.factories import AccountFactory, ContactFactory, OpportunityFactory

    OpportunityFactory(owner=cast.owner, account=huadong, name="二期产线改造")
    ContactFactory(account=huadong, organization=cast.org, name="黄大军", phone="13912345678")
    theirs = AccountFactory(organization=cast.org, name="华东电机", owner=cast.other_team_rep)
    html = client_as(cast.owner).get("/search/", {"q": "hd"}).content.decode()
    assert "二期产线改造" in html
    assert "黄大军" in html
    assert 'href="tel:13912345678"' in html
    assert "华东电机" not in html
    admin = client_as(cast.admin).get("/search/", {"q": "hd"}).content.decode()
    assert f'href="/accounts/{theirs.pk}/"' in admin


def test_it_asks_for_a_query_and_refuses_an_overlong_one(
    cast: Cast, client_as: Callable[[Any], Client]
) -> None:
    client = client_as(cast.owner)
    empty = client.get("/search/")
    assert empty.status_code == 200
    assert "Type a name, pinyin initials or a phone number." in empty.content.decode()
    assert client.get("/search/", {"q": "x" * 101}).status_code == 422
    assert "0 results" in client.get("/search/", {"q": "zzzz"}).content.decode()


def test_it_shows_the_search_box_and_the_new_deal_link_in_the_header(
    cast: Cast, client_as: Callable[[Any], Client]
) -> None:
    rep = client_as(cast.owner).get("/accounts/").content.decode()
    assert 'id="header-q"' in rep
    assert 'class="new-deal" href="/deals/new/"' in rep
    ops = client_as(cast.ops).get("/accounts/").content.decode()
    assert 'id="header-q"' in ops
    assert 'class="new-deal"' not in ops
