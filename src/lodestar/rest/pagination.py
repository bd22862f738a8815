"""Limit/offset pages with the total count; one page is at most MAX_PAGE_SIZE items."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from ninja import Field

from lodestar.rest.schemas import StrictQuery

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_OFFSET", "MAX_PAGE_SIZE", "PageQuery", "page_of"]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Far beyond any list we hold, and `offset + limit` stays a 64-bit integer for both databases.
MAX_OFFSET = 1_000_000_000

M = TypeVar("M", bound=Model)


class PageQuery(StrictQuery):
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Page size.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip.")


def page_of(queryset: QuerySet[M], query: PageQuery) -> dict[str, Any]:
    """The page as the `*Page` output schemas expect it; costs one COUNT and one SELECT."""
    return {
        "count": queryset.count(),
        "limit": query.limit,
        "offset": query.offset,
        "items": list(queryset[query.offset : query.offset + query.limit]),
    }
