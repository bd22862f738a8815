"""Quick add: a deal with its account and contact, found or created, in one transaction.

The rep on the phone types the customer's name, picks it or creates it, names the person they
met and the deal: `deal_quick_add` writes the three through their own services
(`account_create`, `contact_create`, `opportunity_create`), so every rule of those holds, and
either all of it is stored or nothing. A problem names its field with the part it belongs to
(`account.name`, `contact.phone`, `deal.amount`, `deal.custom_fields.signer_role`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from lodestar.crm.models import Account, AccountTier, Contact, Opportunity
from lodestar.crm.search import account_duplicates
from lodestar.crm.selectors import account_scope
from lodestar.crm.services import account_create, contact_create, opportunity_create
from lodestar.errors import FieldError, ValidationFailed
from lodestar.org.models import User
from lodestar.org.selectors import actor_of

__all__ = ["NewAccount", "NewContact", "QuickAdd", "QuickAdded", "deal_quick_add"]


@dataclass(frozen=True)
class NewAccount:
    name: str
    industry: str = ""
    region: str = ""
    tier: str = AccountTier.STANDARD


@dataclass(frozen=True)
class NewContact:
    name: str
    title: str = ""
    phone: str = ""
    decision_role_id: int | None = None


@dataclass(frozen=True)
class QuickAdd:
    """What the rep entered. Exactly one of `account_id` and `new_account` names the account;
    `contact` is optional. A new account whose name may duplicate an existing one is refused
    unless `allow_duplicate` says the rep saw the warning and means a different customer."""

    deal_name: str
    account_id: int | None = None
    new_account: NewAccount | None = None
    contact: NewContact | None = None
    amount: Decimal = Decimal("0")
    expected_close_date: dt.date | None = None
    stage_key: str | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)
    allow_duplicate: bool = False


@dataclass(frozen=True)
class QuickAdded:
    deal: Opportunity
    account: Account
    contact: Contact | None
    account_created: bool


@contextmanager
def _part(prefix: str) -> Iterator[None]:
    """Name the fields of one part's problems after the part (`name` → `account.name`)."""
    try:
        yield
    except ValidationFailed as exc:
        raise ValidationFailed(
            exc.message,
            details=[FieldError(f"{prefix}.{d.field}", d.message) for d in exc.details],
        ) from exc


def _check_not_duplicate(user: User, name: str) -> None:
    duplicates = account_duplicates(user=user, name=name)
    if duplicates:
        raise ValidationFailed.on(
            "account.name",
            _(
                "Possible duplicate: %(names)s. Use the existing account, or confirm that this "
                "is a different customer."
            )
            % {"names": "、".join(d.name for d in duplicates)},
        )


def _account_of(user: User, entry: QuickAdd) -> tuple[Account, bool]:
    if entry.new_account is not None:
        if not entry.allow_duplicate:
            _check_not_duplicate(user, entry.new_account.name)
        with _part("account"):
            new = entry.new_account
            account = account_create(
                user=user,
                name=new.name,
                industry=new.industry,
                region=new.region,
                tier=new.tier,
            )
        return account, True
    if entry.account_id is None:
        raise ValidationFailed.on(
            "account.name", _("Choose an existing account or type the name of a new one.")
        )
    chosen = account_scope(actor=actor_of(user=user)).filter(pk=entry.account_id).first()
    if chosen is None:
        raise ValidationFailed.on("account.id", _("Unknown account."))
    return chosen, False


@transaction.atomic
def deal_quick_add(*, user: User, entry: QuickAdd, now: dt.datetime | None = None) -> QuickAdded:
    """Create the deal, and its account and contact when they are new; all or nothing."""
    account, created = _account_of(user, entry)
    contact = None
    if entry.contact is not None:
        with _part("contact"):
            contact = contact_create(
                user=user,
                account_id=account.pk,
                name=entry.contact.name,
                title=entry.contact.title,
                phone=entry.contact.phone,
                decision_role_id=entry.contact.decision_role_id,
            )
    with _part("deal"):
        deal = opportunity_create(
            user=user,
            name=entry.deal_name,
            account_id=account.pk,
            stage_key=entry.stage_key,
            amount=entry.amount,
            expected_close_date=entry.expected_close_date,
            custom_fields=entry.custom_fields,
            now=now,
        )
    return QuickAdded(deal=deal, account=account, contact=contact, account_created=created)
