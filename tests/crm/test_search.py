"""Global search over a demo-sized pipeline: a fixed number of queries, whatever matches."""

from __future__ import annotations

import time
from typing import Any

import pytest

from lodestar.crm.search import record_search
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

CITIES = "上海苏州无锡常州南京杭州宁波合肥"
BRANDS = "华东精工机械电气重工模具科技新材"


@pytest.fixture
def pipeline(cast: Cast) -> None:
    """600 deals on 200 accounts with 400 contacts, loaded in bulk as the demo loads them."""
    from django.utils import timezone

    from lodestar.crm.models import Account, Contact, Opportunity

    accounts = Account.objects.bulk_create(
        Account(
            organization=cast.org,
            name=f"{CITIES[2 * (n % 8) : 2 * (n % 8) + 2]}{BRANDS[n % 16]}{BRANDS[n // 16 % 16]}"
            f"{n}有限公司",
            owner=cast.owner,
        )
        for n in range(200)
    )
    Contact.objects.bulk_create(
        Contact(organization=cast.org, account=accounts[n % 200], name=f"王{BRANDS[n % 16]}{n}")
        for n in range(400)
    )
    now = timezone.now()
    Opportunity.objects.bulk_create(
        Opportunity(
            organization=cast.org,
            account=accounts[n % 200],
            owner=cast.owner,
            team=cast.team,
            name=f"产线改造{n}",
            stage_key="lead",
            stage_entered_at=now,
            created_at=now,
        )
        for n in range(600)
    )


@pytest.mark.parametrize("q", ["sh", "shanghai", "上海", "王", "cxgz", "zzz"])
def test_it_searches_in_a_fixed_number_of_queries(
    cast: Cast, pipeline: None, q: str, django_assert_max_num_queries: Any
) -> None:
    # The actor (membership and managed teams), then per kind one page and one count.
    with django_assert_max_num_queries(8):
        found = record_search(user=cast.owner, q=q)
    assert len(found.deals.items) <= found.deals.count


def test_it_finds_through_the_stored_keys_quickly(cast: Cast, pipeline: None) -> None:
    started = time.perf_counter()
    found = record_search(user=cast.owner, q="shanghai")
    elapsed = time.perf_counter() - started
    # 25 of the 200 accounts are in 上海, with three deals each.
    assert (found.accounts.count, found.deals.count) == (25, 75)
    assert elapsed < 1.0, f"a search took {elapsed:.3f} s"


def test_it_finds_a_contact_by_the_digits_of_their_phone_however_written(cast: Cast) -> None:
    from lodestar.crm.services import contact_update
    from tests.factories import AccountFactory, ContactFactory

    account = AccountFactory(organization=cast.org, owner=cast.owner)
    wang = ContactFactory(account=account, name="王总", phone="138-0013-8000")
    assert record_search(user=cast.owner, q="13800138000").contacts.items == [wang]
    assert record_search(user=cast.owner, q="0013 8000").contacts.items == [wang]
    contact_update(user=cast.owner, contact=wang, data={"phone": "+86 139 1234 5678"})
    assert record_search(user=cast.owner, q="13800138000").contacts.count == 0
    assert record_search(user=cast.owner, q="8613912345678").contacts.items == [wang]
