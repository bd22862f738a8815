"""A stored weekly report as the page and the PDF show it, in the reader's language.

Only the stored figures are read (`WeeklyReport.figures`): the page of a past week shows what
was reported then, whatever the data says now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from lodestar.core.scoring import Message
from lodestar.i18n import localized
from lodestar.insights.models import ReportTrigger, WeeklyReport

__all__ = ["ReportView", "report_view"]

PART_LABELS = {
    "dwell_deviation": _("Dwell"),
    "task_on_time": _("On time"),
    "interaction_frequency": _("Interaction"),
}
RISK_LABELS = {
    "silence": _("Silent"),
    "stale": _("Stalled"),
    "backward_moves": _("Moved backward"),
    "dwell_overrun": _("Past stage target"),
}
SUGGESTION_LABELS = {
    "health": _("Funnel health"),
    "handbook": _("Handbook"),
    "scorecard": _("Scorecard"),
}


def _say(value: Any) -> str:
    if isinstance(value, dict):
        return localized(Message(str(value.get("zh", "")), str(value.get("en") or "")))
    return str(value or "")


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass(frozen=True)
class RepRow:
    id: int
    name: str
    score: float | None
    previous: float | None
    below: bool
    fell: bool
    parts: list[tuple[str, float | None]]
    reasons: list[str]


@dataclass(frozen=True)
class TrendBar:
    week: str
    date: dt.date
    score: float | None
    height: int  # percent of the chart's height, a multiple of 5


@dataclass(frozen=True)
class DealRow:
    id: int
    name: str
    account: str
    owner: str
    amount: Decimal | None
    currency: str
    stage: str
    reason: str
    hours: float | None = None
    exempted: bool = False


@dataclass(frozen=True)
class StageRow:
    stage: str
    deals: int
    amount: Decimal | None
    weight: float
    weighted: Decimal | None


@dataclass(frozen=True)
class SuggestionRow:
    name: str
    kind: str
    label: str
    text: str


@dataclass
class ReportView:
    report: WeeklyReport
    team_name: str
    manager: str
    week: str
    period_start: dt.datetime
    period_end: dt.datetime
    generated_at: dt.datetime
    by_schedule: bool
    threshold: float
    team_health: float | None
    health_previous: float | None
    health_delta: float | None
    reps: list[RepRow]
    below: list[RepRow]
    trend: list[TrendBar]
    stuck: list[DealRow]
    silent: list[DealRow]
    risks: list[tuple[str, int]]
    penetration: float | None
    penetration_previous: float | None
    penetration_delta: float | None
    penetration_by_rep: list[tuple[str, float | None]]
    currency: str
    pipeline: Decimal | None
    pipeline_amount: Decimal | None
    pipeline_deals: int
    pipeline_previous: Decimal | None
    pipeline_delta: Decimal | None
    pipeline_percent: float | None
    pipeline_by_stage: list[StageRow]
    other_currency_deals: int
    unknown_stage_deals: int
    coaching: list[SuggestionRow] = field(default_factory=list)


def _rep(row: dict[str, Any]) -> RepRow:
    parts = row.get("parts") or {}
    return RepRow(
        id=int(row["id"]),
        name=str(row.get("name", "")),
        score=row.get("score"),
        previous=row.get("previous"),
        below=bool(row.get("below")),
        fell=bool(row.get("fell")),
        parts=[(str(label), parts.get(key)) for key, label in PART_LABELS.items()],
        reasons=[_say(reason) for reason in row.get("reasons") or []],
    )


def _deal(row: dict[str, Any]) -> DealRow:
    return DealRow(
        id=int(row["id"]),
        name=str(row.get("name", "")),
        account=str(row.get("account", "")),
        owner=str(row.get("owner", "")),
        amount=_decimal(row.get("amount")),
        currency=str(row.get("currency", "CNY")),
        stage=_say(row.get("stage", "")),
        reason=_say(row.get("reason", "")),
        hours=row.get("hours"),
        exempted=bool(row.get("exempted")),
    )


def _trend(points: list[dict[str, Any]]) -> list[TrendBar]:
    return [
        TrendBar(
            week=str(p.get("week", "")),
            date=dt.date.fromisoformat(str(p["date"])),
            score=p.get("score"),
            # In steps of 5 (the style sheet has a class per step; no inline styles).
            height=max(5, min(100, 5 * round(p["score"] / 5))) if p.get("score") is not None else 0,
        )
        for p in points
    ]


def report_view(report: WeeklyReport) -> ReportView:
    """The report's stored figures, worded in the active language."""
    f = report.figures
    health = f.get("health") or {}
    reps = [_rep(row) for row in health.get("reps") or []]
    penetration = f.get("penetration") or {}
    pipeline = f.get("pipeline") or {}
    risks = f.get("risks") or {}
    tz = report.organization.tz
    return ReportView(
        report=report,
        team_name=str((f.get("team") or {}).get("name", "")),
        manager=str((f.get("team") or {}).get("manager", "")),
        week=report.week,
        period_start=report.period_start.astimezone(tz),
        period_end=report.period_end.astimezone(tz),
        generated_at=report.generated_at.astimezone(tz),
        by_schedule=report.trigger == ReportTrigger.SCHEDULE,
        threshold=float(f.get("threshold", 70)),
        team_health=health.get("team"),
        health_previous=health.get("previous"),
        health_delta=health.get("delta"),
        reps=reps,
        below=[rep for rep in reps if rep.below],
        trend=_trend(health.get("trend") or []),
        stuck=[_deal(row) for row in f.get("stuck") or []],
        silent=[_deal(row) for row in f.get("silent") or []],
        risks=[(str(label), int(risks.get(kind, 0))) for kind, label in RISK_LABELS.items()],
        penetration=penetration.get("figure"),
        penetration_previous=penetration.get("previous"),
        penetration_delta=penetration.get("delta"),
        penetration_by_rep=[
            (str(row.get("name", "")), row.get("figure")) for row in penetration.get("by_rep") or []
        ],
        currency=str(pipeline.get("currency", "CNY")),
        pipeline=_decimal(pipeline.get("weighted")),
        pipeline_amount=_decimal(pipeline.get("amount")),
        pipeline_deals=int(pipeline.get("deals", 0)),
        pipeline_previous=_decimal(pipeline.get("previous")),
        pipeline_delta=_decimal(pipeline.get("delta")),
        pipeline_percent=pipeline.get("percent"),
        pipeline_by_stage=[
            StageRow(
                stage=_say(row.get("stage")),
                deals=int(row.get("deals", 0)),
                amount=_decimal(row.get("amount")),
                weight=float(row.get("weight", 0)),
                weighted=_decimal(row.get("weighted")),
            )
            for row in pipeline.get("by_stage") or []
        ],
        other_currency_deals=int(pipeline.get("other_currency_deals", 0)),
        unknown_stage_deals=int(pipeline.get("unknown_stage_deals", 0)),
        coaching=[
            SuggestionRow(
                name=str(row.get("name", "")),
                kind=str(row.get("kind", "")),
                label=str(SUGGESTION_LABELS.get(str(row.get("kind")), "")),
                text=_say(row.get("message")),
            )
            for row in f.get("coaching") or []
        ],
    )
