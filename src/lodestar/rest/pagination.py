"""Limit/offset pages with the total count; one page is at most MAX_PAGE_SIZE items."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db.models import Model, QuerySet
from ninja import Field, Schema

from lodestar.rest.schemas import StrictQuery

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_OFFSET", "MAX_PAGE_SIZE", "Page", "PageQuery", "page_of"]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Far beyond any list we hold, and `offset + limit` stays a 64-bit integer for both databases.
MAX_OFFSET = 1_000_000_000

M = TypeVar("M", bound=Model)
T = TypeVar("T")


class PageQuery(StrictQuery):
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Page size.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip.")


class Page(Schema, Generic[T]):
    """The output of a paged list. Each list names its own (`class EventPage(Page[EventOut]):
    pass`), which is the name the OpenAPI document gives it."""

    count: int
    limit: int
    offset: int
    items: list[T]


def page_of(
    queryset: QuerySet[M], query: PageQuery, item: Callable[[M], Any] | None = None
) -> dict[str, Any]:
    """The page as `Page` expects it, each row passed through `item` when given (the rows
    themselves otherwise); costs one COUNT and one SELECT."""
    count = queryset.count()
    rows = list(queryset[query.offset : query.offset + query.limit])
    return {
        "count": count,
        "limit": query.limit,
        "offset": query.offset,
        "items": rows if item is None else [item(row) for row in rows],
    }
