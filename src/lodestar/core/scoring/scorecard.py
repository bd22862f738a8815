"""Communication quality scorecard (动作健康度评分卡), 0–100 per customer communication.

Seed 001: "对每次客户沟通,系统自动检测:是否在24小时内上传纪要(OCR识别文字≥300字)、是否关联
至少1个产品知识库条目、是否触发下次跟进提醒(日历事件…);连续3次低于75分,自动推送《高频异议
应答手册》".

Three criteria, each met or not (no partial credit, so every score is explainable):

- ``minutes``: some minutes upload at most ``upload_within`` (24 h) after the communication
  with at least ``min_chars`` (300) characters of extracted text;
- ``knowledge_link``: at least ``min_knowledge_links`` (1) knowledge entries linked;
- ``next_followup``: a calendar event for the next follow-up, starting after the communication.

``score = 100 * Σ weight of met criteria / Σ weights``. Every limit above and the weights
default to the playbook's ``scorecard:`` section
(:class:`lodestar.core.playbook.model.ScorecardPolicy`, their one home; weights 0.4 / 0.3 / 0.3,
the minutes being the hardest evidence). A criterion switched off (``min_knowledge_links = 0``,
``require_next_followup = False``) drops out and the others are renormalised. A score is
``final`` once the upload window has passed; before that a missing upload may still come, so
:func:`low_score_streaks` only looks at final scores.

**Streak detector.** Over a rep's final scores in time order, a run of ``consecutive_below``
(3) scores under ``threshold`` (75) fires once, at the score that completes it; further low
scores in the same run do not fire again; a score at or above the threshold ends the run.
:func:`advance_streak` is the same rule as one step, so an incremental (one score at a time)
and a full recompute give identical results.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from lodestar.core.playbook.model import ScorecardPolicy, ScorecardWeights
from lodestar.core.scoring.common import (
    Message,
    RowId,
    clamp_score,
    format_span,
    normalise_weights,
    require_aware,
)
from lodestar.core.scoring.errors import InvalidScoringInput

__all__ = [
    "CRITERIA",
    "Communication",
    "CommunicationScore",
    "CriterionResult",
    "MinutesUpload",
    "ScorecardConfig",
    "StreakAlert",
    "StreakState",
    "advance_streak",
    "communication_score",
    "low_score_streaks",
    "scorecard_weights",
]

CRITERIA: tuple[str, str, str] = ("minutes", "knowledge_link", "next_followup")
_PLAYBOOK = ScorecardPolicy()  # the playbook's `scorecard:` defaults


def scorecard_weights(weights: ScorecardWeights) -> tuple[float, float, float]:
    """A playbook's ``scorecard.weights`` as :attr:`ScorecardConfig.weights` takes them."""
    return (weights.minutes, weights.knowledge_link, weights.next_followup)


@dataclass(frozen=True, slots=True)
class ScorecardConfig:
    """The playbook's ``scorecard:`` section as plain values (its defaults unless given);
    ``weights`` are relative, in :data:`CRITERIA` order."""

    weights: tuple[float, float, float] = scorecard_weights(_PLAYBOOK.weights)
    min_chars: int = _PLAYBOOK.min_chars
    upload_within: timedelta = _PLAYBOOK.upload_within
    min_knowledge_links: int = _PLAYBOOK.min_knowledge_links
    require_next_followup: bool = _PLAYBOOK.require_next_followup
    threshold: float = _PLAYBOOK.threshold
    consecutive_below: int = _PLAYBOOK.consecutive_below

    def __post_init__(self) -> None:
        self.active_weights()  # fail early on bad weights
        if self.min_chars < 0 or self.min_knowledge_links < 0:
            raise InvalidScoringInput("min_chars and min_knowledge_links cannot be negative")
        if self.upload_within < timedelta(0):
            raise InvalidScoringInput("upload_within cannot be negative")
        if not 0 <= self.threshold <= 100:
            raise InvalidScoringInput(f"threshold must be within 0–100, got {self.threshold}")
        if self.consecutive_below < 1:
            raise InvalidScoringInput("consecutive_below must be at least 1")

    def active_weights(self) -> dict[str, float]:
        """Normalised weights of the criteria that are switched on."""
        normalise_weights(self.weights)  # validates all three
        switched_on = {
            "minutes": True,
            "knowledge_link": self.min_knowledge_links > 0,
            "next_followup": self.require_next_followup,
        }
        raw = {
            key: weight
            for key, weight in zip(CRITERIA, self.weights, strict=True)
            if switched_on[key]
        }
        return dict(zip(raw, normalise_weights(list(raw.values())), strict=True))


_DEFAULTS = ScorecardConfig()


@dataclass(frozen=True, slots=True)
class MinutesUpload:
    """Meeting minutes attached to a communication; ``text_chars`` after text extraction,
    ``text_pending`` while the text is still being read (``text_chars`` is 0 until then)."""

    uploaded_at: datetime
    text_chars: int
    attachment_id: RowId | None = None
    text_pending: bool = False


@dataclass(frozen=True, slots=True)
class Communication:
    """One customer communication and the evidence around it."""

    communication_id: RowId
    occurred_at: datetime
    minutes: tuple[MinutesUpload, ...] = ()
    knowledge_links: int = 0
    next_followup_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CriterionResult:
    key: str
    met: bool
    weight: float
    message: Message


@dataclass(frozen=True, slots=True)
class CommunicationScore:
    communication_id: RowId
    occurred_at: datetime
    score: float
    final: bool
    criteria: tuple[CriterionResult, ...]

    @property
    def unmet(self) -> tuple[CriterionResult, ...]:
        return tuple(c for c in self.criteria if not c.met)


def _minutes_result(comm: Communication, config: ScorecardConfig, weight: float) -> CriterionResult:
    deadline = comm.occurred_at + config.upload_within
    in_time = [m for m in comm.minutes if require_aware(m.uploaded_at, "uploaded_at") <= deadline]
    best = max((m.text_chars for m in in_time), default=None)
    within = format_span(config.upload_within)
    if best is not None and best >= config.min_chars:
        message = Message(
            f"纪要已在 {within.zh}内上传({best} 字)",
            f"minutes uploaded within {within.en} ({best} characters)",
        )
        return CriterionResult("minutes", True, weight, message)
    if any(m.text_pending for m in in_time):
        message = Message("纪要文字仍在提取中", "minutes text is still being extracted")
    elif best is not None:
        message = Message(
            f"纪要只有 {best} 字,不足 {config.min_chars} 字",
            f"minutes have {best} characters, fewer than {config.min_chars}",
        )
    elif comm.minutes:
        message = Message(f"纪要超过 {within.zh}才上传", f"minutes uploaded later than {within.en}")
    else:
        message = Message(f"{within.zh}内未上传纪要", f"no minutes uploaded within {within.en}")
    return CriterionResult("minutes", False, weight, message)


def communication_score(
    comm: Communication, *, now: datetime, config: ScorecardConfig | None = None
) -> CommunicationScore:
    """Score one communication as of ``now`` (``final`` once the upload window has passed)."""
    config = config or _DEFAULTS
    require_aware(now, "now")
    require_aware(comm.occurred_at, "occurred_at")
    weights = config.active_weights()
    deadline = comm.occurred_at + config.upload_within
    # Minutes uploaded in time whose text is not read yet keep the score open: it is not final
    # until their length is known.
    unread = any(m.text_pending and m.uploaded_at <= deadline for m in comm.minutes)
    results = [_minutes_result(comm, config, weights["minutes"])]
    if "knowledge_link" in weights:
        met = comm.knowledge_links >= config.min_knowledge_links
        results.append(
            CriterionResult(
                "knowledge_link",
                met,
                weights["knowledge_link"],
                Message(
                    f"已关联 {comm.knowledge_links} 个知识库条目",
                    f"{comm.knowledge_links} knowledge entries linked",
                )
                if met
                else Message(
                    f"关联知识库条目不足 {config.min_knowledge_links} 个",
                    f"fewer than {config.min_knowledge_links} knowledge entries linked",
                ),
            )
        )
    if "next_followup" in weights:
        followup = comm.next_followup_at
        met = (
            followup is not None and require_aware(followup, "next_followup_at") > comm.occurred_at
        )
        results.append(
            CriterionResult(
                "next_followup",
                met,
                weights["next_followup"],
                Message("已安排下次跟进", "next follow-up scheduled")
                if met
                else Message("未安排下次跟进", "no next follow-up scheduled"),
            )
        )
    score = clamp_score(100.0 * math.fsum(r.weight for r in results if r.met))
    return CommunicationScore(
        communication_id=comm.communication_id,
        occurred_at=comm.occurred_at,
        score=score,
        final=now >= deadline and not unread,
        criteria=tuple(results),
    )


@dataclass(frozen=True, slots=True)
class StreakState:
    """Where a rep's low-score run stands: its length and ids, and whether it already fired."""

    run: tuple[RowId, ...] = ()
    fired: bool = False


@dataclass(frozen=True, slots=True)
class StreakAlert:
    """The run that fired: its communications (oldest first) and the one that completed it."""

    fired_at: RowId
    fired_at_time: datetime
    communication_ids: tuple[RowId, ...]
    scores: tuple[float, ...]


def advance_streak(
    state: StreakState,
    communication_id: RowId,
    score: float,
    *,
    threshold: float = _DEFAULTS.threshold,
    consecutive_below: int = _DEFAULTS.consecutive_below,
) -> tuple[StreakState, bool]:
    """One step of the streak rule; returns the new state and whether it fires now."""
    if score >= threshold:
        return StreakState(), False
    run = (*state.run, communication_id)
    fires = not state.fired and len(run) >= consecutive_below
    return StreakState(run, state.fired or fires), fires


def low_score_streaks(
    scores: Iterable[CommunicationScore], *, config: ScorecardConfig | None = None
) -> list[StreakAlert]:
    """Every time the "N consecutive under threshold" rule fires over a rep's scores.

    Scores are put in time order (ties by id, as text) first, so the input order does not
    matter; non-final scores are skipped.
    """
    config = config or _DEFAULTS
    ordered: Sequence[CommunicationScore] = sorted(
        (s for s in scores if s.final), key=lambda s: (s.occurred_at, str(s.communication_id))
    )
    # `advance_streak` step by step, without a state object per score (a rep has hundreds).
    threshold, needed = config.threshold, config.consecutive_below
    run: list[CommunicationScore] = []
    fired = False
    alerts: list[StreakAlert] = []
    for item in ordered:
        if item.score >= threshold:
            run, fired = [], False
            continue
        run.append(item)
        if not fired and len(run) >= needed:
            fired = True
            alerts.append(
                StreakAlert(
                    fired_at=item.communication_id,
                    fired_at_time=item.occurred_at,
                    communication_ids=tuple(i.communication_id for i in run),
                    scores=tuple(i.score for i in run),
                )
            )
    return alerts
