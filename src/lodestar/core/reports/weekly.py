"""The weekly manager report's maths: weeks and their due moments, the weighted pipeline, the
health breakdown in words, changes against last week and the coaching suggestions.

**Weeks.** A report belongs to one ISO week (``2026-W48``) of the organization's calendar and
is due at the schedule's moment inside that week (default Monday 08:00, local time). It covers
the seven days before that moment — or before the moment it was made, when someone made it
earlier — so a Monday report reads as "last week" and a Friday report as "this week".

**Weighted pipeline.** ``Σ amount × stage weight`` over the open deals, the stage weight being
the playbook's ``forecast_weight`` (its ``weight``, else its ``probability``). Amounts in
another currency than the playbook's are counted, not added; a stage the playbook does not
know weighs nothing and is counted too. This is not a forecast: it is the pipeline weighted by
stage, and it is named so wherever it is shown.

**Suggestions.** Each rep yields at most one suggestion of each kind, ranked:

- ``health`` (a rep under the health threshold): go over the weakest part, with its figures;
  priority ``100 + (threshold - score)``;
- ``handbook`` (a handbook was pushed to the rep in the period after a run of low-scored
  communications): sit in on a call; priority ``80 + number of handbooks``;
- ``scorecard`` (at least two scored communications, their mean under the scorecard's
  threshold): the criterion missed most, and what to practise; priority
  ``50 + (threshold - mean)``.

Ties go to the rep's name, then the kind. The top ``limit`` are kept.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from lodestar.core.errors import LodestarError
from lodestar.core.scoring.common import Message, RowId, require_aware, shown_score
from lodestar.core.scoring.health import HealthScore

__all__ = [
    "CRITERION_WORDS",
    "PART_NAMES",
    "Change",
    "HealthBreakdown",
    "InvalidSchedule",
    "InvalidWeek",
    "IsoWeek",
    "PipelineDeal",
    "PipelineFigure",
    "RepWeek",
    "ReportError",
    "StageLine",
    "Suggestion",
    "breakdown_of",
    "change",
    "coaching_suggestions",
    "due_at",
    "health_reasons",
    "mean_score",
    "report_period",
    "week_due",
    "weighted_pipeline",
]

WEEK = timedelta(days=7)
_CENT = Decimal("0.01")


class ReportError(LodestarError):
    """Base class of the report maths' errors."""


class InvalidWeek(ReportError):
    """A week that is not written ``YYYY-Www`` or does not exist (week 53 of a 52-week year)."""


class InvalidSchedule(ReportError):
    """A weekday outside 1–7 or an hour outside 0–23."""


# --- weeks -------------------------------------------------------------------------------------

_WEEK_TEXT = re.compile(r"^\s*(\d{4})-?[Ww](\d{1,2})\s*$")


@dataclass(frozen=True, slots=True, order=True)
class IsoWeek:
    """An ISO 8601 week: ``IsoWeek(2026, 48)`` is ``2026-W48``, Monday 23 November 2026."""

    year: int
    week: int

    def __post_init__(self) -> None:
        # The years dates are accepted in everywhere (1900–9999), a week short of each end so
        # a week before or after it still exists.
        if not 1900 <= self.year <= 9998:
            raise InvalidWeek(f"the year of a week lies within 1900–9998, got {self.year}")
        try:
            date.fromisocalendar(self.year, self.week, 1)
        except ValueError as exc:
            raise InvalidWeek(f"{self.year} has no ISO week {self.week}") from exc

    def __str__(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """``2026-W48`` (also ``2026W48``, ``2026-w48``); anything else is an `InvalidWeek`."""
        found = _WEEK_TEXT.match(text)
        if found is None:
            raise InvalidWeek(f"'{text}' is not a week; write it as YYYY-Www, e.g. 2026-W48")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        year, week, _weekday = day.isocalendar()
        return cls(year, week)

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def day(self, weekday: int) -> date:
        return date.fromisocalendar(self.year, self.week, weekday)

    def shifted(self, weeks: int) -> IsoWeek:
        return IsoWeek.of(self.monday + timedelta(weeks=weeks))


def _check_schedule(weekday: int, hour: int) -> None:
    if not 1 <= weekday <= 7:
        raise InvalidSchedule(f"weekday must be 1 (Monday) to 7 (Sunday), got {weekday}")
    if not 0 <= hour <= 23:
        raise InvalidSchedule(f"hour must be 0 to 23, got {hour}")


def due_at(week: IsoWeek, *, weekday: int, hour: int, tz: tzinfo) -> datetime:
    """The moment the week's report is due: its `weekday` (1 = Monday) at `hour`, in `tz`."""
    _check_schedule(weekday, hour)
    return datetime.combine(week.day(weekday), time(hour), tzinfo=tz)


def week_due(now: datetime, *, weekday: int, hour: int, tz: tzinfo) -> IsoWeek | None:
    """The week whose report is due at `now`: the current week of `tz` once its moment has
    come, else None (the previous week's moment is a week gone: it is not caught up)."""
    require_aware(now, "now")
    week = IsoWeek.of(now.astimezone(tz).date())
    return week if now >= due_at(week, weekday=weekday, hour=hour, tz=tz) else None


def report_period(
    week: IsoWeek, *, weekday: int, hour: int, tz: tzinfo, now: datetime
) -> tuple[datetime, datetime]:
    """``(start, end)`` of the week's report made at `now`: the seven days before its due
    moment, or before `now` when made earlier. A week that has not begun is an `InvalidWeek`."""
    require_aware(now, "now")
    begins = datetime.combine(week.monday, time(), tzinfo=tz)
    if now < begins:
        raise InvalidWeek(f"{week} has not begun yet")
    end = min(due_at(week, weekday=weekday, hour=hour, tz=tz), now)
    return end - WEEK, end


# --- the weighted pipeline ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PipelineDeal:
    amount: Decimal
    stage: str
    currency: str


@dataclass(frozen=True, slots=True)
class StageLine:
    stage: str
    deals: int
    amount: Decimal
    weight: float
    weighted: Decimal


@dataclass(frozen=True, slots=True)
class PipelineFigure:
    """The weighted pipeline in `currency`; deals in other currencies and in stages the
    playbook does not know are counted apart."""

    currency: str
    weighted: Decimal
    amount: Decimal
    deals: int
    by_stage: tuple[StageLine, ...]
    other_currency_deals: int = 0
    unknown_stage_deals: int = 0


def weighted_pipeline(
    deals: Iterable[PipelineDeal], *, weights: Mapping[str, float], currency: str
) -> PipelineFigure:
    """``Σ amount × weight`` per stage (in the order of `weights`), rounded to the cent."""
    for stage, weight in weights.items():
        if not (0.0 <= weight <= 1.0) or math.isnan(weight):
            raise ReportError(f"stage {stage}: a weight lies within 0–1, got {weight}")
    sums: dict[str, list[Decimal]] = {stage: [] for stage in weights}
    other_currency = unknown = 0
    for deal in deals:
        if deal.currency != currency:
            other_currency += 1
        elif deal.stage not in sums:
            unknown += 1
        else:
            sums[deal.stage].append(deal.amount)
    lines = []
    for stage, amounts in sums.items():
        if not amounts:
            continue
        amount = sum(amounts, Decimal(0))
        factor = Decimal(repr(weights[stage]))
        lines.append(
            StageLine(
                stage=stage,
                deals=len(amounts),
                amount=amount,
                weight=weights[stage],
                weighted=(amount * factor).quantize(_CENT, rounding=ROUND_HALF_UP),
            )
        )
    return PipelineFigure(
        currency=currency,
        weighted=sum((line.weighted for line in lines), Decimal(0)),
        amount=sum((line.amount for line in lines), Decimal(0)),
        deals=sum(line.deals for line in lines),
        by_stage=tuple(lines),
        other_currency_deals=other_currency,
        unknown_stage_deals=unknown,
    )


# --- changes and means -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    """A figure against last week's: the difference and, where last week's is not zero, the
    relative change in percent. Without last week's figure both are None."""

    current: float | None
    previous: float | None
    delta: float | None
    percent: float | None


def change(current: float | Decimal | None, previous: float | Decimal | None) -> Change:
    now = None if current is None else float(current)
    before = None if previous is None else float(previous)
    if now is None or before is None:
        return Change(now, before, None, None)
    delta = now - before
    percent = None if before == 0 else 100.0 * delta / abs(before)
    return Change(now, before, delta, percent)


def mean_score(scores: Iterable[float | None]) -> float | None:
    """The mean of the scores that exist (None when none does)."""
    found = [s for s in scores if s is not None]
    return math.fsum(found) / len(found) if found else None


# --- health, broken down -----------------------------------------------------------------------

PART_NAMES: dict[str, Message] = {
    "dwell_deviation": Message("阶段停留", "stage dwell"),
    "task_on_time": Message("任务及时", "tasks on time"),
    "interaction_frequency": Message("客户互动", "customer interaction"),
}


@dataclass(frozen=True, slots=True)
class HealthBreakdown:
    """A rep's health with the numbers behind each part (what a manager asks "why?" about)."""

    score: float | None
    threshold: float
    dwell_score: float | None = None
    deals_scored: int = 0
    deals_over_target: int = 0
    mean_deviation: float | None = None
    task_score: float | None = None
    tasks_due: int = 0
    tasks_on_time: int = 0
    tasks_late: int = 0
    tasks_missed: int = 0
    interaction_score: float | None = None
    interactions: int = 0
    deal_weeks: float = 0.0
    interaction_target: float = 0.0

    @property
    def below(self) -> bool:
        return self.score is not None and shown_score(self.score) < self.threshold

    @property
    def parts(self) -> dict[str, float | None]:
        return {
            "dwell_deviation": self.dwell_score,
            "task_on_time": self.task_score,
            "interaction_frequency": self.interaction_score,
        }

    @property
    def weakest(self) -> str | None:
        scored = [(score, key) for key, score in self.parts.items() if score is not None]
        return min(scored)[1] if scored else None


def breakdown_of(health: HealthScore) -> HealthBreakdown:
    dwell, tasks, inter = health.dwell, health.tasks, health.interactions
    return HealthBreakdown(
        score=health.score,
        threshold=health.threshold,
        dwell_score=dwell.score,
        deals_scored=len(dwell.deals),
        deals_over_target=sum(1 for row in dwell.deals if row.ratio > 1.0),
        mean_deviation=dwell.mean_deviation,
        task_score=tasks.score,
        tasks_due=int(tasks.rate.denominator),
        tasks_on_time=int(tasks.rate.numerator),
        tasks_late=len(tasks.late),
        tasks_missed=len(tasks.missed),
        interaction_score=inter.score,
        interactions=inter.interactions,
        deal_weeks=inter.deal_weeks,
        interaction_target=inter.target_per_deal_week,
    )


def _part_detail(key: str, b: HealthBreakdown) -> Message:
    """The numbers behind one part, in words."""
    if key == "dwell_deviation":
        over = round(100 * (b.mean_deviation or 0.0))
        return Message(
            f"{b.deals_scored} 个商机中 {b.deals_over_target} 个超出阶段目标停留时长"
            f"(平均超出 {over}%)",
            f"{b.deals_over_target} of {b.deals_scored} deals past their stage's target time "
            f"(on average {over}% over)",
        )
    if key == "task_on_time":
        return Message(
            f"{b.tasks_due} 个到期任务中按时完成 {b.tasks_on_time} 个,逾期完成 {b.tasks_late} 个,"
            f"未完成 {b.tasks_missed} 个",
            f"{b.tasks_on_time} of {b.tasks_due} tasks due were done on time, {b.tasks_late} "
            f"late, {b.tasks_missed} not done",
        )
    rate = b.interactions / b.deal_weeks if b.deal_weeks > 0 else 0.0
    return Message(
        f"每个商机每周 {rate:.1f} 次客户互动(目标 {b.interaction_target:g} 次)",
        f"{rate:.1f} customer interactions per deal-week (target {b.interaction_target:g})",
    )


def _part_reason(key: str, b: HealthBreakdown) -> Message:
    name, detail = PART_NAMES[key], _part_detail(key, b)
    score = shown_score(b.parts[key] or 0.0)
    return Message(f"{name.zh} {score}:{detail.zh}", f"{name.en} {score}: {detail.en}")


def health_reasons(b: HealthBreakdown) -> tuple[Message, ...]:
    """Why a score is what it is: each part under the threshold (as shown), lowest first, with
    its figures; a score under the threshold with every part above it names its lowest part."""
    scored = sorted((s, k) for k, s in b.parts.items() if s is not None)
    low = [k for s, k in scored if shown_score(s) < b.threshold]
    if not low and b.below and scored:
        low = [scored[0][1]]
    return tuple(_part_reason(key, b) for key in low)


# --- coaching suggestions ----------------------------------------------------------------------

# What a missed scorecard criterion says about the communications, and what to practise.
CRITERION_WORDS: dict[str, tuple[Message, Message]] = {
    "minutes": (
        Message("没有按时上传合格纪要", "had no minutes uploaded in time"),
        Message("提醒会后及时上传纪要并写足要点", "ask for full minutes soon after each talk"),
    ),
    "knowledge_link": (
        Message("没有关联知识库条目", "had no knowledge entry linked"),
        Message("带着知识库条目准备下一次沟通", "prepare the next talk with a knowledge entry"),
    ),
    "next_followup": (
        Message("没有安排下次跟进", "had no next follow-up scheduled"),
        Message("每次沟通结束前约好下一步", "agree the next step before each talk ends"),
    ),
}


@dataclass(frozen=True, slots=True)
class RepWeek:
    """One rep's week, as the suggestions need it."""

    rep_id: RowId
    name: str
    health: HealthBreakdown | None = None
    communications: int = 0
    scorecard_mean: float | None = None
    missed: Mapping[str, int] | None = None  # criterion key → communications that missed it
    handbooks: tuple[str, ...] = ()  # titles of the handbooks pushed in the period


@dataclass(frozen=True, slots=True)
class Suggestion:
    rep_id: RowId
    name: str
    kind: str  # "health", "handbook" or "scorecard"
    priority: float
    message: Message


def _health_suggestion(rep: RepWeek) -> Suggestion | None:
    b = rep.health
    if b is None or not b.below or b.score is None:
        return None
    weakest = b.weakest
    if weakest is None:
        return None
    part, detail = PART_NAMES[weakest], _part_detail(weakest, b)
    score, health = shown_score(b.parts[weakest] or 0.0), shown_score(b.score)
    return Suggestion(
        rep.rep_id,
        rep.name,
        "health",
        100.0 + (b.threshold - b.score),
        Message(
            f"与{rep.name}一起复盘{part.zh}(该项 {score} 分,健康度 {health}):{detail.zh}",
            f"Go over {part.en} with {rep.name} ({part.en} {score}, health {health}): {detail.en}",
        ),
    )


def _handbook_suggestion(rep: RepWeek) -> Suggestion | None:
    if not rep.handbooks:
        return None
    zh = "、".join(f"《{t}》" for t in rep.handbooks)
    en = ", ".join(f"“{t}”" for t in rep.handbooks)
    return Suggestion(
        rep.rep_id,
        rep.name,
        "handbook",
        80.0 + len(rep.handbooks),
        Message(
            f"{rep.name}连续几次沟通得分偏低,系统已推送{zh}:陪访一次,看手册要点是否用上",
            f"{rep.name} was sent {en} after a run of low-scored communications: sit in on a "
            f"call and check it is being used",
        ),
    )


def _scorecard_suggestion(rep: RepWeek, threshold: float) -> Suggestion | None:
    mean = rep.scorecard_mean
    if rep.communications < 2 or mean is None or not mean < threshold:
        return None
    missed = {k: n for k, n in (rep.missed or {}).items() if n > 0 and k in CRITERION_WORDS}
    if not missed:
        return None
    key = max(sorted(missed), key=lambda k: missed[k])
    what, practise = CRITERION_WORDS[key]
    return Suggestion(
        rep.rep_id,
        rep.name,
        "scorecard",
        50.0 + (threshold - mean),
        Message(
            f"{rep.name}的 {rep.communications} 次沟通中有 {missed[key]} 次{what.zh}"
            f"(平均 {shown_score(mean)} 分):{practise.zh}",
            f"{missed[key]} of {rep.name}'s {rep.communications} communications {what.en} "
            f"(mean score {shown_score(mean)}): {practise.en}",
        ),
    )


def coaching_suggestions(
    reps: Sequence[RepWeek], *, scorecard_threshold: float, limit: int = 5
) -> list[Suggestion]:
    """The week's top coaching suggestions, highest priority first (see the module's doc)."""
    found: list[Suggestion] = []
    for rep in reps:
        for suggestion in (
            _health_suggestion(rep),
            _handbook_suggestion(rep),
            _scorecard_suggestion(rep, scorecard_threshold),
        ):
            if suggestion is not None:
                found.append(suggestion)
    found.sort(key=lambda s: (-s.priority, s.name, s.kind))
    return found[: max(limit, 0)]
