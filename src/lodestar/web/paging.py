"""Long lists on the pages: one page of rows, and the list's filters for the page links."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

__all__ = ["page_of_rows"]

T = TypeVar("T")


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and 0 < int(value) < 100_000 else 1


def page_of_rows(
    request: HttpRequest, rows: QuerySet[Any] | Sequence[T], size: int
) -> tuple[Page[Any], str]:
    """The page the request asks for (`?page=`; a page past the end gives the last one, a
    malformed number the first), and the request's other query parameters, url-encoded, for
    the links to the other pages (`web/partials/pager.html`)."""
    page = Paginator(rows, size).get_page(_page_number(request.GET.get("page")))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
