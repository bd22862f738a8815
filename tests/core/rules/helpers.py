"""Building contexts and compiling one criterion against the seed playbook, for rules tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from typing import Any

from lodestar.core.playbook import Playbook, load_playbook
from lodestar.core.playbook.model import Criterion
from lodestar.core.rules import (
    AccountData,
    AttachmentData,
    CompiledCriterion,
    CompiledPlaybook,
    ContactData,
    DealContext,
    DealData,
    EventData,
    compile_criterion,
    compile_playbook,
)
from tests.core.samples import SEED_PLAYBOOK

SHANGHAI = timezone(timedelta(hours=8))
NOW = datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI)


@cache
def seed_playbook() -> Playbook:
    return load_playbook(SEED_PLAYBOOK, "seed.yaml")


@cache
def seed_compiled() -> CompiledPlaybook:
    return compile_playbook(seed_playbook())


def criterion(spec: Mapping[str, Any]) -> CompiledCriterion:
    """Compile one criterion written as its YAML mapping, in the seed playbook's scope."""
    from pydantic import TypeAdapter

    parsed: Criterion = TypeAdapter(Criterion).validate_python(dict(spec))
    return compile_criterion(seed_playbook(), parsed)


def context(
    *,
    stage: str = "demo",
    fields: Mapping[str, Any] | None = None,
    amount: Decimal | None = Decimal("50000"),
    contacts: tuple[ContactData, ...] = (),
    attachments: tuple[AttachmentData, ...] = (),
    events: tuple[EventData, ...] = (),
    repurchase_rate: float | None = 0.5,
    now: datetime = NOW,
) -> DealContext:
    return DealContext(
        deal=DealData(stage=stage, amount=amount, fields=dict(fields or {})),
        now=now,
        account=AccountData(industry="manufacturing", tier="key", repurchase_rate=repurchase_rate),
        contacts=contacts,
        attachments=attachments,
        events=events,
        zone=SHANGHAI,
    )


def decision_maker(name: str, *, attended: bool = True) -> ContactData:
    return ContactData(
        name, is_decision_maker=True, attended=frozenset({"demo"}) if attended else frozenset()
    )


def attachment(
    kind: str, content_type: str = "application/pdf", *, chars: int = 500, hours_ago: float = 1
) -> AttachmentData:
    return AttachmentData(kind, content_type, NOW - timedelta(hours=hours_ago), chars)


def event(type_: str, *, hours_ago: float = 1, **payload: Any) -> EventData:
    return EventData(type_, NOW - timedelta(hours=hours_ago), payload)
