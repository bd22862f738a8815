"""Gate evaluations per second: compiled playbook criteria against hand-written Python.

The two seed templates' gates — the SaaS demo gate (seed 000), the industrial
technical-solution and quote gates (seed 001) — and their CEL discount rules are evaluated
on the same random deal contexts by the compiled playbook and by plain functions written for
the same rules, in the same run. Before timing, both must agree on every context.

    python bench/gates.py [--scale small|full] [--db sqlite|postgres]

(`--db` is accepted for a uniform command line; gates run in memory and touch no database.)
Target: compiled structured criteria ≥ 0.5 × hand-written Python.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from lodestar.core.rules import (
    AccountData,
    AttachmentData,
    CompiledPlaybook,
    ContactData,
    DealContext,
    DealData,
    EventData,
    compile_playbook,
)
from lodestar.industry_templates import load_template

NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)
PDF, JPG, DOCX = (
    "application/pdf",
    "image/jpeg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)


def random_context(rng: random.Random, stage: str) -> DealContext:
    contacts = tuple(
        ContactData(
            name=f"c{i}",
            is_decision_maker=rng.random() < 0.5,
            attended=frozenset({"demo.held"}) if rng.random() < 0.6 else frozenset(),
        )
        for i in range(rng.randint(0, 5))
    )
    attachments = tuple(
        AttachmentData(
            kind=rng.choice(["meeting_minutes", "tech_agreement", "signed_quote", "other"]),
            content_type=rng.choice([PDF, JPG, DOCX]),
            uploaded_at=NOW - dt.timedelta(hours=rng.randint(1, 500)),
            text_length=rng.randint(0, 900),
        )
        for _ in range(rng.randint(0, 4))
    )
    events = tuple(
        EventData(
            type="chat.message",
            occurred_at=NOW - dt.timedelta(hours=rng.randint(1, 500)),
            payload={
                "text": rng.choice(["方案已确认", "好的,已确认", "再看看", "价格太高"]),
                "from_customer": rng.random() < 0.7,
            },
        )
        for _ in range(rng.randint(0, 3))
    )
    fields: dict[str, Any] = {}
    for key, chance, value in (
        ("budget_confirmed", 0.6, rng.random() < 0.8),
        ("tech_signer_title", 0.6, "cto"),
        ("signing_period", 0.6, "within_3m"),
        ("decision_chain_role", 0.6, "purchasing_director"),
        ("discount_pct", 0.7, rng.choice([5, 10, 15, 25])),
        ("discount_approved", 0.4, rng.random() < 0.5),
    ):
        if rng.random() < chance:
            fields[key] = value
    return DealContext(
        deal=DealData(stage=stage, amount=Decimal(rng.randint(1, 90) * 10_000), fields=fields),
        now=NOW,
        account=AccountData(industry="制造业", tier="key", repurchase_rate=0.4),
        contacts=contacts,
        attachments=attachments,
        events=events,
    )


# --- the same rules, written by hand ---------------------------------------------------------


def has_attachment(ctx: DealContext, kind: str, types: frozenset[str] | None = None) -> bool:
    for attachment in ctx.attachments:
        if attachment.kind == kind and (types is None or attachment.content_type in types):
            return True
    return False


PDF_JPG = frozenset({PDF, JPG})


def saas_demo_gate(ctx: DealContext) -> bool:
    attended = 0
    for contact in ctx.contacts:
        if contact.is_decision_maker and contact.attended:
            attended += 1
    return (
        attended >= 2
        and ctx.deal.fields.get("budget_confirmed") is True
        and has_attachment(ctx, "meeting_minutes")
    )


def industrial_technical_gate(ctx: DealContext) -> bool:
    if not has_attachment(ctx, "tech_agreement", PDF_JPG):
        return False
    if ctx.deal.fields.get("tech_signer_title") is None:
        return False
    for event in ctx.events:
        payload = event.payload
        if (
            event.type == "chat.message"
            and "已确认" in payload.get("text", "")
            and payload.get("from_customer") is True
        ):
            return True
    return False


def industrial_quote_gate(ctx: DealContext) -> bool:
    fields = ctx.deal.fields
    return (
        has_attachment(ctx, "signed_quote", PDF_JPG)
        and fields.get("signing_period") is not None
        and fields.get("decision_chain_role") is not None
    )


def discount_rule(limit: float) -> Callable[[DealContext], bool]:
    def rule(ctx: DealContext) -> bool:
        pct = ctx.deal.fields.get("discount_pct")
        return (pct is not None and pct <= limit) or ctx.deal.fields.get(
            "discount_approved"
        ) is True

    return rule


# --- measuring -------------------------------------------------------------------------------


def rate(
    check: Callable[[DealContext], object], contexts: list[DealContext], seconds: float
) -> float:
    """Evaluations per second over whole passes through `contexts` for about `seconds`."""
    done, started = 0, time.perf_counter()
    while True:
        for ctx in contexts:
            check(ctx)
        done += len(contexts)
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return done / elapsed


def cel_test(compiled: CompiledPlaybook, stage: str) -> Callable[[DealContext], bool]:
    criterion = next(c for c in compiled.gates[stage].criteria if c.kind == "cel")
    return criterion.test


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["small", "full"], default="small")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    seconds, count = (0.5, 2_000) if args.scale == "small" else (3.0, 20_000)

    saas = compile_playbook(load_template("saas_b2b"))
    industrial = compile_playbook(load_template("industrial_equipment"))
    rng = random.Random(20260601)
    cases: list[tuple[str, str, Callable[[DealContext], bool], Callable[[DealContext], bool], str]]
    cases = [
        ("saas demo gate", "structured", saas.gates["demo"].passes, saas_demo_gate, "demo"),
        (
            "industrial technical gate",
            "structured",
            industrial.gates["technical_solution"].passes,
            industrial_technical_gate,
            "technical_solution",
        ),
        (
            "industrial quote gate",
            "structured",
            industrial.gates["quote"].passes,
            industrial_quote_gate,
            "quote",
        ),
        ("saas discount (CEL)", "cel", cel_test(saas, "proposal"), discount_rule(20.0), "proposal"),
        (
            "industrial discount (CEL)",
            "cel",
            cel_test(industrial, "negotiation"),
            discount_rule(10.0),
            "negotiation",
        ),
    ]
    rows = []
    for name, kind, compiled, by_hand, stage in cases:
        contexts = [random_context(rng, stage) for _ in range(count)]
        disagreements = sum(bool(compiled(ctx)) != by_hand(ctx) for ctx in contexts)
        if disagreements:
            raise SystemExit(
                f"{name}: compiled and hand-written disagree on {disagreements} contexts"
            )
        passing = sum(by_hand(ctx) for ctx in contexts) / len(contexts)
        compiled_rate = rate(compiled, contexts, seconds)
        by_hand_rate = rate(by_hand, contexts, seconds)
        rows.append((name, kind, passing, compiled_rate, by_hand_rate))

    print(f"{'rule':<28}{'kind':<12}{'pass %':>8}{'compiled/s':>14}{'by hand/s':>14}{'ratio':>8}")
    for name, kind, passing, compiled_rate, by_hand_rate in rows:
        print(
            f"{name:<28}{kind:<12}{passing:>8.0%}{compiled_rate:>14,.0f}{by_hand_rate:>14,.0f}"
            f"{compiled_rate / by_hand_rate:>8.2f}"
        )
    structured = [r for r in rows if r[1] == "structured"]
    figure = sum(r[3] for r in structured) / len(structured)
    baseline = sum(r[4] for r in structured) / len(structured)
    print(
        json.dumps(
            {
                "bench": "gates",
                "db": "none",
                "figure": round(figure),
                "unit": "structured gate evaluations/s (mean of 3 seed gates)",
                "baseline": round(baseline),
                "ratio": round(figure / baseline, 3),
                "target": ">= 0.5",
            }
        )
    )


if __name__ == "__main__":
    main()
