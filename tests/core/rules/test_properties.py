"""Property tests: compiled structured criteria agree with the plain reference interpreter."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from lodestar.core.playbook.model import Criterion
from lodestar.core.rules import (
    AccountData,
    AttachmentData,
    ContactData,
    DealContext,
    DealData,
    EventData,
    compile_criterion,
)
from tests.core.rules.helpers import NOW, seed_playbook
from tests.core.rules.reference import MIME, reference_met

ROLES = ["cto", "purchasing_director", "plant_manager", "cfo", "legal_counsel"]
KINDS = ["meeting_minutes", "signed_quote", "tech_agreement"]
EVENT_TYPES = ["chat.message", "demo.held", "demo.booked"]
WORDS = ["已确认", "收到", "好的", "确认", ""]
DURATIONS = st.sampled_from(["1h", "24h", "72h", "7d"])
# Boundaries (exactly 24 h old, exactly 300 chars) are where off-by-one bugs live.
ages = st.sampled_from([0.0, 1.0, 24.0, 72.0, 168.0]) | st.floats(0, 24 * 10, allow_nan=False)
CHARS = st.sampled_from([0, 20, 300])

# -- criteria ---------------------------------------------------------------------------------

money = st.integers(0, 200_000)
dates = st.dates(date(2025, 1, 1), date(2025, 12, 31)).map(lambda d: d)


def _field_rules() -> st.SearchStrategy[dict[str, Any]]:
    def one(
        field: str, ops: dict[str, st.SearchStrategy[Any]]
    ) -> st.SearchStrategy[dict[str, Any]]:
        return st.sampled_from(sorted(ops)).flatmap(
            lambda op: ops[op].map(lambda value: {"field": field, op: value})
        )

    roles = st.sampled_from(ROLES)
    periods = st.sampled_from(["within_1m", "within_3m"])
    numbers = st.integers(-5, 10) | st.floats(-5, 10, allow_nan=False)
    return st.one_of(
        one(
            "budget_confirmed", {"eq": st.booleans(), "ne": st.booleans(), "is_set": st.booleans()}
        ),
        one(
            "signer_role",
            {
                "eq": roles,
                "ne": roles,
                "in": st.lists(roles, min_size=1, max_size=3),
                "not_in": st.lists(roles, min_size=1, max_size=3),
                "is_set": st.booleans(),
            },
        ),
        one("signing_period", {"eq": periods, "in": st.lists(periods, min_size=1)}),
        one(
            "legal_review_overdue_days",
            {op: numbers for op in ("eq", "ne", "gt", "gte", "lt", "lte")}
            | {"in": st.lists(st.integers(-2, 5), min_size=1, max_size=3)},
        ),
        one("deal.amount", {op: money for op in ("gt", "gte", "lt", "lte", "eq")}),
        one(
            "budget_amount",
            {op: money for op in ("gt", "lte", "in")}
            | {"in": st.lists(money, min_size=1, max_size=2)},
        ),
        one(
            "poc_date",
            {op: dates for op in ("eq", "gt", "gte", "lt", "lte")} | {"is_set": st.booleans()},
        ),
        one("deal.expected_close_date", {op: dates for op in ("lt", "gte")}),
        one(
            "competitor",
            {
                "eq": st.sampled_from(["ABB", "西门子"]),
                "not_in": st.lists(st.sampled_from(["ABB", "西门子"]), min_size=1),
            },
        ),
        one(
            "account.tier",
            {
                "eq": st.sampled_from(["key", "normal"]),
                "in": st.lists(st.sampled_from(["key", "normal"]), min_size=1),
            },
        ),
        one(
            "integrations",
            {
                "in": st.lists(st.sampled_from(["erp", "mes", "wecom"]), min_size=1),
                "not_in": st.lists(st.sampled_from(["erp", "mes", "wecom"]), min_size=1),
                "is_set": st.booleans(),
            },
        ),
    )


def _count_rules() -> st.SearchStrategy[dict[str, Any]]:
    contact_where = st.fixed_dictionaries(
        {},
        optional={
            "is_decision_maker": st.booleans(),
            "attended": st.booleans() | st.sampled_from(["demo", "kickoff"]),
            "role": st.sampled_from(ROLES)
            | st.lists(st.sampled_from(ROLES), min_size=1, max_size=3),
        },
    )
    event_where = st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(EVENT_TYPES),
            "text_contains": st.sampled_from(WORDS[:4]),
        },
    )
    attachment_where = st.fixed_dictionaries(
        {},
        optional={
            "kind": st.sampled_from(KINDS),
            "type": st.sampled_from(sorted(MIME))
            | st.lists(st.sampled_from(sorted(MIME)), min_size=1, max_size=2),
            "min_chars": CHARS,
        },
    )
    at_least = st.integers(0, 3)
    return st.one_of(
        st.builds(
            lambda w, n: {"count": {"of": "contacts", "where": w, "at_least": n}},
            contact_where,
            at_least,
        ),
        st.builds(
            lambda w, n, d: {"count": {"of": "events", "where": w, "at_least": n, **d}},
            event_where,
            at_least,
            st.fixed_dictionaries({}, optional={"within": DURATIONS}),
        ),
        st.builds(
            lambda w, n, d: {"count": {"of": "attachments", "where": w, "at_least": n, **d}},
            attachment_where,
            at_least,
            st.fixed_dictionaries({}, optional={"within": DURATIONS}),
        ),
    )


attachment_rules = st.builds(
    lambda kind, extra: {"attachment": {"kind": kind, **extra}},
    st.sampled_from(KINDS),
    st.fixed_dictionaries(
        {},
        optional={
            "types": st.lists(st.sampled_from(sorted(MIME)), min_size=1, max_size=2),
            "min_chars": CHARS,
            "at_least": st.integers(1, 2),
            "within": DURATIONS,
        },
    ),
)
event_rules = st.builds(
    lambda type_, extra: {"event": {"type": type_, **extra}},
    st.sampled_from(EVENT_TYPES),
    st.fixed_dictionaries(
        {},
        optional={
            "within": DURATIONS,
            "text_contains": st.sampled_from(WORDS[:4]),
            "payload": st.fixed_dictionaries({"from_customer": st.booleans()}),
        },
    ),
)
# sampled_from + flatmap gives each kind an equal share (one_of would weigh by branch count).
leaves = st.sampled_from([_field_rules(), _count_rules(), attachment_rules, event_rules]).flatmap(
    lambda kind: kind
)
rules = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=4).map(lambda c: {"all": c}),
        st.lists(children, min_size=1, max_size=4).map(lambda c: {"any": c}),
        children.map(lambda c: {"not": c}),
    ),
    max_leaves=6,
)

# -- contexts ---------------------------------------------------------------------------------

contacts = st.builds(
    ContactData,
    name=st.sampled_from(["王总", "李工", "张经理"]),
    role=st.none() | st.sampled_from(ROLES),
    is_decision_maker=st.booleans(),
    attended=st.frozensets(st.sampled_from(["demo", "kickoff", "m1"]), max_size=2),
)
attachments = st.builds(
    lambda kind, mime, age, chars: AttachmentData(kind, mime, NOW - timedelta(hours=age), chars),
    st.sampled_from(KINDS),
    st.sampled_from([*MIME.values(), "application/zip"]),
    ages,
    CHARS | st.integers(0, 600),
)
events = st.builds(
    lambda type_, age, payload: EventData(type_, NOW - timedelta(hours=age), payload),
    st.sampled_from(EVENT_TYPES),
    ages,
    st.fixed_dictionaries(
        {},
        optional={
            "text": st.sampled_from(WORDS) | st.text(max_size=8),
            "from_customer": st.booleans() | st.integers(0, 1),
            "note": st.none() | st.sampled_from(["已确认了", "x"]),
        },
    ),
)
unset = st.sampled_from([None, ""])
field_values = st.fixed_dictionaries(
    {},
    optional={
        "budget_confirmed": st.booleans() | unset,
        "signer_role": st.sampled_from(ROLES) | unset,
        "signing_period": st.sampled_from(["within_1m", "within_3m"]) | unset,
        "legal_review_overdue_days": st.integers(-3, 8)
        | st.floats(-3, 8, allow_nan=False)
        | unset
        | st.just("many"),
        "budget_amount": st.integers(0, 200_000).map(Decimal) | unset,
        "poc_date": dates | unset | st.just("2025-05-01"),
        "competitor": st.sampled_from(["ABB", "西门子", "其他"]) | unset,
        "integrations": st.lists(st.sampled_from(["erp", "mes", "wecom"]), max_size=3).map(tuple)
        | st.frozensets(st.sampled_from(["erp", "mes"]))
        | st.none(),
    },
)
contexts = st.builds(
    lambda fields, amount, close, tier, people, files, happened: DealContext(
        deal=DealData(
            stage="demo",
            amount=amount,
            expected_close_date=close,
            fields=fields,
        ),
        now=NOW,
        account=AccountData(tier=tier),
        contacts=tuple(people),
        attachments=tuple(files),
        events=tuple(happened),
    ),
    field_values,
    st.none() | st.integers(0, 200_000).map(Decimal),
    st.none() | dates,
    st.sampled_from(["key", "normal", ""]),
    st.lists(contacts, max_size=5),
    st.lists(attachments, max_size=5),
    st.lists(events, max_size=5),
)

_CRITERION = TypeAdapter(Criterion)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule=rules, ctx=contexts)
def test_compiled_criteria_agree_with_the_reference_interpreter(
    rule: dict[str, Any], ctx: DealContext
) -> None:
    parsed = _CRITERION.validate_python(rule)
    compiled = compile_criterion(seed_playbook(), parsed)

    expected = reference_met(seed_playbook(), parsed, ctx)

    assert compiled.test(ctx) is expected
    assert compiled.evaluate(ctx).met is expected


@settings(max_examples=200, deadline=None)
@given(rule=rules, ctx=contexts)
def test_every_result_explains_itself_in_both_languages(
    rule: dict[str, Any], ctx: DealContext
) -> None:
    compiled = compile_criterion(seed_playbook(), _CRITERION.validate_python(rule))

    result = compiled.evaluate(ctx)

    assert result.explanation.zh
    assert result.explanation.en
    assert result.label.zh
    assert result.label.en
