"""Rep funnel health score (个人漏斗健康度评分), 0–100, from three parts.

Seed 000: "包含三项指标:阶段停留时长偏差率、任务完成及时率、客户互动频率。
低于70分自动触发主管介入提醒".

Every part looks at one rep's book at ``now`` over ``config.window`` (default the last 7 days,
so the score reads as "this week", the unit of the seed's weekly win-rate regression).

**Dwell deviation** (``dwell_deviation``). For each open deal whose stage has a target dwell,
``ratio = effective dwell / target`` where the effective dwell is the time since the deal entered
its stage minus any time it was exempted. The deal scores 100 while ``ratio <= 1`` and falls
linearly to 0 at ``ratio = k`` (``config.dwell_zero_at``, default 2 — twice the target)::

    deal score = 100                                   if ratio <= 1
               = 100 * (k - ratio) / (k - 1), >= 0      otherwise

The part is the mean of the deal scores. Deals without a target are not scored.

**Task on-time completion** (``task_on_time``). Tasks *due* inside the window (due before
``now``; tasks not yet due are left out) — ``100 * completed by their due time / due``. A task
completed late or not at all counts as missed.

**Customer interaction frequency** (``interaction_frequency``). Customer interactions (events
with or from the customer, chosen by the caller) inside the window, divided by the open
deal-weeks of exposure (each deal counts from ``max(window start, opened)`` to ``now``), against
``config.interactions_per_deal_week`` (default 2, i.e. about one every 3.5 days — the seed treats
72 silent hours as a risk)::

    part = 100 * min(1, (interactions / deal-weeks) / target)

Below ``config.min_exposure`` of total exposure (default 1 day) the part has no data.

**Exemptions** ("客户临时失联"): a deal exempted at ``now`` is left out of the dwell and
interaction parts; exempted time is subtracted from a deal's dwell and exposure (and interactions
inside an exemption are not counted); a task due while its deal was exempted is left out.

**Combining.** ``score = Σ weight_i * part_i / Σ weight_i`` over the parts that have data, so a
rep with no tasks due is scored on the other two. The weights and the threshold default to the
playbook's ``health:`` section (:class:`lodestar.core.playbook.model.HealthPolicy`, their one
home: weights 0.4 / 0.3 / 0.3, dwell deviation leading as the part the seed's "卡在哪" is about;
threshold 70, "低于70分"). Weights need not add up to 1; they are normalised.
``needs_attention`` is ``shown_score(score) < threshold``: the score as shown (a whole number,
halves up) is what is compared, so 69.86, shown as 70, is not "below 70". With no part having
data the score is ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from lodestar.core.playbook.model import HealthPolicy, HealthWeights
from lodestar.core.scoring.common import (
    Exemption,
    Message,
    Rate,
    RowId,
    Window,
    clamp_score,
    exempted_time,
    normalise_weights,
    require_aware,
    shown_score,
)
from lodestar.core.scoring.errors import InvalidScoringInput

__all__ = [
    "PART_KEYS",
    "DealDwellRow",
    "DealInteractionRow",
    "DwellPart",
    "HealthConfig",
    "HealthScore",
    "InteractionPart",
    "OpenDeal",
    "TaskPart",
    "TaskRecord",
    "dwell_deal_score",
    "dwell_part",
    "effective_dwell",
    "health_weights",
    "interaction_part",
    "rep_health",
    "task_on_time_rate",
    "task_part",
]

PART_KEYS: tuple[str, str, str] = ("dwell_deviation", "task_on_time", "interaction_frequency")
_WEEK = timedelta(days=7)
_PLAYBOOK = HealthPolicy()  # the playbook's `health:` defaults


def health_weights(weights: HealthWeights) -> tuple[float, float, float]:
    """A playbook's ``health.weights`` as :attr:`HealthConfig.weights` takes them."""
    return (weights.dwell_deviation, weights.task_on_time, weights.interaction_frequency)


@dataclass(frozen=True, slots=True)
class HealthConfig:
    """How the health score is computed.

    ``weights`` (relative, in :data:`PART_KEYS` order) and ``threshold`` default to the
    playbook's ``health:`` section; the other fields are the scoring's own, documented above.
    """

    weights: tuple[float, float, float] = health_weights(_PLAYBOOK.weights)
    threshold: float = _PLAYBOOK.threshold
    window: timedelta = timedelta(days=7)
    dwell_zero_at: float = 2.0
    interactions_per_deal_week: float = 2.0
    min_exposure: timedelta = timedelta(days=1)

    def __post_init__(self) -> None:
        self.normalised_weights()  # fail early on bad weights
        if not 0 <= self.threshold <= 100:
            raise InvalidScoringInput(f"threshold must be within 0–100, got {self.threshold}")
        if self.window <= timedelta(0):
            raise InvalidScoringInput("the health window must be longer than zero")
        if not self.dwell_zero_at > 1:
            raise InvalidScoringInput("dwell_zero_at must be above 1 (a multiple of the target)")
        if not self.interactions_per_deal_week > 0:
            raise InvalidScoringInput("interactions_per_deal_week must be above zero")

    def normalised_weights(self) -> dict[str, float]:
        """The weights by part key, adding up to 1."""
        return dict(zip(PART_KEYS, normalise_weights(self.weights), strict=True))


_DEFAULTS = HealthConfig()


@dataclass(frozen=True, slots=True)
class OpenDeal:
    """One open deal of the rep, as the dwell and interaction parts need it.

    ``customer_interactions`` are the times of events with or from the customer (any range;
    only those inside the window count). ``target_dwell`` is the current stage's target.

    ``interaction_counts`` spares passing the times when the caller counted them set-wise:
    ``(start, n)`` pairs, ``n`` interactions in ``[max(start, opened_at), now)``. The
    interaction part takes the pair whose ``start`` is its window's start when no exemption
    of the deal overlaps the window (else it needs the times, to leave exempted ones out).
    """

    deal_id: RowId
    opened_at: datetime
    stage: str
    stage_entered_at: datetime
    target_dwell: timedelta | None = None
    customer_interactions: tuple[datetime, ...] = ()
    exemptions: tuple[Exemption, ...] = ()
    interaction_counts: tuple[tuple[datetime, int], ...] = ()

    def counted_since(self, start: datetime) -> int | None:
        for counted_from, count in self.interaction_counts:
            if counted_from == start:
                return count
        return None


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """One task of the rep; ``exemptions`` are those of the task's deal (if any)."""

    task_id: RowId
    due_at: datetime
    completed_at: datetime | None = None
    deal_id: RowId | None = None
    exemptions: tuple[Exemption, ...] = ()


@dataclass(frozen=True, slots=True)
class DealDwellRow:
    deal_id: RowId
    stage: str
    dwell: timedelta
    target: timedelta
    ratio: float
    score: float


@dataclass(frozen=True, slots=True)
class DwellPart:
    """The dwell-deviation part: its score, the scored deals, and the deals left out."""

    score: float | None
    deals: tuple[DealDwellRow, ...]
    exempted: tuple[RowId, ...] = ()
    without_target: tuple[RowId, ...] = ()

    @property
    def mean_deviation(self) -> float | None:
        """Mean of ``max(0, ratio - 1)`` — the seed's 阶段停留时长偏差率."""
        if not self.deals:
            return None
        return math.fsum(max(0.0, row.ratio - 1.0) for row in self.deals) / len(self.deals)


@dataclass(frozen=True, slots=True)
class TaskPart:
    """The task on-time part: ``rate.hits`` on time, ``late`` done late, ``missed`` not done."""

    score: float | None
    rate: Rate
    late: tuple[RowId, ...] = ()
    missed: tuple[RowId, ...] = ()
    exempted: tuple[RowId, ...] = ()


@dataclass(frozen=True, slots=True)
class DealInteractionRow:
    deal_id: RowId
    interactions: int
    exposure: timedelta


@dataclass(frozen=True, slots=True)
class InteractionPart:
    """The interaction-frequency part and the numbers behind it."""

    score: float | None
    interactions: int
    deal_weeks: float
    target_per_deal_week: float
    deals: tuple[DealInteractionRow, ...]
    exempted: tuple[RowId, ...] = ()

    @property
    def per_deal_week(self) -> float | None:
        return None if self.deal_weeks <= 0 else self.interactions / self.deal_weeks


@dataclass(frozen=True, slots=True)
class HealthScore:
    """A rep's health: the score, whether it needs a manager, and every part for drill-down.

    ``weights`` are the effective weights after normalising over the parts that had data.
    """

    score: float | None
    needs_attention: bool
    threshold: float
    weights: dict[str, float]
    dwell: DwellPart
    tasks: TaskPart
    interactions: InteractionPart
    message: Message

    @property
    def parts(self) -> dict[str, float | None]:
        return {
            "dwell_deviation": self.dwell.score,
            "task_on_time": self.tasks.score,
            "interaction_frequency": self.interactions.score,
        }

    @property
    def weakest(self) -> str | None:
        """The key of the lowest-scoring part that had data (where coaching should start)."""
        scored = [(score, key) for key, score in self.parts.items() if score is not None]
        return min(scored)[1] if scored else None


def effective_dwell(
    entered_at: datetime, now: datetime, exemptions: Iterable[Exemption]
) -> timedelta:
    """Time in the stage up to ``now`` minus the time it was exempted."""
    require_aware(entered_at, "stage_entered_at")
    require_aware(now, "now")
    total = max(now - entered_at, timedelta(0))
    if not exemptions:  # most deals: nothing to take out
        return total
    return total - exempted_time(exemptions, entered_at, now)


def dwell_deal_score(ratio: float, zero_at: float = _DEFAULTS.dwell_zero_at) -> float:
    """100 within target (``ratio <= 1``), linearly down to 0 at ``ratio = zero_at``."""
    if ratio <= 1.0:
        return 100.0
    return clamp_score(100.0 * (zero_at - ratio) / (zero_at - 1.0))


def dwell_part(
    deals: Sequence[OpenDeal], *, now: datetime, zero_at: float = _DEFAULTS.dwell_zero_at
) -> DwellPart:
    require_aware(now, "now")
    rows: list[DealDwellRow] = []
    exempted: list[RowId] = []
    without_target: list[RowId] = []
    for deal in deals:
        if deal.exemptions and any(e.active_at(now) for e in deal.exemptions):
            exempted.append(deal.deal_id)
            continue
        if deal.target_dwell is None or deal.target_dwell <= timedelta(0):
            without_target.append(deal.deal_id)
            continue
        dwell = effective_dwell(deal.stage_entered_at, now, deal.exemptions)
        ratio = dwell / deal.target_dwell
        rows.append(
            DealDwellRow(
                deal_id=deal.deal_id,
                stage=deal.stage,
                dwell=dwell,
                target=deal.target_dwell,
                ratio=ratio,
                score=dwell_deal_score(ratio, zero_at),
            )
        )
    score = clamp_score(math.fsum(r.score for r in rows) / len(rows)) if rows else None
    return DwellPart(score, tuple(rows), tuple(exempted), tuple(without_target))


def task_part(tasks: Sequence[TaskRecord], *, window: Window) -> TaskPart:
    """On-time completion of the tasks due inside ``window`` (its end is "now")."""
    on_time: list[RowId] = []
    late: list[RowId] = []
    missed: list[RowId] = []
    exempted: list[RowId] = []
    for task in tasks:
        require_aware(task.due_at, "task due_at")
        if not window.contains(task.due_at):
            continue
        if any(e.active_at(task.due_at) for e in task.exemptions):
            exempted.append(task.task_id)
        elif task.completed_at is not None and task.completed_at <= task.due_at:
            on_time.append(task.task_id)
        elif task.completed_at is not None and task.completed_at < window.end:
            late.append(task.task_id)
        else:
            missed.append(task.task_id)
    rate = Rate(
        len(on_time), len(on_time) + len(late) + len(missed), tuple(on_time), (*late, *missed)
    )
    value = rate.value
    score = None if value is None else clamp_score(100.0 * value)
    return TaskPart(score, rate, tuple(late), tuple(missed), tuple(exempted))


def task_on_time_rate(tasks: Sequence[TaskRecord], *, window: Window) -> Rate:
    """The task on-time yardstick: tasks due in ``window`` done by their due time / due."""
    return task_part(tasks, window=window).rate


def interaction_part(
    deals: Sequence[OpenDeal],
    *,
    window: Window,
    target_per_deal_week: float = _DEFAULTS.interactions_per_deal_week,
    min_exposure: timedelta = _DEFAULTS.min_exposure,
) -> InteractionPart:
    now = window.end
    rows: list[DealInteractionRow] = []
    exempted: list[RowId] = []
    for deal in deals:
        exemptions = deal.exemptions
        if exemptions and any(e.active_at(now) for e in exemptions):
            exempted.append(deal.deal_id)
            continue
        start = max(window.start, require_aware(deal.opened_at, "opened_at"))
        if start >= now:
            continue
        if not exemptions or not any(e.overlap(start, now) for e in exemptions):
            exposure = now - start  # most deals: a plain count
            count = deal.counted_since(window.start)
            if count is None:
                count = sum(1 for at in deal.customer_interactions if start <= at < now)
        else:
            exposure = (now - start) - exempted_time(exemptions, start, now)
            count = sum(
                1
                for at in deal.customer_interactions
                if start <= at < now and not any(e.active_at(at) for e in exemptions)
            )
        rows.append(DealInteractionRow(deal.deal_id, count, exposure))
    total_exposure = sum((r.exposure for r in rows), timedelta(0))
    interactions = sum(r.interactions for r in rows)
    deal_weeks = total_exposure / _WEEK
    if total_exposure < min_exposure or total_exposure <= timedelta(0):
        score = None
    else:
        score = clamp_score(100.0 * min(1.0, interactions / deal_weeks / target_per_deal_week))
    return InteractionPart(
        score, interactions, deal_weeks, target_per_deal_week, tuple(rows), tuple(exempted)
    )


def _fmt(score: float | None) -> str:
    return "—" if score is None else str(shown_score(score))


def rep_health(
    *,
    deals: Sequence[OpenDeal],
    tasks: Sequence[TaskRecord],
    now: datetime,
    config: HealthConfig | None = None,
) -> HealthScore:
    """Score one rep at ``now`` from their open deals and their tasks."""
    config = config or _DEFAULTS
    require_aware(now, "now")
    window = Window.ending(now, config.window)
    dwell = dwell_part(deals, now=now, zero_at=config.dwell_zero_at)
    task = task_part(tasks, window=window)
    inter = interaction_part(
        deals,
        window=window,
        target_per_deal_week=config.interactions_per_deal_week,
        min_exposure=config.min_exposure,
    )
    base = config.normalised_weights()
    scores = {
        "dwell_deviation": dwell.score,
        "task_on_time": task.score,
        "interaction_frequency": inter.score,
    }
    present = {key: base[key] for key, score in scores.items() if score is not None}
    weights: dict[str, float] = {}
    score: float | None = None
    if present and math.fsum(present.values()) > 0:
        weights = dict(zip(present, normalise_weights(list(present.values())), strict=True))
        score = clamp_score(math.fsum(weights[key] * (scores[key] or 0.0) for key in weights))
    needs_attention = score is not None and shown_score(score) < config.threshold
    if score is None:
        message = Message("健康度:数据不足", "Health: not enough data")
    else:
        verdict_zh = f"低于 {config.threshold:g},需要主管介入" if needs_attention else "正常"
        verdict_en = (
            f"below {config.threshold:g}, needs a manager" if needs_attention else "healthy"
        )
        message = Message(
            f"健康度 {shown_score(score)}({verdict_zh}):阶段停留 {_fmt(dwell.score)}、"
            f"任务及时 {_fmt(task.score)}、客户互动 {_fmt(inter.score)}",
            f"Health {shown_score(score)} ({verdict_en}): stage dwell {_fmt(dwell.score)}, "
            f"tasks on time {_fmt(task.score)}, customer interaction {_fmt(inter.score)}",
        )
    return HealthScore(
        score=score,
        needs_attention=needs_attention,
        threshold=config.threshold,
        weights=weights,
        dwell=dwell,
        tasks=task,
        interactions=inter,
        message=message,
    )
