"""What the pages keep between requests, and when they stop trusting it.

The cache is per process (Django's local-memory cache unless the deployment configures a shared
one), so a delete in one worker does not reach the others. Two rules make that safe:

- every entry lives a short, stated time (`ttl`), after which everyone's changes show;
- a user's own changes show at once: each write a page makes bumps a counter in the user's
  session (`note_write`), and the counter is part of every key, so after "log a call" the next
  page in any worker misses and reads the database again.

Keys also carry the user, the organization, the active language and the page's own arguments
(filters), so nobody is served what someone else may see.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import get_language

__all__ = ["cached_for", "note_write"]

T = TypeVar("T")

_WRITES = "web:writes"


def note_write(request: HttpRequest) -> None:
    """The user changed something: their cached pages are stale from now on, in every worker."""
    request.session[_WRITES] = int(request.session.get(_WRITES, 0)) + 1


def cached_for(request: HttpRequest, part: str, ttl: int, build: Callable[[], T], *args: Any) -> T:
    """`build()`, or what it returned for the same user, language and `args` less than `ttl`
    seconds ago and before the user's last write."""
    user = request.user
    membership = getattr(user, "membership", None)
    scope = (
        user.pk,
        membership.organization_id if membership is not None else None,
        get_language(),
        request.session.get(_WRITES, 0),
        *args,
    )
    digest = hashlib.sha256(repr(scope).encode()).hexdigest()[:32]
    key = f"web:{part}:{digest}"
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, ttl)
    return value  # type: ignore[no-any-return]
