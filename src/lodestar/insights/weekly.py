"""The figures of one team's weekly report, composed from what the insights app already computes.

`weekly_figures` gathers, for the team's members and the period `[start, end)`:

- **health**: each rep's funnel health at `end` with its three parts and the numbers behind
  them (`rep_health_now`, the function the daily snapshots use), why each rep under the
  threshold is there (`lodestar.core.reports.health_reasons`), the team's mean, and its trend
  over the last `TREND_WEEKS` weeks from the daily snapshots (the last point is the mean above);
- **stuck deals** past their stage's target with their reasons (`team_stuck_deals`), and
  **silent deals** with the other risk patterns' counts (`deal_facts` → `deal_risks`);
- **action penetration** over the period (the yardstick of `insights.metrics`);
- the **weighted pipeline**: the open deals' amounts times their stage's `forecast_weight`
  (`lodestar.core.reports.weighted_pipeline`) — a weighted pipeline, not a forecast;
- the top **coaching suggestions** from health, communication scorecards and handbook pushes.

Everything is returned as JSON-ready values (texts in both languages, decimals as strings), so
the stored report shows the same figures whatever happens to the data afterwards. Comparisons
with last week read last week's stored report, never a recomputation.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Q

from lodestar.core.reports import (
    PipelineDeal,
    RepWeek,
    breakdown_of,
    change,
    coaching_suggestions,
    health_reasons,
    mean_score,
    weighted_pipeline,
)
from lodestar.core.reports.weekly import HealthBreakdown, IsoWeek
from lodestar.core.scoring import Message, deal_risks, shown_score
from lodestar.crm.models import Opportunity, OpportunityStatus
from lodestar.insights.facts import deal_facts
from lodestar.insights.health import rep_health_now
from lodestar.insights.metrics import MetricFilters, team_metric_report
from lodestar.insights.models import CommunicationScore, HandbookPush, HealthSnapshot
from lodestar.insights.policy import InsightsPolicy, Policies
from lodestar.insights.selectors import team_stuck_deals
from lodestar.org.models import Membership, Organization, Role, Team

__all__ = [
    "FIGURES_VERSION",
    "SILENT_SHOWN",
    "STUCK_SHOWN",
    "SUGGESTIONS_SHOWN",
    "TREND_WEEKS",
    "weekly_figures",
]

FIGURES_VERSION = 1
TREND_WEEKS = 8
STUCK_SHOWN = 10
SILENT_SHOWN = 10
SUGGESTIONS_SHOWN = 5


def _text(message: Message) -> dict[str, str]:
    return {"zh": message.zh, "en": message.en or message.zh}


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def weekly_figures(
    *,
    organization: Organization,
    team: Team,
    start: dt.datetime,
    end: dt.datetime,
    previous: dict[str, Any] | None,
) -> dict[str, Any]:
    """The report's figures for `team` over `[start, end)`; `previous` is last week's report's
    figures (None when there is none)."""
    policies = Policies(organization)
    policy = policies.of(team.pk)
    members = list(
        Membership.objects.filter(organization_id=organization.pk, team_id=team.pk)
        .select_related("user")
        .order_by("user__display_name", "user__username")
    )
    reps = {m.user_id: str(m.user) for m in members if m.role == Role.REP}
    health = _health(policies, reps, start, end)
    stuck = _stuck(organization, team, policy, end)
    silent, risk_counts = _risks(policy, team, end)
    penetration = _penetration(organization, team, reps, start, end)
    pipeline = _pipeline(policy, team)
    coaching = _coaching(policy, reps, health["breakdowns"], start, end)
    before = previous or {}
    health_before = (before.get("health") or {}).get("team")
    pipeline_before = (before.get("pipeline") or {}).get("weighted")
    penetration_before = (before.get("penetration") or {}).get("figure")
    return {
        "version": FIGURES_VERSION,
        "team": {
            "id": team.pk,
            "name": team.name,
            "manager": str(team.manager) if team.manager else "",
        },
        "threshold": policy.health.threshold,
        "health": {
            "team": health["team"],
            "previous": health_before,
            "delta": _round(change(health["team"], health_before).delta),
            "reps": health["rows"],
            "trend": health["trend"],
            "below": [row["id"] for row in health["rows"] if row["below"]],
        },
        "stuck": stuck,
        "silent": silent,
        "risks": risk_counts,
        "penetration": {
            **penetration,
            "previous": penetration_before,
            "delta": _round(change(penetration["figure"], penetration_before).delta),
        },
        "pipeline": {
            **pipeline,
            "previous": pipeline_before,
            "delta": _delta_money(pipeline["weighted"], pipeline_before),
            "percent": _round(
                change(
                    Decimal(pipeline["weighted"]),
                    Decimal(pipeline_before) if pipeline_before is not None else None,
                ).percent,
                1,
            ),
        },
        "coaching": coaching,
    }


def _delta_money(current: str, previous: str | None) -> str | None:
    if previous is None:
        return None
    return _money(Decimal(current) - Decimal(previous))


# --- health --------------------------------------------------------------------------------------


def _health(
    policies: Policies, reps: dict[int, str], start: dt.datetime, end: dt.datetime
) -> dict[str, Any]:
    scores = rep_health_now(policies=policies, rep_ids=set(reps), now=end) if reps else {}
    breakdowns = {rep_id: breakdown_of(score) for rep_id, score in scores.items()}
    trend, last_week = _trend(policies.organization, reps, end)
    rows = []
    for rep_id, name in reps.items():
        b = breakdowns[rep_id]
        before = last_week.get(rep_id)
        was_below = before is not None and shown_score(before) < b.threshold
        rows.append(
            {
                "id": rep_id,
                "name": name,
                "score": _round(b.score),
                "previous": _round(before),
                "below": b.below,
                "fell": b.below and not was_below,
                "weakest": b.weakest,
                "parts": {key: _round(value) for key, value in b.parts.items()},
                "figures": {
                    "deals_scored": b.deals_scored,
                    "deals_over_target": b.deals_over_target,
                    "tasks_due": b.tasks_due,
                    "tasks_on_time": b.tasks_on_time,
                    "tasks_late": b.tasks_late,
                    "tasks_missed": b.tasks_missed,
                    "interactions": b.interactions,
                    "deal_weeks": _round(b.deal_weeks),
                    "interaction_target": b.interaction_target,
                },
                "reasons": [_text(m) for m in health_reasons(b)] if b.below else [],
            }
        )
    # Lowest first (who needs a manager now), reps without a score last.
    rows.sort(key=lambda r: (r["score"] is None, r["score"] or 0.0, r["name"]))
    team = mean_score(b.score for b in breakdowns.values())
    if trend:
        trend[-1]["score"] = _round(team)
    return {"team": _round(team), "rows": rows, "trend": trend, "breakdowns": breakdowns}


def _trend(
    organization: Organization, reps: dict[int, str], end: dt.datetime
) -> tuple[list[dict[str, Any]], dict[int, float | None]]:
    """The team's mean health in each of the last `TREND_WEEKS` seven-day spans ending at
    `end` (each rep's last snapshot in the span), oldest first; and each rep's score of the
    span before the last (last week's)."""
    tz = organization.tz
    last_day = (end - dt.timedelta(microseconds=1)).astimezone(tz).date()
    ends = [last_day - dt.timedelta(weeks=k) for k in range(TREND_WEEKS - 1, -1, -1)]
    latest: dict[tuple[int, int], float | None] = {}
    for rep_id, day, score in (
        HealthSnapshot.objects.filter(
            organization_id=organization.pk,
            rep_id__in=list(reps),
            date__gt=ends[0] - dt.timedelta(days=7),
            date__lte=last_day,
        )
        .order_by("date")
        .values_list("rep_id", "date", "score")
    ):
        span = next(i for i, span_end in enumerate(ends) if day <= span_end)
        latest[(span, rep_id)] = score
    trend = [
        {
            "week": str(IsoWeek.of(span_end)),
            "date": span_end.isoformat(),
            "score": _round(mean_score(latest.get((i, rep_id)) for rep_id in reps)),
        }
        for i, span_end in enumerate(ends)
    ]
    last_week = {rep_id: latest.get((len(ends) - 2, rep_id)) for rep_id in reps}
    return trend, last_week


# --- stuck and silent deals ----------------------------------------------------------------------


def _deal_row(deal: Opportunity) -> dict[str, Any]:
    return {
        "id": deal.pk,
        "name": deal.name,
        "account": deal.account.name if deal.account_id else "",
        "owner": str(deal.owner),
        "amount": _money(deal.amount),
        "currency": deal.currency,
    }


def _stuck(
    organization: Organization, team: Team, policy: InsightsPolicy, end: dt.datetime
) -> list[dict[str, Any]]:
    rows = []
    for deal, reason in team_stuck_deals(
        organization=organization, team_id=team.pk, now=end, limit=STUCK_SHOWN
    ):
        rows.append(
            {
                **_deal_row(deal),
                "stage": _text(policy.stage_names.get(deal.stage_key, Message(deal.stage_key, ""))),
                "dwell_hours": _round(reason.dwell.total_seconds() / 3600, 1),
                "target_hours": _round(reason.target.total_seconds() / 3600, 1),
                "ratio": _round(reason.ratio, 2),
                "exempted": reason.exempted,
                "reason": _text(reason.message),
            }
        )
    return rows


def _risks(
    policy: InsightsPolicy, team: Team, end: dt.datetime
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The silent deals (longest silence first) and how many deals each risk pattern holds."""
    facts = deal_facts(policy=policy, deal_q=Q(team_id=team.pk), now=end)
    counts: dict[str, int] = defaultdict(int)
    silent: list[tuple[float, int, Message]] = []
    for deal_id, item in facts.items():
        for finding in deal_risks(item.risk_input(policy), now=end, config=policy.risks):
            if finding.exempted:
                continue
            counts[finding.kind] += 1
            if finding.kind == "silence":
                silent.append((finding.figures.get("hours", 0.0), deal_id, finding.message))
    silent.sort(key=lambda row: (-row[0], row[1]))
    shown = silent[:SILENT_SHOWN]
    deals = Opportunity.objects.select_related("account", "owner").in_bulk(
        [d for _h, d, _m in shown]
    )
    rows = [
        {**_deal_row(deals[deal_id]), "hours": _round(hours, 1), "reason": _text(message)}
        for hours, deal_id, message in shown
        if deal_id in deals
    ]
    return rows, dict(counts)


# --- penetration and pipeline --------------------------------------------------------------------


def _penetration(
    organization: Organization,
    team: Team,
    reps: dict[int, str],
    start: dt.datetime,
    end: dt.datetime,
) -> dict[str, Any]:
    tz = organization.tz
    report = team_metric_report(
        organization=organization,
        team_id=team.pk,
        name="action_penetration",
        filters=MetricFilters(
            team_id=team.pk,
            date_from=start.astimezone(tz).date(),
            date_to=end.astimezone(tz).date(),
        ),
        now=end,
    )
    return {
        "figure": _round(report.figure),
        "numerator": report.numerator,
        "denominator": report.denominator,
        "by_rep": [
            {"id": rep_id, "name": name, "figure": _round(report.by_rep.get(rep_id))}
            for rep_id, name in reps.items()
            if rep_id in report.by_rep
        ],
    }


def _pipeline(policy: InsightsPolicy, team: Team) -> dict[str, Any]:
    playbook = policy.playbook
    stages = [s for s in playbook.stages if s.terminal is None] if playbook else []
    currency = playbook.currency if playbook else "CNY"
    deals = [
        PipelineDeal(amount or Decimal(0), stage, deal_currency)
        for amount, stage, deal_currency in Opportunity.objects.filter(
            organization_id=team.organization_id, team_id=team.pk, status=OpportunityStatus.OPEN
        ).values_list("amount", "stage_key", "currency")
    ]
    figure = weighted_pipeline(
        deals, weights={s.key: s.forecast_weight for s in stages}, currency=currency
    )
    names = {s.key: Message(s.name.zh, s.name.en or s.name.zh) for s in stages}
    return {
        "currency": figure.currency,
        "weighted": _money(figure.weighted),
        "amount": _money(figure.amount),
        "deals": figure.deals,
        "other_currency_deals": figure.other_currency_deals,
        "unknown_stage_deals": figure.unknown_stage_deals,
        "by_stage": [
            {
                "stage": _text(names[line.stage]),
                "deals": line.deals,
                "amount": _money(line.amount),
                "weight": line.weight,
                "weighted": _money(line.weighted),
            }
            for line in figure.by_stage
        ],
    }


# --- coaching ------------------------------------------------------------------------------------


def _coaching(
    policy: InsightsPolicy,
    reps: dict[int, str],
    breakdowns: dict[int, HealthBreakdown],
    start: dt.datetime,
    end: dt.datetime,
) -> list[dict[str, Any]]:
    org_id = policy.organization_id
    scores: dict[int, list[float]] = defaultdict(list)
    missed: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for rep_id, score, criteria in CommunicationScore.objects.filter(
        organization_id=org_id,
        rep_id__in=list(reps),
        occurred_at__gte=start,
        occurred_at__lt=end,
    ).values_list("rep_id", "score", "criteria"):
        scores[rep_id].append(score)
        for criterion in criteria or []:
            if isinstance(criterion, dict) and not criterion.get("met"):
                missed[rep_id][str(criterion.get("key", ""))] += 1
    handbooks: dict[int, list[str]] = defaultdict(list)
    for push in HandbookPush.objects.filter(
        organization_id=org_id, rep_id__in=list(reps), pushed_at__gte=start, pushed_at__lt=end
    ).select_related("handbook"):
        title = push.handbook.title if push.handbook else push.handbook_key
        title = title.strip('《》“”"')
        if title not in handbooks[push.rep_id]:
            handbooks[push.rep_id].append(title)
    weeks = [
        RepWeek(
            rep_id=rep_id,
            name=name,
            health=breakdowns.get(rep_id),
            communications=len(scores.get(rep_id, [])),
            scorecard_mean=mean_score(scores.get(rep_id, [])),
            missed=dict(missed.get(rep_id, {})),
            handbooks=tuple(handbooks.get(rep_id, [])),
        )
        for rep_id, name in reps.items()
    ]
    return [
        {"rep_id": s.rep_id, "name": s.name, "kind": s.kind, "message": _text(s.message)}
        for s in coaching_suggestions(
            weeks, scorecard_threshold=policy.scorecard.threshold, limit=SUGGESTIONS_SHOWN
        )
    ]
