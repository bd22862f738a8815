"""Global search and the duplicate check of account names, over REST.

Mounted before the CRM router: `/accounts/duplicates` must be matched before
`/accounts/{account_id}`.
"""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Field, Query, Router, Schema

from lodestar.crm.schemas import AccountOut, ContactOut, OpportunityOut
from lodestar.crm.search import (
    MAX_SEARCH_LIMIT,
    SEARCH_LIMIT,
    Found,
    account_duplicates,
    record_search,
)
from lodestar.crm.search_keys import Resemblance
from lodestar.fields import Id, Text
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.rest.errors import ERROR_RESPONSES
from lodestar.rest.schemas import StrictQuery

router = Router()

SearchText = Annotated[Text, Field(min_length=1, max_length=100)]


class SearchQuery(StrictQuery):
    q: SearchText = Field(
        description="Chinese text, pinyin initials (hdjx) or full pinyin (huadong jixie); "
        "contacts are also found by the digits of their phone number."
    )
    limit: int = Field(
        SEARCH_LIMIT, ge=1, le=MAX_SEARCH_LIMIT, description="Results of each kind at most."
    )


class FoundDeals(Schema):
    count: int = Field(description="How many deals match in all.")
    items: list[OpportunityOut]


class FoundAccounts(Schema):
    count: int = Field(description="How many accounts match in all.")
    items: list[AccountOut]


class FoundContacts(Schema):
    count: int = Field(description="How many contacts match in all.")
    items: list[ContactOut]


class SearchOut(Schema):
    q: str
    deals: FoundDeals
    accounts: FoundAccounts
    contacts: FoundContacts


def _found(found: Found[Any]) -> dict[str, Any]:
    return {"count": found.count, "items": found.items}


@router.get("/search", response={200: SearchOut, **ERROR_RESPONSES}, tags=["search"])
def search(request: AuthenticatedHttpRequest, filters: Query[SearchQuery]) -> dict[str, Any]:
    """Deals, accounts and contacts you may read whose names match `q`, as the search box of
    the pages finds them. A deal is found by its own name or its account's; open deals first."""
    results = record_search(user=request.user, q=filters.q, limit=filters.limit)
    return {
        "q": filters.q,
        "deals": _found(results.deals),
        "accounts": _found(results.accounts),
        "contacts": _found(results.contacts),
    }


class DuplicateQuery(StrictQuery):
    name: SearchText = Field(description="The name of the account you are about to create.")
    exclude: Id | None = Field(None, description="An account to leave out: the one being renamed.")


class DuplicateOut(Schema):
    name: str = Field(description="The existing account's name.")
    reason: Resemblance = Field(
        description="same_name: the same name without its legal form (有限公司 …); contains: "
        "one name inside the other; same_pinyin: the same full pinyin (homophones); "
        "pinyin_initials / pinyin_prefix: the name typed as pinyin."
    )
    visible: bool = Field(description="Whether you may read that account.")
    id: int | None = Field(description="The account's id; null when you may not read it.")


class DuplicatesOut(Schema):
    name: str
    items: list[DuplicateOut]


@router.get(
    "/accounts/duplicates", response={200: DuplicatesOut, **ERROR_RESPONSES}, tags=["accounts"]
)
def account_duplicate_check(
    request: AuthenticatedHttpRequest, filters: Query[DuplicateQuery]
) -> dict[str, Any]:
    """Existing accounts of your organization that a new name may duplicate, the likeliest
    first. Accounts you may not read (another rep's customers) are named without their id."""
    found = account_duplicates(user=request.user, name=filters.name, exclude_id=filters.exclude)
    return {
        "name": filters.name,
        "items": [
            {
                "name": d.name,
                "reason": d.reason,
                "visible": d.visible,
                "id": d.account.pk if d.account is not None else None,
            }
            for d in found
        ],
    }
