"""Read models of the pages: each builder composes the apps' selectors for one page.

Views call exactly one of these (or one service) and render the result. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils import timezone

from lodestar.automation.models import Task
from lodestar.automation.selectors import TaskFilters, task_list_for
from lodestar.core.rules import CompiledPlaybook, GateResult
from lodestar.core.rules.compiler import UnknownStage
from lodestar.core.rules.scope import event_type_names
from lodestar.crm.models import (
    Attachment,
    AttachmentKind,
    Contact,
    Opportunity,
    OpportunityStatus,
    StageTransition,
)
from lodestar.crm.selectors import OpportunityFilters, access_opportunity, opportunity_list
from lodestar.errors import ApplicationError
from lodestar.events.models import Event
from lodestar.gates.context import deal_context
from lodestar.gates.services import opportunity_gate
from lodestar.i18n import localized
from lodestar.insights.models import ExemptionReason
from lodestar.insights.selectors import OwnHealth, TrendPoint, own_health
from lodestar.org.models import User
from lodestar.org.selectors import actor_of
from lodestar.playbooks.selectors import compiled_for_version, playbook_for_deal, published_playbook
from lodestar.web.criteria import (
    CriterionControls,
    FieldInput,
    criterion_controls,
    deal_field_inputs,
)
from lodestar.web.labels import source_name
from lodestar.web.signals import DealSignals, add_stuck_reasons, deal_signals

__all__ = [
    "DealPage",
    "StageView",
    "TodayDeals",
    "TodayPage",
    "TrendMark",
    "deal_page",
    "today_deals",
    "today_page",
    "trend_marks",
]

# How many deals the rep's page explains in full (gate checklist, risks) before "more …".
ATTENTION_LIMIT = 6
STUCK_REASONS = 3
# Candidates looked at to find them: the deals longest in their stage.
ATTENTION_CANDIDATES = 12
TASKS_SHOWN = 30
TIMELINE_LIMIT = 60


@dataclass(frozen=True)
class StageView:
    key: str
    name: str
    probability: float
    terminal: str | None
    target_dwell: dt.timedelta | None


@dataclass(frozen=True)
class CheckItem:
    id: str
    label: str
    met: bool
    explanation: str
    # What satisfies it, on the deal page (`lodestar.web.criteria`); None elsewhere.
    controls: CriterionControls | None = None


@dataclass
class DealSummary:
    """A deal as the rep's page and the board show it."""

    deal: Opportunity
    stage_name: str
    checklist: list[CheckItem] = field(default_factory=list)
    signals: DealSignals = field(default_factory=DealSignals)
    contacts: list[Contact] = field(default_factory=list)
    next_stage: StageView | None = None

    @property
    def unmet(self) -> list[CheckItem]:
        return [item for item in self.checklist if not item.met]


def stage_views(playbook: CompiledPlaybook | None) -> list[StageView]:
    if playbook is None:
        return []
    return [
        StageView(
            key=stage.key,
            name=localized(stage.name),
            probability=stage.probability,
            terminal=stage.terminal,
            target_dwell=stage.target_dwell,
        )
        for stage in playbook.playbook.stages
    ]


def checklist_of(gate: GateResult | None) -> list[CheckItem]:
    if gate is None:
        return []
    return [
        CheckItem(
            id=result.id,
            label=localized(result.label),
            met=result.met,
            explanation=localized(result.explanation),
        )
        for result in gate.results
    ]


def _gate_or_none(
    deal: Opportunity, now: dt.datetime, playbook: CompiledPlaybook | None = None
) -> GateResult | None:
    """The deal's exit checklist; with `playbook` (the one its team follows, looked up once
    per page) the published version is not looked up again for every deal."""
    if playbook is not None:
        context = deal_context(opportunity=deal, now=now, playbook=playbook.playbook)
        try:
            return playbook.evaluate_gate(context)
        except UnknownStage:
            return None
    try:
        return opportunity_gate(opportunity=deal, now=now)
    except ApplicationError:  # no published playbook, or a stage the playbook lost
        return None


class PlaybookCache:
    """The compiled playbook per team, looked up once per request."""

    def __init__(self, organization_id: int) -> None:
        self.organization_id = organization_id
        self._by_team: dict[int | None, CompiledPlaybook | None] = {}

    def for_team(self, team_id: int | None) -> CompiledPlaybook | None:
        if team_id not in self._by_team:
            self._by_team[team_id] = published_playbook(
                organization_id=self.organization_id, team_id=team_id
            )
        return self._by_team[team_id]

    def for_deals(self, deals: Iterable[Opportunity]) -> dict[int, CompiledPlaybook | None]:
        return {deal.pk: self.for_team(deal.team_id) for deal in deals}


def _stage_name(playbook: CompiledPlaybook | None, key: str) -> str:
    if playbook is None:
        return key
    try:
        return localized(playbook.playbook.stage(key).name)
    except KeyError:
        return key


def _next_stage(playbook: CompiledPlaybook | None, key: str) -> StageView | None:
    stages = [s for s in stage_views(playbook) if s.terminal is None]
    keys = [s.key for s in stages]
    if key not in keys:
        return None
    position = keys.index(key)
    if position + 1 < len(stages):
        return stages[position + 1]
    won = [s for s in stage_views(playbook) if s.terminal == "won"]
    return won[0] if won else None


def attachment_kind_choices(playbook: CompiledPlaybook | None) -> list[tuple[str, str]]:
    """Kinds a rep can upload: the playbook's own, else the built-in list."""
    if playbook is not None and playbook.playbook.attachment_kinds:
        return [(kind.key, localized(kind.name)) for kind in playbook.playbook.attachment_kinds]
    return [(str(value), str(label)) for value, label in AttachmentKind.choices]


def _playbook_of(deal: Opportunity) -> CompiledPlaybook | None:
    version = playbook_for_deal(deal)
    return compiled_for_version(version) if version is not None else None


def attachment_kinds_for(deal: Opportunity) -> list[tuple[str, str]]:
    return attachment_kind_choices(_playbook_of(deal))


def exemption_reason_choices() -> list[tuple[str, str]]:
    return [(str(value), str(label)) for value, label in ExemptionReason.choices]


# --- the rep's 今日 page -------------------------------------------------------------------------


@dataclass
class TodayPage:
    """The rep's tasks; the deals that need action come next as their own fragment."""

    now: dt.datetime
    overdue: list[Task]
    due_today: list[Task]
    upcoming: list[Task]
    overdue_total: int
    open_deals: int
    has_playbook: bool
    # The rep's own funnel health (None for others, or before the first snapshot).
    health: OwnHealth | None = None

    @property
    def trend_marks(self) -> list[TrendMark]:
        return trend_marks(self.health.trend) if self.health else []


@dataclass(frozen=True)
class TrendMark:
    """One week's point of the health sparkline, in its SVG box (TREND_BOX)."""

    x: float
    y: float
    score: float
    date: dt.date


# The sparkline's SVG view box: width, height; scores 0–100 run bottom to top.
TREND_BOX = (220, 48)


def trend_marks(trend: Iterable[TrendPoint]) -> list[TrendMark]:
    """The trend's scored weeks placed in the sparkline's box, oldest on the left."""
    points = list(trend)
    width, height = TREND_BOX
    step = (width - 8) / max(len(points) - 1, 1)
    return [
        TrendMark(
            x=round(4 + index * step, 1),
            y=round(height - 4 - point.score / 100 * (height - 8), 1),
            score=point.score,
            date=point.date,
        )
        for index, point in enumerate(points)
        if point.score is not None and point.date is not None
    ]


@dataclass
class TodayDeals:
    now: dt.datetime
    deals: list[DealSummary]
    attachment_kinds: list[tuple[str, str]]
    exemption_reasons: list[tuple[str, str]]


def _end_of_local_day(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + dt.timedelta(days=1)


def _my_open_deals(user: User) -> Any:
    return opportunity_list(
        user=user, filters=OpportunityFilters(status=OpportunityStatus.OPEN, owner_id=user.pk)
    )


def today_page(*, user: User, now: dt.datetime) -> TodayPage:
    """The rep's day: tasks overdue, due today and in the next two days.

    Dates are judged in the active time zone (the organization's, set by the page).
    """
    actor = actor_of(user=user)
    end_of_day = _end_of_local_day(now)
    tasks = task_list_for(user=user, filters=TaskFilters(mine_only=True))
    overdue = list(tasks.filter(due_at__lt=now)[: TASKS_SHOWN + 1])
    overdue_total = len(overdue)  # TASKS_SHOWN + 1 reads "more than TASKS_SHOWN"
    overdue = overdue[:TASKS_SHOWN]
    due_today = list(tasks.filter(due_at__gte=now, due_at__lt=end_of_day)[:TASKS_SHOWN])
    upcoming = list(
        tasks.filter(due_at__gte=end_of_day, due_at__lt=end_of_day + dt.timedelta(days=2))[:10]
    )
    has_playbook = actor is not None and (
        published_playbook(organization_id=actor.organization_id, team_id=actor.team_id) is not None
    )
    return TodayPage(
        now=now,
        overdue=overdue,
        due_today=due_today,
        upcoming=upcoming,
        overdue_total=overdue_total,
        open_deals=_my_open_deals(user).count(),
        has_playbook=has_playbook,
        health=own_health(user=user, now=now),
    )


def today_deals(*, user: User, now: dt.datetime) -> TodayDeals:
    """The rep's deals that need an action: risks first, then those with a task due today,
    then the longest in their stage; each with what its gate still needs."""
    actor = actor_of(user=user)
    end_of_day = _end_of_local_day(now)
    candidates = list(
        _my_open_deals(user).order_by("stage_entered_at", "id")[:ATTENTION_CANDIDATES]
    )
    playbooks = PlaybookCache(actor.organization_id if actor else 0)
    by_deal = playbooks.for_deals(candidates)
    signals = deal_signals(user=user, deals=candidates, now=now)
    with_task_today = set(
        task_list_for(user=user, filters=TaskFilters(mine_only=True, due_before=end_of_day))
        .filter(opportunity_id__in=[d.pk for d in candidates])
        .values_list("opportunity_id", flat=True)
    )
    ranked = sorted(
        candidates,
        key=lambda d: (
            -len(signals[d.pk].risks),
            d.pk not in with_task_today,
            d.stage_entered_at,
        ),
    )[:ATTENTION_LIMIT]
    # A stuck reason costs a gate evaluation of its own: the first few deals get one.
    past_target = [d.pk for d in ranked if _past_target(by_deal.get(d.pk), d, now)]
    past_target = past_target[:STUCK_REASONS]
    add_stuck_reasons(user=user, signals=signals, deal_ids=past_target, now=now)
    contacts = _contacts_by_account({d.account_id for d in ranked})
    summaries = []
    for deal in ranked:
        playbook = by_deal.get(deal.pk)
        summary = DealSummary(
            deal=deal,
            stage_name=_stage_name(playbook, deal.stage_key),
            checklist=checklist_of(_gate_or_none(deal, now, playbook)),
            signals=signals[deal.pk],
            contacts=contacts.get(deal.account_id, []),
            next_stage=_next_stage(playbook, deal.stage_key),
        )
        if summary.unmet or summary.signals.needs_attention or deal.pk in with_task_today:
            summaries.append(summary)
    team_playbook = playbooks.for_team(actor.team_id if actor else None)
    return TodayDeals(
        now=now,
        deals=summaries,
        attachment_kinds=attachment_kind_choices(team_playbook),
        exemption_reasons=exemption_reason_choices(),
    )


def _past_target(playbook: CompiledPlaybook | None, deal: Opportunity, now: dt.datetime) -> bool:
    """Whether the deal has been in its stage longer than the stage's target dwell (only such
    deals have a stuck reason)."""
    if playbook is None:
        return False
    try:
        target = playbook.playbook.stage(deal.stage_key).target_dwell
    except KeyError:
        return False
    return target is not None and now - deal.stage_entered_at > target


def _contacts_by_account(account_ids: set[int]) -> dict[int, list[Contact]]:
    grouped: defaultdict[int, list[Contact]] = defaultdict(list)
    for contact in Contact.objects.filter(account_id__in=account_ids).select_related(
        "decision_role"
    ):
        grouped[contact.account_id].append(contact)
    return grouped


def deal_needs(*, user: User, opportunity_id: int, now: dt.datetime) -> DealSummary:
    """What one deal still needs (its checklist and risks), for the rep's page to refresh."""
    deal = access_opportunity(user=user, opportunity_id=opportunity_id)
    playbook = _playbook_of(deal)
    return DealSummary(
        deal=deal,
        stage_name=_stage_name(playbook, deal.stage_key),
        checklist=checklist_of(_gate_or_none(deal, now)),
        signals=deal_signals(user=user, deals=[deal], now=now, with_stuck=[deal.pk])[deal.pk],
        next_stage=_next_stage(playbook, deal.stage_key),
    )


# --- the deal page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    kind: str  # "event" or "stage"
    title: str
    detail: str
    actor: str
    with_customer: bool = False
    backward: bool = False


@dataclass
class DealPage:
    summary: DealSummary
    stages: list[StageView]
    current_index: int
    advance_targets: list[StageView]
    timeline: list[TimelineEntry]
    tasks: list[Task]
    attachments: list[Attachment]
    attachment_kinds: list[tuple[str, str]]
    exemption_reasons: list[tuple[str, str]]
    can_write: bool
    has_playbook: bool
    now: dt.datetime
    # Every field of the deal a rep edits: its own, then the playbook's custom fields.
    field_inputs: list[FieldInput] = field(default_factory=list)

    @property
    def kind_names(self) -> dict[str, str]:
        return dict(self.attachment_kinds)


def _event_detail(payload: dict[str, Any], contact_names: dict[int, str]) -> str:
    parts = []
    for key in ("summary", "topic", "text", "subject", "title", "document"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            parts.append(value)
    attendees = payload.get("attendee_contact_ids") or []
    names = [contact_names.get(pk, f"#{pk}") for pk in attendees if isinstance(pk, int)]
    if names:
        parts.append(", ".join(names))
    return " · ".join(parts)


def deal_page(*, user: User, opportunity_id: int, now: dt.datetime) -> DealPage:
    deal = access_opportunity(user=user, opportunity_id=opportunity_id)
    actor = actor_of(user=user)
    playbook = _playbook_of(deal)
    stages = stage_views(playbook)
    keys = [s.key for s in stages]
    current_index = keys.index(deal.stage_key) if deal.stage_key in keys else -1
    contacts = list(
        Contact.objects.filter(account_id=deal.account_id).select_related("decision_role")
    )
    contact_names = {c.pk: c.name for c in contacts}
    gate = _gate_or_none(deal, now)
    controls = criterion_controls(deal=deal, playbook=playbook, gate=gate, contacts=contacts)
    summary = DealSummary(
        deal=deal,
        stage_name=_stage_name(playbook, deal.stage_key),
        checklist=[replace(item, controls=controls.get(item.id)) for item in checklist_of(gate)],
        signals=deal_signals(user=user, deals=[deal], now=now, with_stuck=[deal.pk])[deal.pk],
        contacts=contacts,
        next_stage=_next_stage(playbook, deal.stage_key),
    )
    names = event_type_names(playbook.playbook) if playbook is not None else {}
    events = list(
        Event.objects.filter(opportunity=deal)
        .select_related("actor")
        .order_by("-occurred_at", "-id")[:TIMELINE_LIMIT]
    )
    timeline = [
        TimelineEntry(
            at=event.occurred_at,
            kind="event",
            title=localized(names[event.type]) if event.type in names else event.type,
            detail=_event_detail(event.payload, contact_names),
            actor=str(event.actor) if event.actor else source_name(event.source),
            with_customer=event.with_customer,
        )
        for event in events
    ]
    for move in StageTransition.objects.filter(opportunity=deal).select_related("actor"):
        timeline.append(
            TimelineEntry(
                at=move.occurred_at,
                kind="stage",
                title=f"{_stage_name(playbook, move.from_stage)} → "
                f"{_stage_name(playbook, move.to_stage)}",
                detail="",
                actor=str(move.actor) if move.actor else "",
                backward=move.direction == "backward",
            )
        )
    timeline.sort(key=lambda entry: entry.at, reverse=True)
    tasks = list(
        task_list_for(user=user, filters=TaskFilters(status=None, opportunity_id=deal.pk)).order_by(
            "status", "due_at"
        )[:50]
    )
    attachments = list(Attachment.objects.filter(opportunity=deal).select_related("uploaded_by"))
    targets = [s for s in stages if s.key != deal.stage_key]
    return DealPage(
        summary=summary,
        stages=stages,
        current_index=current_index,
        advance_targets=targets,
        timeline=timeline[:TIMELINE_LIMIT],
        tasks=tasks,
        attachments=attachments,
        attachment_kinds=attachment_kind_choices(playbook),
        exemption_reasons=exemption_reason_choices(),
        can_write=bool(actor and actor.works_deals),
        has_playbook=playbook is not None,
        now=now,
        field_inputs=deal_field_inputs(deal, playbook.playbook if playbook else None),
    )
