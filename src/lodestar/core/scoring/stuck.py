"""Plain-language stuck reasons (卡点原因) for deals past their stage's target dwell.

Seed 000: "他在阶段四卡了36小时,因为还没收到POC测试反馈,需要技术支持介入".

The Django layer fills a :class:`StuckInput` per deal from what it already has — the rule
engine's explanations of unmet gate criteria, the deal's open tasks, and the events the stage
expects but has not seen (each with the department that should act) — and
:func:`stuck_reason` turns it into one sentence in Chinese and in English::

    在阶段4停留36小时:尚未收到POC测试反馈,需要技术支持介入
    In stage 4 for 36 h: POC feedback not received yet — needs technical support

Causes are listed most actionable first: a met gate (the deal is ready to move on and only
waits for someone to move it), expected events not seen, overdue tasks, unmet gate criteria,
then open tasks not yet due; at most ``max_causes`` are spelled out, the rest counted.
A deal exempted at ``now`` still gets a reason, led by the exemption. Dwell excludes exempted
time, as in the health score; a deal is "past" its target when dwell > target.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from lodestar.core.scoring.common import Exemption, Message, RowId, format_span, require_aware
from lodestar.core.scoring.health import effective_dwell

__all__ = [
    "CauseKind",
    "ExpectedEvent",
    "PendingTask",
    "StuckCause",
    "StuckInput",
    "StuckReason",
    "UnmetCriterion",
    "stuck_reason",
]

CauseKind = Literal[
    "exemption", "gate_met", "expected_event", "overdue_task", "unmet_criterion", "open_task"
]


@dataclass(frozen=True, slots=True)
class UnmetCriterion:
    """A gate criterion not met, with the rule engine's explanation (e.g. "会议纪要未上传")."""

    explanation: Message
    department: Message | None = None
    criterion_id: str | None = None


@dataclass(frozen=True, slots=True)
class PendingTask:
    """An open task of the deal; ``department`` is who has to do it."""

    task_id: RowId
    title: Message
    due_at: datetime | None = None
    department: Message | None = None


@dataclass(frozen=True, slots=True)
class ExpectedEvent:
    """An event the stage is waiting for (e.g. "POC测试反馈" / "POC feedback")."""

    name: Message
    department: Message | None = None
    event_type: str | None = None


@dataclass(frozen=True, slots=True)
class StuckInput:
    """One deal as :func:`stuck_reason` needs it.

    ``stage_label`` is how the stage is named in a sentence: ``Message("阶段4", "stage 4")``.
    ``gate_met`` says every exit criterion of the stage is met; ``next_stage`` names the stage
    the deal would move to (``None`` when it is not known).
    """

    deal_id: RowId
    stage_label: Message
    stage_entered_at: datetime
    target_dwell: timedelta | None
    unmet_criteria: tuple[UnmetCriterion, ...] = ()
    open_tasks: tuple[PendingTask, ...] = ()
    expected_events: tuple[ExpectedEvent, ...] = ()
    exemptions: tuple[Exemption, ...] = ()
    gate_met: bool = False
    next_stage: Message | None = None


@dataclass(frozen=True, slots=True)
class StuckCause:
    kind: CauseKind
    message: Message
    department: Message | None = None
    ref: RowId | None = None


@dataclass(frozen=True, slots=True)
class StuckReason:
    deal_id: RowId
    dwell: timedelta
    target: timedelta
    message: Message
    causes: tuple[StuckCause, ...]
    exempted: bool = False

    @property
    def ratio(self) -> float:
        return self.dwell / self.target


def _needs(department: Message | None) -> Message:
    if department is None:
        return Message("", "")
    return Message(f",需要{department.zh}介入", f" — needs {department.en}")


def _ready_for(next_stage: Message | None) -> Message:
    if next_stage is None:
        return Message("可以推进到下一阶段", "ready to move to the next stage")
    return Message(
        f"可以推进到下一阶段「{next_stage.zh}」",
        f"ready to move to the next stage ({next_stage.en})",
    )


def _causes(deal: StuckInput, now: datetime) -> list[StuckCause]:
    exemption = next((e for e in deal.exemptions if e.active_at(now)), None)
    causes: list[StuckCause] = []
    if exemption is not None:
        why = exemption.reason
        causes.append(
            StuckCause(
                "exemption",
                Message(
                    "已豁免" + (f"({why})" if why else ""),
                    "exempted" + (f" ({why})" if why else ""),
                ),
            )
        )
    if deal.gate_met:
        causes.append(StuckCause("gate_met", _ready_for(deal.next_stage)))
    for event in deal.expected_events:
        tail = _needs(event.department)
        causes.append(
            StuckCause(
                "expected_event",
                Message(
                    f"尚未收到{event.name.zh}{tail.zh}",
                    f"{event.name.en} not received yet{tail.en}",
                ),
                event.department,
            )
        )
    overdue = [t for t in deal.open_tasks if t.due_at is not None and t.due_at < now]
    pending = [t for t in deal.open_tasks if t.due_at is None or t.due_at >= now]
    for task in sorted(overdue, key=lambda t: t.due_at or now):
        late = format_span(now - (task.due_at or now), spaced=False)
        tail = _needs(task.department)
        causes.append(
            StuckCause(
                "overdue_task",
                Message(
                    f"任务「{task.title.zh}」已逾期{late.zh}{tail.zh}",
                    f'task "{task.title.en}" overdue by {late.en}{tail.en}',
                ),
                task.department,
                task.task_id,
            )
        )
    for criterion in deal.unmet_criteria:
        tail = _needs(criterion.department)
        causes.append(
            StuckCause(
                "unmet_criterion",
                Message(
                    f"{criterion.explanation.zh}{tail.zh}", f"{criterion.explanation.en}{tail.en}"
                ),
                criterion.department,
                criterion.criterion_id,
            )
        )
    for task in pending:
        tail = _needs(task.department)
        causes.append(
            StuckCause(
                "open_task",
                Message(
                    f"任务「{task.title.zh}」尚未完成{tail.zh}",
                    f'task "{task.title.en}" still open{tail.en}',
                ),
                task.department,
                task.task_id,
            )
        )
    return causes


def stuck_reason(deal: StuckInput, *, now: datetime, max_causes: int = 3) -> StuckReason | None:
    """The reason ``deal`` is stuck, or ``None`` if it is within its target (or has none)."""
    require_aware(now, "now")
    if deal.target_dwell is None or deal.target_dwell <= timedelta(0):
        return None
    dwell = effective_dwell(deal.stage_entered_at, now, deal.exemptions)
    if dwell <= deal.target_dwell:
        return None
    causes = _causes(deal, now)
    spent = format_span(dwell, spaced=False)
    head = Message(
        f"在{deal.stage_label.zh}停留{spent.zh}", f"In {deal.stage_label.en} for {spent.en}"
    )
    shown = causes[: max(1, max_causes)]
    rest = len(causes) - len(shown)
    if causes:
        zh = ";".join(c.message.zh for c in shown) + (f";另有{rest}项" if rest else "")
        en = "; ".join(c.message.en for c in shown) + (f"; and {rest} more" if rest else "")
    else:
        target = format_span(deal.target_dwell, spaced=False)
        zh = f"已超出{target.zh}的目标停留时长,未发现具体原因"
        en = f"past the {target.en} target, no recorded cause"
    return StuckReason(
        deal_id=deal.deal_id,
        dwell=dwell,
        target=deal.target_dwell,
        message=Message(f"{head.zh}:{zh}", f"{head.en}: {en}"),
        causes=tuple(causes),
        exempted=any(c.kind == "exemption" for c in causes),
    )
