"""The playbook file format: pydantic models for one YAML file describing a whole sales process.

The models check *shape* (types, required keys, value ranges). Cross references (a criterion
naming a field, a trigger naming an event type) and rule compilation are checked by
:func:`lodestar.core.playbook.checks.check_references` and the rules compiler, which the loader
runs after these models accept the file.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cached_property
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    StringConstraints,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from lodestar.core.playbook.durations import DURATION_PATTERN, format_duration, parse_duration

__all__ = [
    "CRITERION_KINDS",
    "FIELD_TYPES",
    "UNKNOWN_KEYS_CONTEXT",
    "AllCriterion",
    "AnyCriterion",
    "AttachmentCriterion",
    "AttachmentSpec",
    "BackwardMovesRisk",
    "CelCriterion",
    "Choice",
    "CountCriterion",
    "CountSpec",
    "Criterion",
    "Duration",
    "EventCriterion",
    "EventPayloadField",
    "EventSpec",
    "EventType",
    "EventTypeKey",
    "FieldCriterion",
    "FieldDef",
    "FieldType",
    "ForecastPolicy",
    "HealthPolicy",
    "HealthWeights",
    "Key",
    "Kind",
    "NotCriterion",
    "Playbook",
    "RequiredAction",
    "RequiredActionSet",
    "RiskPolicy",
    "Scalar",
    "ScorecardPolicy",
    "ScorecardWeights",
    "SilenceRisk",
    "SlaPolicy",
    "Stage",
    "StaleRisk",
    "TaskTemplate",
    "Text",
    "Trigger",
    "default_criterion_id",
]

#: ``model_validate(..., context={UNKNOWN_KEYS_CONTEXT: []})`` makes unknown keys be collected
#: there as ``(id(mapping), key, allowed_keys)`` instead of failing as ``extra_forbidden``; the
#: loader uses it to point at the exact mapping and to suggest the closest allowed key.
UNKNOWN_KEYS_CONTEXT = "lodestar.unknown_keys"

Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=64)]
"""Stage, field and kind keys: lower-case identifiers (they are also CEL names)."""

EventTypeKey = Annotated[
    str,
    StringConstraints(
        pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$", min_length=1, max_length=64
    ),
]
"""Event types: lower-case words joined by '.' or '_' (``chat.message``, ``demo.booked``)."""


def _to_duration(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    return value


Duration = Annotated[
    timedelta,
    BeforeValidator(_to_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["24h", "7d"]}),
]
"""A duration written ``90m``, ``36h``, ``7d``, ``2w`` or ``1d12h``."""

Scalar = bool | int | float | date | str
"""A literal value in a criterion: YAML booleans, numbers, dates (``2025-06-30``) or text."""

FieldType = Literal[
    "text", "number", "money", "date", "boolean", "choice", "multi_choice", "contact_role"
]
FIELD_TYPES: tuple[str, ...] = (
    "text",
    "number",
    "money",
    "date",
    "boolean",
    "choice",
    "multi_choice",
    "contact_role",
)


class _Strict(BaseModel):
    """Frozen, closed models; unknown keys are reported (with the allowed ones) by the loader."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)

    #: Whether a bare string is accepted for the mapping (JSON Schema says so for editors).
    string_shorthand: ClassVar[bool] = False

    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        """Expand a short form (e.g. a bare string) into the mapping form; identity by default."""
        return data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        if cls.string_shorthand:
            target = handler.resolve_ref_schema(schema)
            mapping_form = dict(target)
            target.clear()
            target["anyOf"] = [{"type": "string", "minLength": 1}, mapping_form]
        return schema

    @classmethod
    def allowed_keys(cls) -> frozenset[str]:
        return frozenset(f.alias or name for name, f in cls.model_fields.items())

    @model_validator(mode="before")
    @classmethod
    def _collect_unknown_keys(cls, data: Any, info: ValidationInfo) -> Any:
        raw_id = id(data)  # the loader knows where the *raw* mapping is in the file
        data = cls._shorthand(data)
        sink = info.context.get(UNKNOWN_KEYS_CONTEXT) if isinstance(info.context, dict) else None
        if isinstance(sink, list) and isinstance(data, dict):
            allowed = cls.allowed_keys()
            unknown = [key for key in data if key not in allowed]
            if unknown:
                for key in unknown:
                    sink.append((raw_id, key, allowed))
                data = {key: value for key, value in data.items() if key in allowed}
        return data


class Text(_Strict):
    """A name or message in Chinese and English; a bare string is used for both."""

    string_shorthand: ClassVar[bool] = True

    zh: str = Field(min_length=1, max_length=500)
    en: str = Field(default="", max_length=500)

    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"zh": data, "en": data}
        if isinstance(data, dict) and not data.get("en") and isinstance(data.get("zh"), str):
            return {**data, "en": data["zh"]}
        return data


class Choice(_Strict):
    """One option of a choice field or of the contact-role list; a bare string is key and name."""

    string_shorthand: ClassVar[bool] = True

    key: str = Field(min_length=1, max_length=64)
    name: Text

    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"key": data, "name": data}
        return data


class Kind(_Strict):
    """An attachment kind that criteria refer to by key."""

    string_shorthand: ClassVar[bool] = True

    key: Key
    name: Text

    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"key": data, "name": data}
        return data


class EventPayloadField(_Strict):
    """One key an event's payload carries; ingestion refuses events missing a required one."""

    name: Key
    type: Literal["text", "number", "boolean", "id_list", "text_list", "datetime", "object"] = (
        "text"
    )
    required: bool = False


class EventType(_Strict):
    """An event type of this playbook, beyond the built-in catalogue
    (:data:`lodestar.core.events.catalogue.CATALOGUE`)."""

    string_shorthand: ClassVar[bool] = True

    key: EventTypeKey
    name: Text
    with_customer: bool = True
    payload: tuple[EventPayloadField, ...] = ()

    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"key": data, "name": data}
        return data


class FieldDef(_Strict):
    """A custom deal field, optionally required before leaving some stages."""

    key: Key
    type: FieldType
    name: Text
    choices: tuple[Choice, ...] = ()
    required_to_exit: tuple[str, ...] = ()
    help: Text | None = None

    @model_validator(mode="after")
    def _choices_match_type(self) -> FieldDef:
        if self.type in ("choice", "multi_choice") and not self.choices:
            raise ValueError(f"a {self.type} field needs a 'choices' list")
        if self.type not in ("choice", "multi_choice", "contact_role") and self.choices:
            raise ValueError(f"a {self.type} field takes no 'choices'")
        return self


# --- criteria ------------------------------------------------------------------------------


class _CriterionBase(_Strict):
    kind: ClassVar[str]
    id: Key | None = None
    label: Text | None = None


class FieldCriterion(_CriterionBase):
    """Compare a deal field (custom key, or ``deal.amount``, ``account.tier`` …) with values."""

    kind: ClassVar[str] = "field"
    operators: ClassVar[tuple[str, ...]] = (
        "eq",
        "ne",
        "gt",
        "gte",
        "lt",
        "lte",
        "in",
        "not_in",
        "is_set",
    )
    field: str = Field(min_length=1, max_length=100)
    eq: Scalar | None = None
    ne: Scalar | None = None
    gt: Scalar | None = None
    gte: Scalar | None = None
    lt: Scalar | None = None
    lte: Scalar | None = None
    in_: tuple[Scalar, ...] | None = Field(default=None, alias="in", min_length=1)
    not_in: tuple[Scalar, ...] | None = Field(default=None, min_length=1)
    is_set: bool | None = None

    @model_validator(mode="after")
    def _exactly_one_operator(self) -> FieldCriterion:
        given = [op for op in self.operators if self.operand_of(op) is not None]
        if len(given) != 1:
            raise ValueError(
                "a field criterion needs exactly one of "
                + ", ".join(self.operators)
                + (f"; it has {', '.join(given)}" if given else "")
            )
        return self

    def operand_of(self, op: str) -> Scalar | tuple[Scalar, ...] | None:
        value: Scalar | tuple[Scalar, ...] | None = getattr(self, "in_" if op == "in" else op)
        return value

    @property
    def operator(self) -> str:
        return next(op for op in self.operators if self.operand_of(op) is not None)

    @property
    def operand(self) -> Scalar | tuple[Scalar, ...]:
        value = self.operand_of(self.operator)
        assert value is not None
        return value


class CountSpec(_Strict):
    """How many related items (contacts, attachments, events) match ``where``."""

    of: Literal["contacts", "attachments", "events"]
    where: dict[str, Scalar | tuple[Scalar, ...]] = Field(default_factory=dict)
    at_least: int = Field(default=1, ge=0, le=10_000)
    within: Duration | None = None


class CountCriterion(_CriterionBase):
    kind: ClassVar[str] = "count"
    count: CountSpec


class AttachmentSpec(_Strict):
    """An attachment of a kind, of allowed content types, with enough extracted text."""

    kind: Key
    types: tuple[str, ...] = ()
    min_chars: int = Field(default=0, ge=0, le=10_000_000)
    at_least: int = Field(default=1, ge=1, le=1_000)
    within: Duration | None = None


class AttachmentCriterion(_CriterionBase):
    kind: ClassVar[str] = "attachment"
    attachment: AttachmentSpec


class EventSpec(_Strict):
    """An event of a type happened (optionally recently, optionally saying something)."""

    type: EventTypeKey
    within: Duration | None = None
    text_contains: str | None = Field(default=None, min_length=1, max_length=200)
    payload: dict[str, Scalar] = Field(default_factory=dict)


class EventCriterion(_CriterionBase):
    kind: ClassVar[str] = "event"
    event: EventSpec


class CelCriterion(_CriterionBase):
    """A CEL expression for what the structured forms cannot say; must give true/false."""

    kind: ClassVar[str] = "cel"
    cel: str = Field(min_length=1, max_length=4000)


class AllCriterion(_CriterionBase):
    kind: ClassVar[str] = "all"
    all: tuple[Criterion, ...] = Field(min_length=1)


class AnyCriterion(_CriterionBase):
    kind: ClassVar[str] = "any"
    any: tuple[Criterion, ...] = Field(min_length=1)


class NotCriterion(_CriterionBase):
    kind: ClassVar[str] = "not"
    not_: Criterion = Field(alias="not")


CRITERION_KINDS: tuple[str, ...] = (
    "field",
    "count",
    "attachment",
    "event",
    "cel",
    "all",
    "any",
    "not",
)


def _criterion_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return next((kind for kind in CRITERION_KINDS if kind in value), None)
    if isinstance(value, _CriterionBase):
        return value.kind
    return None


Criterion = Annotated[
    Annotated[FieldCriterion, Tag("field")]
    | Annotated[CountCriterion, Tag("count")]
    | Annotated[AttachmentCriterion, Tag("attachment")]
    | Annotated[EventCriterion, Tag("event")]
    | Annotated[CelCriterion, Tag("cel")]
    | Annotated[AllCriterion, Tag("all")]
    | Annotated[AnyCriterion, Tag("any")]
    | Annotated[NotCriterion, Tag("not")],
    Discriminator(
        _criterion_kind,
        custom_error_type="criterion_kind",
        custom_error_message="a criterion needs one of the keys: " + ", ".join(CRITERION_KINDS),
    ),
]
"""One exit criterion: exactly one of the keys ``field``, ``count``, ``attachment``, ``event``,
``cel``, ``all``, ``any``, ``not`` says which kind it is."""

AllCriterion.model_rebuild()
AnyCriterion.model_rebuild()
NotCriterion.model_rebuild()


def default_criterion_id(criterion: Criterion, index: int) -> str:
    """A readable id for a criterion written without one (stable while the rule is)."""
    if isinstance(criterion, FieldCriterion):
        return criterion.field.replace(".", "_")
    if isinstance(criterion, CountCriterion):
        return f"count_{criterion.count.of}"
    if isinstance(criterion, AttachmentCriterion):
        return f"attachment_{criterion.attachment.kind}"
    if isinstance(criterion, EventCriterion):
        return f"event_{criterion.event.type}"
    return f"{criterion.kind}_{index + 1}"


# --- stages ----------------------------------------------------------------------------------


class Stage(_Strict):
    """One stage of the process; ``terminal`` marks won/lost end stages (they have no exit)."""

    key: Key
    name: Text
    probability: float = Field(default=0.0, ge=0.0, le=1.0)
    weight: float | None = Field(default=None, ge=0.0, le=1.0)
    target_dwell: Duration | None = None
    terminal: Literal["won", "lost"] | None = None
    description: Text | None = None
    exit: tuple[Criterion, ...] = ()

    @property
    def forecast_weight(self) -> float:
        """The stage weight used by forecast formulas: ``weight``, else ``probability``."""
        return self.probability if self.weight is None else self.weight


# --- schema-only sections (their engines come in their own issues) -------------------------


class TaskTemplate(_Strict):
    """The task a trigger creates: who does it, by when, and which events close it."""

    title: Text
    due: Duration
    owner: Literal["deal_owner", "manager", "ops"] = "deal_owner"
    description: Text | None = None
    #: ``business`` counts only the organization's working hours; ``wall`` counts every hour.
    clock: Literal["wall", "business"] = "wall"
    #: The department the task waits on (technical support, legal …); its response time is kept.
    department: str | None = Field(default=None, max_length=64)
    #: Event types that complete the task when they happen on the deal (e.g. proposal.sent).
    closes_on: tuple[str, ...] = ()


class Trigger(_Strict):
    """When an event of type ``on`` arrives (and ``when`` holds), create ``task``."""

    id: Key
    name: Text | None = None
    on: EventTypeKey
    stages: tuple[str, ...] = ()
    when: Criterion | None = None
    task: TaskTemplate
    notify: tuple[Literal["in_app", "wecom", "dingtalk", "feishu", "email"], ...] = ("in_app",)


class SlaPolicy(_Strict):
    """What happens to overdue tasks: the owner is alerted when the deadline passes and
    reminded every ``repeat_every``; ``escalate_after`` the deadline the manager (or ops) is
    alerted too; ``remind_before`` the deadline the owner gets a heads-up."""

    escalate_after: Duration = timedelta(hours=4)
    escalate_to: Literal["manager", "ops"] = "manager"
    remind_before: Duration | None = timedelta(hours=1)
    repeat_every: Duration | None = timedelta(hours=24)


class BackwardMovesRisk(_Strict):
    enabled: bool = True
    at_least: int = Field(default=2, ge=1)


class SilenceRisk(_Strict):
    enabled: bool = True
    after: Duration = timedelta(hours=72)
    interaction_events: tuple[str, ...] = ()


class StaleRisk(_Strict):
    enabled: bool = True
    after: Duration = timedelta(days=47)
    statuses: tuple[str, ...] = ("open",)


class RiskPolicy(_Strict):
    """Risk patterns flagged per deal (seed: backward ≥ 2, silent 72 h, stale 47 days)."""

    backward_moves: BackwardMovesRisk = BackwardMovesRisk()
    silence: SilenceRisk = SilenceRisk()
    stale: StaleRisk = StaleRisk()
    exemption_recheck: Duration = timedelta(days=14)


def _weights_sum_to_one(*weights: float) -> None:
    if abs(sum(weights) - 1.0) > 1e-6:
        raise ValueError(f"the weights must add up to 1 (they add up to {sum(weights):g})")


class HealthWeights(_Strict):
    dwell_deviation: float = Field(default=0.4, ge=0.0, le=1.0)
    task_on_time: float = Field(default=0.3, ge=0.0, le=1.0)
    interaction_frequency: float = Field(default=0.3, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _sum(self) -> HealthWeights:
        _weights_sum_to_one(self.dwell_deviation, self.task_on_time, self.interaction_frequency)
        return self


class HealthPolicy(_Strict):
    """Per-rep funnel health score; below ``threshold`` the manager is alerted."""

    threshold: float = Field(default=70.0, ge=0.0, le=100.0)
    weights: HealthWeights = HealthWeights()


class ScorecardWeights(_Strict):
    minutes: float = Field(default=0.4, ge=0.0, le=1.0)
    knowledge_link: float = Field(default=0.3, ge=0.0, le=1.0)
    next_followup: float = Field(default=0.3, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _sum(self) -> ScorecardWeights:
        _weights_sum_to_one(self.minutes, self.knowledge_link, self.next_followup)
        return self


class ScorecardPolicy(_Strict):
    """Communication quality scorecard (seed: 300 chars within 24 h, threshold 75 × 3)."""

    minutes_kind: str = "meeting_minutes"
    min_chars: int = Field(default=300, ge=0)
    upload_within: Duration = timedelta(hours=24)
    min_knowledge_links: int = Field(default=1, ge=0)
    require_next_followup: bool = True
    weights: ScorecardWeights = ScorecardWeights()
    threshold: float = Field(default=75.0, ge=0.0, le=100.0)
    consecutive_below: int = Field(default=3, ge=1)
    handbook: str | None = "objection_handling"


class RequiredAction(_Strict):
    """One required action: ``count`` events of a type, or attachments of a kind, per period."""

    event: str | None = None
    attachment: str | None = None
    count: int = Field(default=1, ge=1, le=1_000)
    name: Text | None = None

    @model_validator(mode="after")
    def _exactly_one_target(self) -> RequiredAction:
        if (self.event is None) == (self.attachment is None):
            raise ValueError("a required action names exactly one of 'event' or 'attachment'")
        return self


class RequiredActionSet(_Strict):
    """Actions due per account and period (the action penetration rate's denominator)."""

    id: Key
    name: Text
    account_tiers: tuple[str, ...] = ()
    period: Literal["week", "month", "quarter"] = "month"
    actions: tuple[RequiredAction, ...] = Field(min_length=1)


class ForecastPolicy(_Strict):
    """Win probability by formula, a CEL expression giving a double.

    Its names: ``repurchase_rate``, ``stage_weight``, ``stage_probability``, ``amount``,
    ``days_in_stage`` and every number or money field by its key, e.g. the seed's
    ``repurchase_rate * 0.4 + stage_weight * 0.3 - legal_review_overdue_days * 0.3``.
    Without a formula the stage probability is the forecast.
    """

    formula: str | None = Field(default=None, min_length=1, max_length=4000)
    clamp: bool = True


# --- the whole file --------------------------------------------------------------------------


class Playbook(_Strict):
    """One sales process: stages with exit criteria, fields, and the policies around them."""

    key: Key
    name: Text
    description: Text | None = None
    industry: str | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "CNY"
    timezone: str = "Asia/Shanghai"
    contact_roles: tuple[Choice, ...] = ()
    attachment_kinds: tuple[Kind, ...] = ()
    event_types: tuple[EventType, ...] = ()
    fields: tuple[FieldDef, ...] = ()
    stages: tuple[Stage, ...] = Field(min_length=2)
    triggers: tuple[Trigger, ...] = ()
    sla: SlaPolicy = SlaPolicy()
    risks: RiskPolicy = RiskPolicy()
    health: HealthPolicy = HealthPolicy()
    scorecard: ScorecardPolicy = ScorecardPolicy()
    required_actions: tuple[RequiredActionSet, ...] = ()
    forecast: ForecastPolicy = ForecastPolicy()

    @cached_property
    def stage_index(self) -> dict[str, int]:
        """Position of each stage key in ``stages`` (the first one wins for duplicates)."""
        index: dict[str, int] = {}
        for position, stage in enumerate(self.stages):
            index.setdefault(stage.key, position)
        return index

    @cached_property
    def field_index(self) -> dict[str, FieldDef]:
        index: dict[str, FieldDef] = {}
        for field in self.fields:
            index.setdefault(field.key, field)
        return index

    def stage(self, key: str) -> Stage:
        """The stage with ``key``; ``KeyError`` if there is none."""
        return self.stages[self.stage_index[key]]

    def field_def(self, key: str) -> FieldDef | None:
        return self.field_index.get(key)
