"""Who and what a demo organization's history is about: reps, teams, accounts, the stored files
attachments point at, and each deal's plan (its simulated life), with the helpers both passes of
the generator share."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DAY",
    "HOUR",
    "AccountInfo",
    "ContactInfo",
    "Plan",
    "Rep",
    "SalesTeam",
    "StoredFile",
    "deal_rng",
    "local_date",
]

DAY = 86_400
HOUR = 3_600

# (contact id, name, title key, decision maker)
ContactInfo = tuple[int, str, str, bool]


@dataclass(frozen=True)
class StoredFile:
    """One stored file of the pool attachments point at (content-addressed, so shared)."""

    name: str
    sha256: str
    size: int
    content_type: str
    text: str


@dataclass
class Rep:
    index: int
    user_id: int
    team_index: int
    skill: float
    accounts: list[int] = field(default_factory=list)


@dataclass
class SalesTeam:
    index: int
    kind: str  # "industrial" or "saas" (processes.KINDS)
    name: str
    manager_id: int
    team_id: int = 0


@dataclass
class AccountInfo:
    account_id: int
    short_name: str
    key: bool
    contacts: list[ContactInfo]


@dataclass
class Plan:
    """One deal's simulated life; small enough to keep 50,000 of them."""

    index: int
    rep: int
    account: int
    process: str
    product: int
    created: int
    # (from stage, to stage, at) in order.
    moves: list[tuple[str, str, int]]
    status: str
    closed: int | None
    last_activity: int
    # "" (the customer answers), "silent" (past the playbook's silence threshold, 72 h) or
    # "stale" (past its stale threshold, 47 days).
    silence: str
    amount: int
    expected_close: dt.date
    custom_fields: dict[str, Any]
    name: str
    lost_reason: str = ""
    # Events logged as the deal was opened, an hour apart (a fresh lead's first visit).
    opening: tuple[str, ...] = ()
    opportunity_id: int = 0

    @property
    def stage(self) -> str:
        return self.moves[-1][1] if self.moves else "lead"

    @property
    def stage_entered(self) -> int:
        return self.moves[-1][2] if self.moves else self.created

    def line(self) -> str:
        moves = ";".join(f"{a}>{b}@{t}" for a, b, t in self.moves)
        return (
            f"{self.index}|{self.rep}|{self.account}|{self.process}|{self.product}|"
            f"{self.created}|{self.status}|{self.closed}|{self.last_activity}|{self.silence}|"
            f"{self.amount}|{self.expected_close}|{self.name}|{moves}|{','.join(self.opening)}"
        )


def deal_rng(seed: int, index: int, stream: int) -> random.Random:
    """The random stream `stream` of deal (or rep) `index`: independent of every other deal."""
    return random.Random((seed * 1_000_003 + index) * 4 + stream)


def local_date(ts: int, tz: zoneinfo.ZoneInfo) -> dt.date:
    return dt.datetime.fromtimestamp(ts, tz=tz).date()
