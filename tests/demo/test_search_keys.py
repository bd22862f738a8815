"""The demo's accounts, contacts and deals, loaded in bulk, are found by pinyin like any other."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path
from typing import Any

import pytest

from lodestar.crm.models import Account, Contact, Opportunity
from lodestar.crm.search import record_search
from lodestar.crm.search_keys import contact_search_key, initials, search_key
from lodestar.demo import generate
from lodestar.org.models import Membership, Role

NOW = dt.datetime(2026, 3, 16, 18, 30, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_the_demo_rows_carry_their_search_keys_and_are_found_by_initials() -> None:
    generate(slug="keys", reps=3, deals=40, months=2, seed=3, now=NOW, events_per_deal=5)
    for account in Account.objects.all():
        assert account.search_key == search_key(account.name)
    for contact in Contact.objects.all():
        assert contact.search_key == contact_search_key(contact.name, contact.phone)
    for deal in Opportunity.objects.all():
        assert deal.search_key == search_key(deal.name)
    admin = Membership.objects.filter(role=Role.ADMIN).first()
    assert admin is not None
    account = Account.objects.order_by("id").first()
    assert account is not None
    found = record_search(user=admin.user, q=initials(account.name))
    assert account in found.accounts.items
