"""The seeds' yardsticks (验证维度), each a figure plus the rows behind it for drill-down.

Seed 001: 销售动作穿透率 = 规定动作执行次数 / 理论应执行次数 ("重点客户每月 1 次设备巡检报告
上传 + 2 次技术参数同步 + 1 次竞品动态分享"); 客户信息完整率 53% → 91%; 商机阶段准确率
61% → 89%; 销售日报提交及时率 74% → 96%; 跨部门协作响应时效 4.2 天 → 1.7 天. Seed 000: 转化率,
任务按时完成率, 推进速度.

- **Action penetration** — for every account and every required-action set that applies to its
  tier (a set with no tiers applies to all), each action is due ``count`` times in the period
  and credited ``min(done, count)``: doing one action more often never hides a missing one, so
  the rate never exceeds 100 %. Account, rep, team and overall rates pool credited / due;
  ``rep_average`` is the plain mean of the reps' rates (the seed's 团队平均穿透率). The caller
  passes sets of one period and the counts done in that period.
- **Record completeness** — per record, filled required fields / required fields (``None``,
  blank text and empty collections are not filled); overall both the share of all required
  fields filled and the share of records with every required field (the headline 完整率).
- **Stage accuracy** — open deals whose evidence satisfies the gate of every stage they passed
  / open deals (gate results come from the rule engine).
- **On-time rates** (daily reports, tasks) — items due by ``now`` done by their due time / due.
- **Response time** — answered cross-department requests: count, median, mean, p90 (linear
  interpolation); unanswered ones are listed with their age, not averaged in.
- **Stage conversion** — for consecutive stages ``i → i+1``: deals whose furthest stage is at
  least ``i+1`` / deals whose furthest stage is at least ``i``.
- **Dwell and cycle time** — duration statistics per stage (finished stays; open stays to
  ``now`` on request) and from opening to close (won deals by default).
- **Win rate** — won / (won + lost) among the closed deals given.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence, Sized
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lodestar.core.scoring.common import (
    DurationStats,
    Message,
    Rate,
    RowId,
    duration_stats,
    require_aware,
)
from lodestar.core.scoring.errors import InvalidScoringInput

__all__ = [
    "AccountActivity",
    "ClosedDeal",
    "CompletenessReport",
    "DealGateEvidence",
    "DealProgress",
    "DueItem",
    "GroupedRate",
    "HandOff",
    "PenetrationReport",
    "PenetrationRow",
    "RecordCompleteness",
    "RecordValues",
    "RequiredAction",
    "RequiredActionSet",
    "ResponseTimes",
    "StageAccuracy",
    "StageConversion",
    "StageStay",
    "action_penetration",
    "cycle_time",
    "is_filled",
    "on_time_rate",
    "record_completeness",
    "response_times",
    "stage_accuracy",
    "stage_conversion",
    "stage_dwell",
    "win_rate",
]


def _pool(rows: Iterable[tuple[RowId, float, float, bool]]) -> Rate:
    """Pool ``(row id, numerator, denominator, hit)`` rows into one :class:`Rate`."""
    num = den = 0.0
    hits: list[RowId] = []
    misses: list[RowId] = []
    for row, n, d, hit in rows:
        num += n
        den += d
        (hits if hit else misses).append(row)
    return Rate(num, den, tuple(hits), tuple(misses))


# --- action penetration ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequiredAction:
    """One required action: ``key`` is the event type or attachment kind counted."""

    key: str
    count: int = 1
    name: Message | None = None

    def __post_init__(self) -> None:
        if self.count < 1:
            raise InvalidScoringInput(f"a required action is due at least once, got {self.count}")


@dataclass(frozen=True, slots=True)
class RequiredActionSet:
    """Actions due per account and period (the playbook's ``required_actions`` entry)."""

    set_id: str
    actions: tuple[RequiredAction, ...]
    account_tiers: frozenset[str] = frozenset()
    period: str = "month"

    def applies_to(self, tier: str | None) -> bool:
        return not self.account_tiers or tier in self.account_tiers


@dataclass(frozen=True, slots=True)
class AccountActivity:
    """One account, its owners, and how often each action key was done in the period."""

    account_id: RowId
    tier: str | None = None
    rep_id: RowId | None = None
    team_id: RowId | None = None
    done: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PenetrationRow:
    account_id: RowId
    rep_id: RowId | None
    team_id: RowId | None
    set_id: str
    action_key: str
    due: int
    done: int

    @property
    def credited(self) -> int:
        return min(self.done, self.due)


@dataclass(frozen=True, slots=True)
class PenetrationReport:
    """``hits``/``misses`` of each rate are account ids with all / not all actions done."""

    overall: Rate
    by_account: dict[RowId, Rate]
    by_rep: dict[RowId, Rate]
    by_team: dict[RowId, Rate]
    rows: tuple[PenetrationRow, ...]

    @property
    def rep_average(self) -> float | None:
        values = [r.value for r in self.by_rep.values() if r.value is not None]
        return math.fsum(values) / len(values) if values else None


def action_penetration(
    accounts: Sequence[AccountActivity], sets: Sequence[RequiredActionSet]
) -> PenetrationReport:
    rows: list[PenetrationRow] = []
    per_account: dict[RowId, tuple[AccountActivity, int, int]] = {}
    for account in accounts:
        credited = due = 0
        for action_set in sets:
            if not action_set.applies_to(account.tier):
                continue
            for action in action_set.actions:
                done = max(0, int(account.done.get(action.key, 0)))
                row = PenetrationRow(
                    account.account_id,
                    account.rep_id,
                    account.team_id,
                    action_set.set_id,
                    action.key,
                    action.count,
                    done,
                )
                rows.append(row)
                credited += row.credited
                due += row.due
        if due:
            per_account[account.account_id] = (account, credited, due)

    def rate_of(items: Iterable[tuple[AccountActivity, int, int]]) -> Rate:
        return _pool((a.account_id, c, d, c >= d) for a, c, d in items)

    def grouped(key: Callable[[AccountActivity], RowId | None]) -> dict[RowId, Rate]:
        groups: dict[RowId, list[tuple[AccountActivity, int, int]]] = defaultdict(list)
        for item in per_account.values():
            group = key(item[0])
            if group is not None:
                groups[group].append(item)
        return {group: rate_of(items) for group, items in groups.items()}

    return PenetrationReport(
        overall=rate_of(per_account.values()),
        by_account={aid: rate_of([item]) for aid, item in per_account.items()},
        by_rep=grouped(lambda a: a.rep_id),
        by_team=grouped(lambda a: a.team_id),
        rows=tuple(rows),
    )


# --- record completeness ---------------------------------------------------------------------


def is_filled(value: object) -> bool:
    """``None``, blank text and empty collections are not filled; ``0`` and ``False`` are."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, Sized):
        return len(value) > 0
    return True


@dataclass(frozen=True, slots=True)
class RecordValues:
    record_id: RowId
    values: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class RecordCompleteness:
    record_id: RowId
    filled: int
    required: int
    missing: tuple[str, ...]

    @property
    def share(self) -> float | None:
        return self.filled / self.required if self.required else None


@dataclass(frozen=True, slots=True)
class CompletenessReport:
    """``complete_records`` is the headline 完整率; ``fields_filled`` the finer share."""

    complete_records: Rate
    fields_filled: Rate
    by_field: dict[str, Rate]
    records: tuple[RecordCompleteness, ...]


def record_completeness(
    records: Sequence[RecordValues], required_fields: Sequence[str]
) -> CompletenessReport:
    required = tuple(dict.fromkeys(required_fields))
    results = []
    for record in records:
        missing = tuple(f for f in required if not is_filled(record.values.get(f)))
        results.append(
            RecordCompleteness(
                record.record_id, len(required) - len(missing), len(required), missing
            )
        )
    complete = _pool((r.record_id, float(not r.missing), 1.0, not r.missing) for r in results)
    fields_filled = _pool((r.record_id, r.filled, r.required, not r.missing) for r in results)
    by_field = {
        name: _pool(
            (r.record_id, float(name not in r.missing), 1.0, name not in r.missing) for r in results
        )
        for name in required
    }
    return CompletenessReport(complete, fields_filled, by_field, tuple(results))


# --- stage accuracy --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DealGateEvidence:
    """An open deal and, for every stage it passed, whether its evidence satisfies that gate."""

    deal_id: RowId
    gates: Mapping[str, bool]


@dataclass(frozen=True, slots=True)
class StageAccuracy:
    rate: Rate
    failing_gates: dict[RowId, tuple[str, ...]]


def stage_accuracy(deals: Sequence[DealGateEvidence]) -> StageAccuracy:
    failing = {d.deal_id: tuple(stage for stage, ok in d.gates.items() if not ok) for d in deals}
    rate = _pool(
        (d.deal_id, float(not failing[d.deal_id]), 1.0, not failing[d.deal_id]) for d in deals
    )
    return StageAccuracy(rate, {k: v for k, v in failing.items() if v})


# --- on-time rates (daily reports, tasks) ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class DueItem:
    """Something due by a time — a daily report, a task; ``done_at`` is when it was done."""

    row_id: RowId
    due_at: datetime
    done_at: datetime | None = None
    owner_id: RowId | None = None
    team_id: RowId | None = None


@dataclass(frozen=True, slots=True)
class GroupedRate:
    overall: Rate
    by_owner: dict[RowId, Rate]
    by_team: dict[RowId, Rate]


def _grouped(
    items: Sequence[tuple[RowId | None, RowId | None, tuple[RowId, float, float, bool]]],
) -> GroupedRate:
    owners: dict[RowId, list[tuple[RowId, float, float, bool]]] = defaultdict(list)
    teams: dict[RowId, list[tuple[RowId, float, float, bool]]] = defaultdict(list)
    for owner, team, row in items:
        if owner is not None:
            owners[owner].append(row)
        if team is not None:
            teams[team].append(row)
    return GroupedRate(
        overall=_pool(row for _, _, row in items),
        by_owner={k: _pool(v) for k, v in owners.items()},
        by_team={k: _pool(v) for k, v in teams.items()},
    )


def on_time_rate(
    items: Sequence[DueItem], *, now: datetime, since: datetime | None = None
) -> GroupedRate:
    """Items due in ``[since, now)`` done by their due time / items due (not yet due: left out)."""
    require_aware(now, "now")
    rows = []
    for item in items:
        require_aware(item.due_at, "due_at")
        if item.due_at >= now or (since is not None and item.due_at < since):
            continue
        hit = item.done_at is not None and item.done_at <= item.due_at
        rows.append((item.owner_id, item.team_id, (item.row_id, float(hit), 1.0, hit)))
    return _grouped(rows)


# --- cross-department response time ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HandOff:
    """A request from one department to another and when (if) it was answered."""

    request_id: RowId
    from_department: str
    to_department: str
    requested_at: datetime
    responded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ResponseTimes:
    """Answered requests' statistics, overall and by the department asked; open ones by age."""

    overall: DurationStats
    by_department: dict[str, DurationStats]
    unanswered: dict[RowId, timedelta]


def response_times(handoffs: Sequence[HandOff], *, now: datetime) -> ResponseTimes:
    require_aware(now, "now")
    answered: list[tuple[str, RowId, timedelta]] = []
    unanswered: dict[RowId, timedelta] = {}
    for h in handoffs:
        require_aware(h.requested_at, "requested_at")
        if h.responded_at is None or h.responded_at > now:
            unanswered[h.request_id] = max(now - h.requested_at, timedelta(0))
        else:
            answered.append((h.to_department, h.request_id, h.responded_at - h.requested_at))
    departments: dict[str, list[tuple[RowId, timedelta]]] = defaultdict(list)
    for dept, rid, span in answered:
        departments[dept].append((rid, span))
    return ResponseTimes(
        overall=duration_stats((rid, span) for _, rid, span in answered),
        by_department={d: duration_stats(v) for d, v in departments.items()},
        unanswered=unanswered,
    )


# --- stage conversion, dwell, cycle time, win rate -------------------------------------------


@dataclass(frozen=True, slots=True)
class DealProgress:
    """A deal and the furthest position it reached in the stage order (lost stage excluded)."""

    deal_id: RowId
    furthest_position: int


@dataclass(frozen=True, slots=True)
class StageConversion:
    from_stage: str
    to_stage: str
    rate: Rate


def stage_conversion(
    deals: Sequence[DealProgress], stage_keys: Sequence[str]
) -> tuple[StageConversion, ...]:
    """Conversion between consecutive stages; ``hits`` reached the next stage, ``misses`` not."""
    out = []
    for i in range(len(stage_keys) - 1):
        reached = [d for d in deals if d.furthest_position >= i]
        rate = _pool(
            (d.deal_id, float(d.furthest_position > i), 1.0, d.furthest_position > i)
            for d in reached
        )
        out.append(StageConversion(stage_keys[i], stage_keys[i + 1], rate))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class StageStay:
    deal_id: RowId
    stage: str
    entered_at: datetime
    left_at: datetime | None = None


def stage_dwell(
    stays: Sequence[StageStay], *, now: datetime, include_open: bool = False
) -> dict[str, DurationStats]:
    """Dwell statistics per stage over finished stays (and open stays up to ``now``)."""
    require_aware(now, "now")
    per_stage: dict[str, list[tuple[RowId, timedelta]]] = defaultdict(list)
    for stay in stays:
        require_aware(stay.entered_at, "entered_at")
        if stay.left_at is None and not include_open:
            continue
        end = stay.left_at if stay.left_at is not None else now
        per_stage[stay.stage].append((stay.deal_id, max(end - stay.entered_at, timedelta(0))))
    return {stage: duration_stats(items) for stage, items in per_stage.items()}


@dataclass(frozen=True, slots=True)
class ClosedDeal:
    deal_id: RowId
    opened_at: datetime
    closed_at: datetime
    won: bool
    rep_id: RowId | None = None
    team_id: RowId | None = None


def cycle_time(deals: Sequence[ClosedDeal], *, won_only: bool = True) -> DurationStats:
    """From opening to close; won deals only unless ``won_only`` is false."""
    return duration_stats(
        (d.deal_id, max(d.closed_at - d.opened_at, timedelta(0)))
        for d in deals
        if d.won or not won_only
    )


def win_rate(deals: Sequence[ClosedDeal]) -> GroupedRate:
    """Won / closed, overall, per rep and per team; ``hits`` won, ``misses`` lost."""
    return _grouped([(d.rep_id, d.team_id, (d.deal_id, float(d.won), 1.0, d.won)) for d in deals])
