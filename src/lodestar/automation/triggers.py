"""Playbook triggers: an event that matches a trigger creates a task with an SLA deadline.

Runs inside the ingestion transaction (`lodestar.events.processing`). Late events are judged as
if they had arrived in order: the deal's stage is taken *as it was when the event happened*, and
the deadline counts from `occurred_at`, not from arrival.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse

from lodestar import messages
from lodestar.automation.models import Task, TaskStatus
from lodestar.automation.outbound_events import tasks_created
from lodestar.automation.services import tasks_close_by_events
from lodestar.changes import changed
from lodestar.core.engine import BusinessCalendar, Clock, due_at
from lodestar.core.playbook.model import Trigger
from lodestar.core.rules import CompiledPlaybook, DealContext
from lodestar.crm.models import Attachment, Opportunity, StageTransition, TextStatus
from lodestar.db import bulk_insert_new
from lodestar.events.models import Event
from lodestar.events.records import RecordedEvent
from lodestar.gates.context import deal_context
from lodestar.i18n import in_site_language
from lodestar.integrations.services import NotificationSpec, notify_many
from lodestar.messages import Msg
from lodestar.org.calendar import organization_calendar
from lodestar.org.models import Membership, Role, User
from lodestar.playbooks.selectors import (
    PublishedVersions,
    compiled_for_version,
    published_versions,
)

__all__ = ["close_tasks_on_text_read", "run_triggers", "stage_at"]

# The event of an uploaded file of the playbook's minutes kind (`lodestar.events.uploads`). Its
# payload names the attachment; the minutes count (and close the tasks the event closes) once
# their text is read and has the playbook's `scorecard.min_chars` (the "≥300 字" of the task).
MINUTES_UPLOADED = "minutes.uploaded"

# (deal id, ids of the triggers whose tasks the event closes, occurred_at, actor)
Closer = tuple[int, frozenset[str], dt.datetime, User | None]


# (occurred_at, from stage, to stage) of one deal's moves, in time order.
Moves = Sequence[tuple[dt.datetime, str, str]]


def stage_at(deal: Opportunity, moment: dt.datetime, moves: Moves) -> str:
    """The stage `deal` was in at `moment`, from its moves (ordered by time)."""
    stage = moves[0][1] if moves else deal.stage_key
    for occurred_at, _from_stage, to_stage in moves:
        if occurred_at > moment:
            break
        stage = to_stage
    return stage


class _Assignees:
    """Who gets a trigger's task; the organization's ops person is looked up once per run."""

    def __init__(self) -> None:
        self._ops: dict[int, User | None] = {}

    def of(self, trigger: Trigger, deal: Opportunity) -> User:
        owner_kind = trigger.task.owner
        if owner_kind == "manager" and deal.team is not None and deal.team.manager is not None:
            return deal.team.manager
        if owner_kind == "ops":
            if deal.organization_id not in self._ops:
                membership = (
                    Membership.objects.filter(organization_id=deal.organization_id, role=Role.OPS)
                    .select_related("user")
                    .order_by("id")
                    .first()
                )
                self._ops[deal.organization_id] = membership.user if membership else None
            ops = self._ops[deal.organization_id]
            if ops is not None:
                return ops
        return deal.owner


@dataclass(frozen=True)
class _Rules:
    """One playbook's triggers by the event type that fires them, and the trigger ids each event
    type closes."""

    compiled: CompiledPlaybook
    firing: dict[str, list[Trigger]]
    closing: dict[str, frozenset[str]]

    @classmethod
    def of(cls, compiled: CompiledPlaybook) -> _Rules:
        firing: defaultdict[str, list[Trigger]] = defaultdict(list)
        closing: defaultdict[str, set[str]] = defaultdict(set)
        for trigger in compiled.playbook.triggers:
            firing[trigger.on].append(trigger)
            for event_type in trigger.task.closes_on:
                closing[event_type].add(trigger.id)
        return cls(compiled, dict(firing), {k: frozenset(v) for k, v in closing.items()})


def run_triggers(*, events: Sequence[RecordedEvent], now: dt.datetime) -> None:
    """Create and close trigger tasks for the events, each deal under its own team's playbook.

    A batch touching deals of many teams (each may follow its own playbook) is handled in one
    pass: one read of the existing tasks, of the deals and of their moves for all of them.
    """
    ruled = _with_rules(events)
    _create_matching_tasks([(e, rules) for e, rules in ruled if e.type in rules.firing], now)
    tasks_close_by_events(
        closers=_closers([(e, rules) for e, rules in ruled if e.type in rules.closing])
    )


def _with_rules(events: Sequence[RecordedEvent]) -> list[tuple[RecordedEvent, _Rules]]:
    """The deals' events, each with the rules of the playbook its deal's team follows."""
    published: dict[int, PublishedVersions] = {}
    rules_of: dict[tuple[int, int | None], _Rules | None] = {}
    out: list[tuple[RecordedEvent, _Rules]] = []
    for event in events:
        if event.opportunity_id is None:
            continue
        scope = (event.organization_id, event.team_id)
        if scope not in rules_of:
            if scope[0] not in published:
                published[scope[0]] = published_versions(organization_id=scope[0])
            version = published[scope[0]].of_team(scope[1])
            rules_of[scope] = _Rules.of(compiled_for_version(version)) if version else None
        rules = rules_of[scope]
        if rules is not None:
            out.append((event, rules))
    return out


def _closers(closing: Sequence[tuple[RecordedEvent, _Rules]]) -> list[Closer]:
    """What the events close: a minutes upload only once its text is read and long enough (an
    upload still being read closes its tasks when the reading ends, `close_tasks_on_text_read`).
    A minutes event naming no attachment (sent by another system) closes them as it comes."""
    minutes = [event.pk for event, _ in closing if event.type == MINUTES_UPLOADED]
    attachment_of: dict[int, object] = {}
    if minutes:
        for pk, payload in Event.objects.filter(pk__in=minutes).values_list("pk", "payload"):
            if isinstance(payload, dict) and payload.get("attachment_id") is not None:
                attachment_of[pk] = payload["attachment_id"]
    lengths = dict(
        Attachment.objects.filter(
            pk__in=[a for a in attachment_of.values() if isinstance(a, int)],
            text_status=TextStatus.DONE,
        ).values_list("pk", "text_length")
    )
    out: list[Closer] = []
    for event, rules in closing:
        if event.pk in attachment_of:
            length = lengths.get(attachment_of[event.pk])  # type: ignore[call-overload]
            if length is None or length < rules.compiled.playbook.scorecard.min_chars:
                continue
        assert event.opportunity_id is not None  # only deals' events reach the closing rules
        out.append(
            (event.opportunity_id, rules.closing[event.type], event.occurred_at, event.actor)
        )
    return out


@transaction.atomic
def close_tasks_on_text_read(*, attachment_id: int) -> None:
    """Once an uploaded file's text is read (`LODESTAR_TEXT_READ_STEPS`), close the tasks its
    minutes event left open while the text was unknown, at the time of the upload."""
    attachment = Attachment.objects.filter(pk=attachment_id).only("opportunity").first()
    if attachment is None or attachment.opportunity_id is None:
        return
    rows = [
        row
        for row in Event.objects.filter(
            opportunity_id=attachment.opportunity_id, type=MINUTES_UPLOADED
        ).select_related("actor", "opportunity")
        if isinstance(row.payload, dict) and row.payload.get("attachment_id") == attachment_id
    ]
    ruled = _with_rules(
        [
            RecordedEvent(
                pk=row.pk,
                organization_id=row.organization_id,
                type=row.type,
                occurred_at=row.occurred_at,
                opportunity_id=row.opportunity_id,
                team_id=row.opportunity.team_id if row.opportunity else None,
                with_customer=row.with_customer,
                actor=row.actor,
            )
            for row in rows
        ]
    )
    tasks_close_by_events(
        closers=_closers([(e, rules) for e, rules in ruled if e.type in rules.closing])
    )


def _create_matching_tasks(firing: list[tuple[RecordedEvent, _Rules]], now: dt.datetime) -> None:
    if not firing:
        return
    existing = set(
        Task.objects.filter(
            opportunity_id__among=sorted({event.opportunity_id for event, _ in firing}),
            trigger_key__in={t.id for event, rules in firing for t in rules.firing[event.type]},
        ).values_list("opportunity_id", "trigger_key")
    )
    # Most deals already have their tasks (a second demo booked…): only the rest are loaded.
    firing = [
        (event, rules)
        for event, rules in firing
        if any((event.opportunity_id, t.id) not in existing for t in rules.firing[event.type])
    ]
    if not firing:
        return
    deal_ids = {event.opportunity_id for event, _ in firing}
    deals = Opportunity.objects.select_related(
        "account", "owner", "team__manager", "organization"
    ).in_bulk(deal_ids)
    moves = _moves_of(deal_ids)
    contexts: dict[int, DealContext] = {}
    calendars: dict[int, BusinessCalendar] = {}
    assignees = _Assignees()
    planned: list[Task] = []
    titles: dict[str, dict[str, str]] = {}  # each trigger's task title, in both languages
    for event, rules in sorted(firing, key=lambda item: (item[0].occurred_at, item[0].pk)):
        deal = deals[event.opportunity_id]
        for trigger in rules.firing[event.type]:
            if (deal.pk, trigger.id) in existing:
                continue
            stage = stage_at(deal, event.occurred_at, moves[deal.pk])
            if trigger.stages and stage not in trigger.stages:
                continue
            if not _condition_holds(rules, trigger, deal, contexts, now):
                continue
            if deal.organization_id not in calendars:
                calendars[deal.organization_id] = organization_calendar(
                    organization=deal.organization
                )
            due = due_at(
                event.occurred_at,
                trigger.task.due,
                calendars[deal.organization_id],
                clock=Clock(trigger.task.clock),
            )
            planned.append(_task_for(deal, trigger, event, due, assignees))
            titles[trigger.id] = messages.text(trigger.task.title.zh, trigger.task.title.en)
            existing.add((deal.pk, trigger.id))
    _create_tasks(planned, deals, titles, now)


def _moves_of(
    deal_ids: Iterable[int | None],
) -> defaultdict[int, list[tuple[dt.datetime, str, str]]]:
    """Each deal's stage moves, in time order."""
    moves: defaultdict[int, list[tuple[dt.datetime, str, str]]] = defaultdict(list)
    for deal_id, at, from_stage, to_stage in (
        StageTransition.objects.filter(opportunity_id__among=sorted(deal_ids))
        .order_by("occurred_at", "id")
        .values_list("opportunity_id", "occurred_at", "from_stage", "to_stage")
    ):
        moves[deal_id].append((at, from_stage, to_stage))
    return moves


def _condition_holds(
    rules: _Rules,
    trigger: Trigger,
    deal: Opportunity,
    contexts: dict[int, DealContext],
    now: dt.datetime,
) -> bool:
    """Whether the trigger's condition (if it has one) holds for the deal now; the deal's
    context is built once per run."""
    condition = rules.compiled.triggers.get(trigger.id)
    if condition is None:
        return True
    if deal.pk not in contexts:
        contexts[deal.pk] = deal_context(
            opportunity=deal, now=now, playbook=rules.compiled.playbook
        )
    return condition.test(contexts[deal.pk])


def _task_for(
    deal: Opportunity,
    trigger: Trigger,
    event: RecordedEvent,
    due: dt.datetime,
    assignees: _Assignees,
) -> Task:
    template = trigger.task
    return Task(
        organization_id=deal.organization_id,
        opportunity=deal,
        assignee=assignees.of(trigger, deal),
        title=in_site_language(template.title)[:200],
        description=in_site_language(template.description) if template.description else "",
        department=template.department or "",
        trigger_key=trigger.id,
        created_at=event.occurred_at,
        due_at=due,
        status=TaskStatus.OPEN,
    )


def _create_tasks(
    planned: list[Task],
    deals: dict[int, Opportunity],
    titles: dict[str, dict[str, str]],
    now: dt.datetime,
) -> None:
    """Insert the planned tasks at once and announce each to its assignee.

    The unique (deal, trigger) constraint settles a race between two deliveries: a task a
    concurrent transaction made first is skipped by the insert (ON CONFLICT DO NOTHING); the
    rows are then read back, and announcing one the other side made too is harmless, because
    `notify` never sends the same cause (`task:<id>:created`) to the same place twice.
    """
    if not planned:
        return
    created: Iterable[Task] = planned
    wanted = {(task.opportunity_id, task.trigger_key) for task in planned}
    if not bulk_insert_new(planned):
        created = (
            Task.objects.filter(
                opportunity_id__in={deal_id for deal_id, _ in wanted},
                trigger_key__in={key for _, key in wanted},
                status=TaskStatus.OPEN,
            )
            .select_related("assignee")
            .order_by("created_at", "id")
        )
    by_org: defaultdict[int, list[NotificationSpec]] = defaultdict(list)
    organizations = {}
    created = [task for task in created if (task.opportunity_id, task.trigger_key) in wanted]
    changed(
        tables=[Task],
        deals=[task.opportunity_id for task in created],
        people=[task.assignee_id for task in created],
    )
    for task in created:
        deal = deals[task.opportunity_id]  # type: ignore[index]
        organizations[deal.organization_id] = deal.organization
        by_org[deal.organization_id].append(
            NotificationSpec(
                recipient=task.assignee,
                title=task.title,
                link=reverse("web:deal", args=[deal.pk]),
                cause_key=f"task:{task.pk}:created",
                # Worded for each reader, the playbook's title in their language.
                message=Msg(
                    "task.created",
                    {
                        "task": titles.get(task.trigger_key) or messages.text(task.title),
                        "deal": deal.name,
                        "due": messages.moment(task.due_at, deal.organization.tz),
                    },
                ),
            )
        )
    for organization_id, specs in by_org.items():
        notify_many(organization=organizations[organization_id], specs=specs)
    tasks_created(created, now=now)
