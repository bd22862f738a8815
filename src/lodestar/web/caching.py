"""What the pages keep between requests, and when they stop trusting it.

Two layers, both in each process's local-memory cache (the `default` alias):

- **kept pages** (`kept_page`): the rendered HTML of a page or fragment, served again without
  touching the database or the template engine;
- **kept data** (`cached_for`): what a page's builder returned, so a page whose HTML is no longer
  current is rendered again without querying everything again.

Every key carries the user, the organization, the active language and the page's own arguments
(path, query, filters), so nobody is served what someone else may see; the permission check
(`member_view`) runs on every request before anything kept is looked at.

When kept things stop being trusted:

- **anyone's write**: every statement that changes a table the pages read (`INSERT`, `UPDATE`,
  `DELETE`, whoever runs it: a page, the API, a webhook, the worker, the CLI) is noted
  (`watch_writes`), and once its transaction commits the versions of what it changed are
  replaced (`lodestar.changes`). Versions live in the `shared` cache, which every process on
  the machine reads (a folder under the var directory by default; Redis when `REDIS_URL` is
  set, which several hosts then share), and they are part of every key: the next request after
  a commit misses and reads the database again. Statements are watched rather than model
  signals because ingestion, triggers and sweeps write in bulk (`bulk_create`, `update()`),
  which send no signals.

  What changed is known where it was written: the event road (the append, the activity
  summary, trigger tasks, notifications, alerts, scores and health) names the deals, reps and
  people its rows are about, so a transaction that wrote only such rows replaces the versions
  of *scopes* (`lodestar.changes`): a person's tasks and notifications, a person's alerts, a
  deal owner's deals, a team's deals, an organization's deals, a team's health. Each page is
  kept under the scopes it `shows`: Today and the inbox under the user's tasks and
  notifications; the deals that need you also under the deals the user may read
  (`lodestar.changes.work_scopes`); the dashboard under the user's alerts and the health they
  may read, its fragments under the deals. An event on one deal thus renders again only the
  pages that show it. Any other write (a statement no write path described: the admin, a
  sweep, an import, a new playbook) replaces the one *data version* every key carries.
- **the user's own write**: each write a page makes also bumps a counter in the user's session
  (`note_write`), so their change shows at once even if the shared cache were cleared or
  unreachable.
- **time**: kept HTML and kept data expire after their stated `ttl` (a minute for the rep's
  task countdowns, a few minutes where time shows in days or hours).
- **an open transaction that has written** neither keeps what it reads nor reads what was kept
  (`may_keep`): its changes may yet roll back, and it must see them itself.

The signed-in user and their membership are kept the same way (`lodestar.web.auth`), and the
kept HTML has stand-ins for what must differ per response (the CSRF token, the forms' delivery
ids), filled in when it is served.

Figures that are expensive and cover weeks of history (the dashboard's tiles, funnel and trend)
are kept by time only (`lodestar.web.dashboard.TILES_TTL`), and so is the ranking of stuck deals
(`STUCK_TTL`, a gate evaluation per reason), so a busy stream of events does not make the
dashboard recompute them on every visit; the HTML around them is still rendered again.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.core.cache import cache, caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils.translation import get_language

from lodestar import changes

__all__ = [
    "SHARED_CACHE",
    "cached_for",
    "data_changed",
    "data_version",
    "kept_page",
    "may_keep",
    "note_write",
    "page_version",
    "publish_changes",
    "watch_writes",
]

T = TypeVar("T")

# The cache alias every process (and, with Redis, every host) sees: it holds the data version.
SHARED_CACHE = "shared"
_VERSION_KEY = "web:data-version"
_WRITES = "web:writes"
# Changed by every narrow change: the version of pages that do not say what they show.
_ANY = "any"
# Kept HTML is rendered again at least this often unless the page says otherwise.
PAGE_SECONDS = 60

# Tables whose writes change nothing a kept page shows (sessions, audit and access bookkeeping).
UNWATCHED_TABLES = frozenset(
    {
        "django_session",
        "django_admin_log",
        "org_apitoken",
        "org_auditentry",
        # The language a user reads in, remembered from their first request in it: no page
        # shows it, and the write must not make the page it was remembered on stale at once.
        "integrations_languagepreference",
        # Sign-in attempts and logins (django-axes): a stream of wrong passwords must not make
        # everyone's kept pages stale.
        "axes_accessattempt",
        "axes_accessattemptexpiration",
        "axes_accesslog",
        "axes_accessfailurelog",
        # The outbound webhooks' subscriptions, deliveries and log: only their own page shows
        # them, and it keeps nothing; the worker's log lines must not make every page stale.
        "integrations_webhooksubscription",
        "integrations_webhookdelivery",
        "integrations_webhookattempt",
    }
)
# Updates of this one column only: when a user last signed in, when a calendar app last fetched.
UNWATCHED_COLUMNS = frozenset(
    {("org_user", "last_login"), ("integrations_calendarfeed", "last_fetched_at")}
)
# The written table, and the column when an UPDATE sets exactly one.
_WRITE = re.compile(
    r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+[`"]?(\w+)[`"]?'
    r'(?:\s+SET\s+[`"]?(\w+)[`"]?\s*=\s*%s\s+WHERE\b)?',
    re.IGNORECASE,
)


# --- the data version --------------------------------------------------------------------------


def data_version() -> str:
    """The current data version (a new one is made if the shared cache lost it).

    Read it *before* reading the data a kept thing is built from: a write that commits in
    between then changes the version, and what was built is kept under the old one, never read.
    """
    return _versions([_VERSION_KEY])


def _scope_key(scope: str) -> str:
    return f"{_VERSION_KEY}:{scope}"


def _versions(keys: list[str]) -> str:
    shared = caches[SHARED_CACHE]
    found = shared.get_many(keys)
    for key in keys:
        if key not in found:
            shared.add(key, uuid.uuid4().hex, None)
            found[key] = shared.get(key)
    return ":".join(str(found[key]) for key in keys)


def page_version(shows: Sequence[str] | None) -> str:
    """The version of what a page `shows` (scopes of `lodestar.changes`; None: anything in any
    organization), read before the data as `data_version` is: the data version, and one
    version per scope."""
    scopes = (_ANY,) if shows is None else shows
    return _versions([_VERSION_KEY, *(_scope_key(scope) for scope in scopes)])


def data_changed() -> None:
    """Something the pages show has changed (and is committed): nothing kept is current."""
    caches[SHARED_CACHE].set(_VERSION_KEY, uuid.uuid4().hex, None)


def _watch(execute: Any, sql: Any, params: Any, many: bool, context: dict[str, Any]) -> Any:
    result = execute(sql, params, many, context)
    if isinstance(sql, str) and sql.lstrip()[:1] in ("I", "U", "D", "i", "u", "d"):
        written = _WRITE.match(sql)
        if (
            written is not None
            and written.group(1) not in UNWATCHED_TABLES
            and written.groups() not in UNWATCHED_COLUMNS
        ):
            changes.note_write(context["connection"], written.group(1))
    return result


def _published(change: changes.Change) -> None:
    """A transaction committed (`lodestar.changes`): a broad change makes every kept thing
    stale; a narrow one only what shows its scopes (and pages that show anything)."""
    if change.everything:
        data_changed()
        return
    # Dropped rather than replaced: the next reader makes a new version (`_versions`), and a
    # delete is one call (Redis) or one unlink, where a file cache's `set` lists its folder.
    caches[SHARED_CACHE].delete_many([_scope_key(scope) for scope in (*change.scopes, _ANY)])


def may_keep() -> bool:
    """Whether what is read now may be kept or taken from what was kept: not inside a transaction
    that has written. Its reads include changes that may yet roll back (nobody else may see
    them), and what was kept before does not include its changes (it must see them)."""
    return not changes.has_pending(connections[DEFAULT_DB_ALIAS])


def watch_writes(connection: BaseDatabaseWrapper, **_kwargs: Any) -> None:
    """Watch `connection`'s statements (connected to `connection_created` by the web app)."""
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch)


def publish_changes() -> None:
    """Make committed changes stale what shows them (connected once by the web app)."""
    changes.listen(_published)


# --- keys ------------------------------------------------------------------------------------


def note_write(request: HttpRequest) -> None:
    """The user changed something: their kept pages are stale from now on, in every worker."""
    request.session[_WRITES] = int(request.session.get(_WRITES, 0)) + 1


def _key(request: HttpRequest, part: str, version: str, *args: Any) -> str:
    user = request.user
    membership = getattr(user, "membership", None)
    scope = (
        user.pk,
        membership.organization_id if membership is not None else None,
        get_language(),
        request.session.get(_WRITES, 0),
        version,
        *args,
    )
    return f"web:{part}:" + hashlib.sha256(repr(scope).encode()).hexdigest()[:32]


def cached_for(
    request: HttpRequest,
    part: str,
    ttl: int,
    build: Callable[[], T],
    *args: Any,
    shows: Sequence[str] | None = None,
    time_only: bool = False,
) -> T:
    """`build()`, or what it returned for the same user, language and `args` less than `ttl`
    seconds ago and before the user's own last write — and, unless `time_only` (for figures
    over weeks of history, where minutes of lag do not show), before anyone's last write that
    changed what it `shows` (see `page_version`)."""
    if not may_keep():
        return build()
    key = _key(request, part, "" if time_only else page_version(shows), *args)
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, ttl)
    return value  # type: ignore[no-any-return]


# --- kept pages --------------------------------------------------------------------------------

# Stand-ins rendered into kept HTML where each response needs its own value: the CSRF token
# (masked afresh for every response) and the delivery id of each event form (a fresh one per
# form, so two tabs showing the same kept page never log two events as one). Random per process,
# so no page text can contain them by chance.
_CSRF_STAND_IN = "csrf" + secrets.token_hex(16)
_DELIVERY_STAND_IN = "delivery" + secrets.token_hex(16)


def _fill_in(html: str, csrf_token: str) -> str:
    if _CSRF_STAND_IN in html:
        html = html.replace(_CSRF_STAND_IN, csrf_token)
    if _DELIVERY_STAND_IN in html:
        html = re.sub(_DELIVERY_STAND_IN, lambda _match: uuid.uuid4().hex, html)
    return html


def _has_messages(request: HttpRequest) -> bool:
    storage = getattr(request, "_messages", None)
    return storage is not None and len(storage) > 0


def kept_page(
    request: HttpRequest,
    part: str,
    build: Callable[[], tuple[str, dict[str, Any]]],
    ttl: int = PAGE_SECONDS,
    shows: Sequence[str] | None = None,
) -> HttpResponse:
    """The page `build()` describes (template name and context), rendered, or its HTML kept
    from an earlier request of the same user for the same path and language, less than `ttl`
    seconds ago and since anyone's last write that changed what it `shows` (see
    `page_version`).

    A browser that already has this rendering gets `304 Not Modified` (the ETag also carries
    the CSRF cookie, so a page whose token a new login replaced is sent again).
    """
    if _has_messages(request) or not may_keep():  # a one-time message is for this response only
        template, context = build()
        return render(request, template, context)
    version = page_version(shows)
    key = _key(
        request,
        f"page:{part}",
        version,
        request.get_full_path(),
        bool(getattr(request, "htmx", False)),
    )
    kept = cache.get(key)
    if kept is None:
        template, context = build()
        context = {**context, "csrf_token": _CSRF_STAND_IN, "delivery_id": _DELIVERY_STAND_IN}
        rendered = render(request, template, context)
        if rendered.status_code != 200:
            return rendered
        html = rendered.content.decode(rendered.charset)
        kept = (html, rendered["Content-Type"], uuid.uuid4().hex)
        cache.set(key, kept, ttl)
    html, content_type, rendering = kept
    csrf_token = get_token(request)  # makes the CSRF secret (and its cookie) if there was none
    csrf_secret = request.META.get("CSRF_COOKIE", "")
    etag = hashlib.sha256(f"{key}:{rendering}:{csrf_secret}".encode()).hexdigest()[:32]
    etag = f'W/"{etag}"'
    if etag in request.headers.get("If-None-Match", ""):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(_fill_in(html, csrf_token), content_type=content_type)
    response["ETag"] = etag
    # Only this user's browser may keep it, and it asks again (If-None-Match) before reuse.
    response["Cache-Control"] = "private, no-cache"
    return response
