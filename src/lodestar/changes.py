"""What a committed transaction changed, for whoever keeps copies of what it read (the pages).

Two sources fill one record per transaction (per savepoint level, so a part that rolls back
takes its notes with it):

- every statement that writes a table copies are made from (`note_write`, called by the
  statement watcher of `lodestar.web.caching`), whoever runs it;
- the write paths that know what they touched (`changed`): the event append, the activity
  summary, trigger tasks, notifications, alerts, communication scores, health snapshots and
  handbook pushes name the deals, reps and people their rows are about, and the tables that
  covers.

When the transaction commits, the listeners (`listen`) get a `Change`. It is *narrow* when every
table written was covered by a `changed` call of the same transaction; then `scopes` says
exactly whose copies are stale. Otherwise it is *broad* (`everything`): a write nobody
described (the admin, a sweep, a bulk import, a new playbook) makes every copy stale, so
forgetting to call `changed` can cost speed, never correctness.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

if TYPE_CHECKING:
    from lodestar.org.selectors import Actor

__all__ = [
    "Change",
    "alerts_scope",
    "changed",
    "deals_scope",
    "has_pending",
    "health_scope",
    "health_scopes",
    "listen",
    "note_write",
    "owner_scope",
    "person_scope",
    "team_scope",
    "work_scopes",
]

logger = logging.getLogger(__name__)


# --- scopes: the names copies are kept under -----------------------------------------------------


def person_scope(user_id: int) -> str:
    """What is addressed to one person: their tasks and notifications."""
    return f"person:{user_id}"


def alerts_scope(user_id: int) -> str:
    """The alerts addressed to one person (a manager's dashboard lists them)."""
    return f"alerts:{user_id}"


def owner_scope(user_id: int) -> str:
    """What happens on the deals one person owns (events, activity, their tasks and alerts)."""
    return f"owner:{user_id}"


def team_scope(organization_id: int, team_id: int | None) -> str:
    """What happens on one team's deals (deals without a team: one scope per organization)."""
    return f"team:{team_id}" if team_id is not None else f"teamless:{organization_id}"


def deals_scope(organization_id: int) -> str:
    """What happens on any deal of the organization."""
    return f"deals:{organization_id}"


def health_scope(organization_id: int, team_id: int | None = None) -> str:
    """The health figures of one team's reps (None: of every rep of the organization)."""
    return f"health:{organization_id}" + (f":{team_id}" if team_id is not None else "")


def work_scopes(*, actor: Actor) -> list[str]:
    """The scopes of the deals `actor` may read: `lodestar.org.selectors.work_scope_q` in
    scopes (the whole organization; a manager's own deals and their teams'; one's own)."""
    if actor.sees_whole_organization:
        return [deals_scope(actor.organization_id)]
    scopes = [owner_scope(actor.user_id)]
    if actor.is_manager:
        scopes += [team_scope(actor.organization_id, pk) for pk in sorted(actor.managed_team_ids)]
    return scopes


def health_scopes(*, actor: Actor) -> list[str]:
    """The scopes of the health figures `actor` may read (`reps_in_scope`): the organization's,
    a manager's teams', or their own team's."""
    if actor.sees_whole_organization:
        return [health_scope(actor.organization_id)]
    teams = sorted(actor.managed_team_ids) if actor.is_manager else [actor.team_id]
    return [health_scope(actor.organization_id, team) for team in teams]


# --- the record ------------------------------------------------------------------------------


@dataclass
class Change:
    """What one committed transaction (or savepoint level of it) wrote."""

    tables: set[str] = field(default_factory=set)
    covered: set[str] = field(default_factory=set)
    deals: set[int] = field(default_factory=set)
    reps: set[int] = field(default_factory=set)
    people: set[int] = field(default_factory=set)
    alerted: set[int] = field(default_factory=set)
    scopes: set[str] = field(default_factory=set)
    unknown: bool = False  # the scopes could not be worked out

    @property
    def everything(self) -> bool:
        """A table was written that no `changed` call described (or its scopes are unknown)."""
        return self.unknown or not self.tables <= self.covered


_listeners: list[Callable[[Change], None]] = []


def listen(listener: Callable[[Change], None]) -> None:
    """Call `listener` with every committed `Change` (registered once, at start-up)."""
    if listener not in _listeners:
        _listeners.append(listener)


class _Pending:
    def __init__(self) -> None:
        self.change = Change()

    def publish(self) -> None:
        change = self.change
        try:
            if change.deals and not change.everything:
                change.scopes |= _deal_scopes(change.deals)
            if change.reps and not change.everything:
                change.scopes |= _rep_scopes(change.reps)
        except Exception:  # a database that fails to answer: everything is stale instead
            logger.exception("The scopes of a change could not be read; all copies are stale.")
            change.unknown = True
        change.scopes |= {person_scope(pk) for pk in change.people}
        change.scopes |= {alerts_scope(pk) for pk in change.alerted}
        for listener in _listeners:
            try:
                listener(change)
            except Exception:  # the write is done: a listener that fails must not undo it
                logger.exception("A change listener failed; kept copies may be stale.")


def _deal_scopes(deal_ids: set[int]) -> set[str]:
    """The scopes of the deals' owners and teams, read once the transaction has committed."""
    from lodestar.crm.models import Opportunity

    scopes: set[str] = set()
    for organization_id, owner_id, team_id in (
        Opportunity.objects.filter(pk__among=sorted(deal_ids))
        .order_by()
        .values_list("organization_id", "owner_id", "team_id")
        .distinct()
    ):
        scopes |= {deals_scope(organization_id), team_scope(organization_id, team_id)}
        if owner_id is not None:
            scopes.add(owner_scope(owner_id))
    return scopes


def _records(connection: BaseDatabaseWrapper) -> list[tuple[set[str], _Pending]]:
    # Django's entries are (savepoint ids, function, robust); the type stubs know only two.
    records = []
    for entry in connection.run_on_commit:
        sids, pending = entry[0], getattr(entry[1], "__self__", None)
        if isinstance(pending, _Pending):
            records.append((sids, pending))
    return records


def _rep_scopes(rep_ids: set[int]) -> set[str]:
    """Where the reps' figures show: their team's and the organization's health."""
    from lodestar.org.models import Membership

    scopes: set[str] = set()
    for organization_id, team_id in (
        Membership.objects.filter(user_id__among=sorted(rep_ids))
        .order_by()
        .values_list("organization_id", "team_id")
        .distinct()
    ):
        scopes |= {health_scope(organization_id), health_scope(organization_id, team_id)}
    return scopes


def _pending(connection: BaseDatabaseWrapper) -> _Pending:
    """This savepoint level's record, registered to be published when the transaction commits
    (a savepoint that rolls back drops it, with what it noted)."""
    level = set(connection.savepoint_ids)
    for sids, pending in reversed(_records(connection)):
        if sids == level:
            return pending
    pending = _Pending()
    # robust: a listener that fails must not stop the writer's other callbacks.
    transaction.on_commit(pending.publish, using=connection.alias, robust=True)
    return pending


def has_pending(connection: BaseDatabaseWrapper) -> bool:
    """Whether the open transaction has written something copies are made from."""
    return connection.in_atomic_block and bool(_records(connection))


def note_write(connection: BaseDatabaseWrapper, table: str) -> None:
    """`table` was written on `connection` (published at once outside a transaction)."""
    if not connection.in_atomic_block:
        immediate = _Pending()
        immediate.change.tables.add(table)
        immediate.publish()
        return
    _pending(connection).change.tables.add(table)


def changed(
    *,
    tables: Iterable[type[Model]],
    deals: Iterable[int | None] = (),
    reps: Iterable[int] = (),
    people: Iterable[int | None] = (),
    alerted: Iterable[int] = (),
    using: str = DEFAULT_DB_ALIAS,
) -> None:
    """The current transaction wrote rows of `tables` that are all about `deals` (their owners'
    and teams' copies are stale), about the health of `reps` (their team's and the
    organization's figures are stale), addressed to `people` (their own copies are stale) or
    alerts addressed to the `alerted`.

    It covers the writes of this savepoint level and of the savepoints inside it that were
    released (`bulk_insert_new` writes in one), not those of the levels around it: call it at
    the level of the writes or around them. Outside a transaction it does nothing: the
    statement was published as a broad change when it ran.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        return
    names = {model._meta.db_table for model in tables}
    level = set(connection.savepoint_ids)
    for sids, pending in _records(connection):
        if sids >= level:  # this level, or a savepoint inside it that was released
            pending.change.covered |= names
    change = _pending(connection).change
    change.covered |= names
    change.deals |= {pk for pk in deals if pk is not None}
    change.reps |= set(reps)
    change.people |= {pk for pk in people if pk is not None}
    change.alerted |= set(alerted)
