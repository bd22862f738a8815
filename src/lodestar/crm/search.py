"""Global search over deals, accounts and contacts, and duplicate checks of account names.

Both read through the scopes of `lodestar.crm.selectors`: a search finds only what the user
may read. A duplicate check looks at every account of the organization — a rep must learn
that the customer they are about to add is already someone's — but names only the ones
outside the user's scope, without their id or owner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Generic, TypeVar

from django.db.models import Case, Q, QuerySet, Value, When

from lodestar.crm.models import Account, Contact, Opportunity, OpportunityStatus
from lodestar.crm.search_keys import (
    Resemblance,
    bigrams,
    has_chinese,
    looks_like,
    name_forms,
    query_key,
)
from lodestar.crm.selectors import account_scope, opportunity_scope
from lodestar.org.models import User
from lodestar.org.selectors import actor_of

__all__ = [
    "DUPLICATES_SHOWN",
    "SEARCH_LIMIT",
    "DuplicateAccount",
    "Found",
    "SearchResults",
    "account_duplicates",
    "account_search",
    "record_search",
]

# Results of each kind on one page of results (the API may ask for up to MAX_SEARCH_LIMIT).
SEARCH_LIMIT = 20
MAX_SEARCH_LIMIT = 50
DUPLICATES_SHOWN = 5
# Candidate accounts a duplicate check compares in Python after the first filter in SQL.
_DUPLICATE_CANDIDATES = 200


T = TypeVar("T")
M = TypeVar("M", Opportunity, Account, Contact)


@dataclass(frozen=True)
class Found(Generic[T]):
    count: int
    items: list[T] = field(default_factory=list)


@dataclass(frozen=True)
class SearchResults:
    query: str
    deals: Found[Opportunity]
    accounts: Found[Account]
    contacts: Found[Contact]

    @property
    def total(self) -> int:
        return self.deals.count + self.accounts.count + self.contacts.count


def _found(queryset: QuerySet[M], limit: int) -> Found[M]:
    items = list(queryset[:limit])
    count = len(items) if len(items) < limit else queryset.count()
    return Found(count=count, items=items)


def record_search(*, user: User, q: str, limit: int = SEARCH_LIMIT) -> SearchResults:
    """Deals, accounts and contacts the user may read whose names match `q`: as Chinese text,
    pinyin initials (hdjx) or full pinyin (huadong jixie); contacts also by the digits of their
    phone number.

    A deal is found by its own name or its account's. Three queries and three counts at most.
    """
    key = query_key(q)
    limit = max(1, min(limit, MAX_SEARCH_LIMIT))
    actor = actor_of(user=user)
    if not key or actor is None:
        return SearchResults(
            query=q, deals=Found(count=0), accounts=Found(count=0), contacts=Found(count=0)
        )
    deals = (
        opportunity_scope(actor=actor)
        .filter(Q(search_key__contains=key) | Q(account__search_key__contains=key))
        .select_related("account", "owner")
        .annotate(_closed=Case(When(status=OpportunityStatus.OPEN, then=Value(0)), default=1))
        .order_by("_closed", "-created_at", "-id")
    )
    accounts = (
        account_scope(actor=actor)
        .filter(search_key__contains=key)
        .select_related("owner")
        .order_by("name", "id")
    )
    contacts = (
        Contact.objects.filter(account__in=account_scope(actor=actor))
        .filter(search_key__contains=key)
        .select_related("account", "decision_role")
        .order_by("name", "id")
    )
    return SearchResults(
        query=q,
        deals=_found(deals, limit),
        accounts=_found(accounts, limit),
        contacts=_found(contacts, limit),
    )


def account_search(*, user: User, q: str) -> QuerySet[Account]:
    """The accounts the user may read, by name (as `record_search` matches it) or external
    reference; all of them, by name, for an empty `q`."""
    found = account_scope(actor=actor_of(user=user)).select_related("owner")
    key = query_key(q)
    if key:
        found = found.filter(Q(search_key__contains=key) | Q(external_ref__iexact=q.strip()))
    return found.order_by("name", "id")


# --- duplicate accounts ------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateAccount:
    """An existing account a new name may duplicate. `account` is None when the user may not
    read it (another rep's customer): only its name is told."""

    name: str
    reason: Resemblance
    account: Account | None

    @property
    def visible(self) -> bool:
        return self.account is not None


def _candidates(organization_id: int, typed: str) -> QuerySet[Account]:
    """A cheap first filter in SQL: accounts sharing two characters in a row with the core of
    the name, or whose key holds its pinyin (full, or the initials the user typed)."""
    forms = name_forms(typed)
    pinyin = forms.full if has_chinese(forms.core) else forms.core
    ors = [Q(search_key__contains=pinyin)]
    if has_chinese(forms.core):
        ors += [Q(name__contains=pair) for pair in bigrams(forms.core)[:12]]
    return Account.objects.filter(organization_id=organization_id).filter(reduce(or_, ors))


def account_duplicates(
    *, user: User, name: str, exclude_id: int | None = None, limit: int = DUPLICATES_SHOWN
) -> list[DuplicateAccount]:
    """Accounts of the user's organization that `name` may duplicate, the likeliest first:
    the same core name (有限公司 and the like taken off), one name inside the other, the same
    full pinyin (homophones), or pinyin initials typed for it ("hdjx" for 华东机械有限公司)."""
    actor = actor_of(user=user)
    typed = name_forms(name)
    if actor is None or len(typed.core) < 2:
        return []
    candidates = _candidates(actor.organization_id, name)
    if exclude_id is not None:
        candidates = candidates.exclude(pk=exclude_id)
    ranked: list[tuple[int, str, Account, Resemblance]] = []
    order = list(Resemblance)
    for account in candidates.order_by("name", "id")[:_DUPLICATE_CANDIDATES]:
        reason = looks_like(typed, name_forms(account.name))
        if reason is not None:
            ranked.append((order.index(reason), account.name, account, reason))
    ranked.sort(key=lambda row: (row[0], len(row[1]), row[1]))
    readable = set(
        account_scope(actor=actor)
        .filter(pk__in=[row[2].pk for row in ranked[:limit]])
        .values_list("pk", flat=True)
    )
    return [
        DuplicateAccount(
            name=account.name, reason=reason, account=account if account.pk in readable else None
        )
        for _rank, _name, account, reason in ranked[:limit]
    ]
