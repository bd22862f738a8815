"""What satisfies each unmet exit criterion (`lodestar.core.rules.remedies`)."""

from __future__ import annotations

import datetime as dt

from lodestar.core.playbook import load_playbook
from lodestar.core.rules import compile_playbook
from lodestar.core.rules.compiler import stage_criteria
from lodestar.core.rules.remedies import (
    AddContact,
    Needs,
    RecordEvent,
    SetField,
    Upload,
    remedies_for,
)
from lodestar.core.rules.results import Bilingual, CriterionResult, GateResult
from lodestar.industry_templates import load_template

PLAYBOOK = """
key: remedies
name: Remedies
contact_roles:
  - {key: cto, name: {zh: CTO, en: CTO}}
  - {key: cfo, name: {zh: 财务总监, en: CFO}}
attachment_kinds:
  - {key: minutes, name: {zh: 会议纪要, en: Minutes}}
fields:
  - {key: budget, type: money, name: 预算}
  - {key: level, type: choice, name: 级别, choices: [a, b, c]}
  - {key: go, type: boolean, name: 可推进, required_to_exit: [one]}
stages:
  - key: one
    name: 一
    exit:
      - field: budget
        gte: 10000
      - field: level
        in: [a, b]
      - field: level
        ne: c
      - field: deal.expected_close_date
        is_set: true
      - field: account.tier
        eq: key
      - count: {of: contacts, where: {role: cfo, is_decision_maker: true}, at_least: 2}
      - count: {of: contacts, where: {attended: true}}
      - count: {of: attachments, where: {kind: minutes, min_chars: 300}}
      - count: {of: events, where: {type: call, payload.direction: out}, at_least: 3, within: 7d}
      - id: either
        any:
          - event: {type: call}
          - attachment: {kind: minutes, types: [pdf]}
      - not: {field: go, eq: false}
      - cel: fields.budget > deal.amount && fields.go
  - {key: won, name: 赢, terminal: won}
"""


def unmet_gate(playbook: object, stage: str) -> GateResult:
    """Every criterion of `stage` unmet (what a fresh deal shows)."""
    compiled = compile_playbook(playbook)  # type: ignore[arg-type]
    label = Bilingual("x", "x")
    results = []
    for criterion in compiled.gates[stage].criteria:
        children: tuple[CriterionResult, ...] = ()
        if criterion.kind == "any":
            children = (
                CriterionResult("a", label, False, label),
                CriterionResult("b", label, False, label),
            )
        results.append(CriterionResult(criterion.id, label, False, label, children=children))
    return GateResult(stage, tuple(results))


def test_it_names_each_criterion_as_its_gate_reports_it() -> None:
    playbook = load_playbook(PLAYBOOK, "remedies.yaml")
    compiled = compile_playbook(playbook)
    ids = [cid for cid, _ in stage_criteria(playbook, playbook.stage("one"))]
    assert ids == [c.id for c in compiled.gates["one"].criteria]
    assert ids[1:3] == ["level", "level_3"]  # a repeated default id gets its position
    assert ids[-1] == "go_set"  # the required field comes last


def test_it_offers_the_action_that_satisfies_each_criterion() -> None:
    playbook = load_playbook(PLAYBOOK, "remedies.yaml")
    remedies = remedies_for(playbook, "one", unmet_gate(playbook, "one"))

    budget = remedies["budget"].actions[0]
    assert isinstance(budget, SetField)
    assert (budget.field, budget.type, budget.minimum, budget.strict) == (
        "budget",
        "money",
        10000,
        False,
    )
    level = remedies["level"].actions[0]
    assert isinstance(level, SetField)
    assert [key for key, _ in level.choices] == ["a", "b"]  # only the choices that pass
    not_c = remedies["level_3"].actions[0]
    assert isinstance(not_c, SetField)
    assert [key for key, _ in not_c.choices] == ["a", "b"]
    close = remedies["deal_expected_close_date"].actions[0]
    assert isinstance(close, SetField)
    assert (close.field, close.custom) == ("deal.expected_close_date", False)
    assert remedies["account_tier"].actions == (Needs("account"),)
    assert remedies["count_contacts"].actions == (
        AddContact(roles=(("cfo", Bilingual("财务总监", "CFO")),), decision_maker=True, at_least=2),
    )
    assert remedies["count_contacts_7"].actions == (Needs("attended"),)
    minutes = remedies["count_attachments"].actions[0]
    assert minutes == Upload("minutes", Bilingual("会议纪要", "Minutes"), (), 300, 1, None)
    calls = remedies["count_events"].actions[0]
    assert isinstance(calls, RecordEvent)
    assert (calls.type, dict(calls.payload), calls.at_least, calls.within) == (
        "call",
        {"direction": "out"},
        3,
        dt.timedelta(days=7),
    )
    either = remedies["either"]
    assert either.any_of
    assert [type(a) for a in either.actions] == [RecordEvent, Upload]
    assert remedies["not_11"].actions == (Needs("not"),)
    cel = remedies["cel_12"].actions[0]
    assert isinstance(cel, Needs)
    assert cel.reason == "cel"
    assert [f.field for f in cel.fields] == ["budget", "deal.amount", "go"]
    go = remedies["go_set"].actions[0]
    assert isinstance(go, SetField)
    assert go.type == "boolean"


def test_it_leaves_out_the_parts_of_a_choice_already_met() -> None:
    playbook = load_playbook(PLAYBOOK, "remedies.yaml")
    gate = unmet_gate(playbook, "one")
    label = Bilingual("x", "x")
    either = next(r for r in gate.results if r.id == "either")
    met_call = CriterionResult("a", label, True, label)
    partly = CriterionResult("either", label, False, label, children=(met_call, either.children[1]))
    gate = GateResult("one", tuple(partly if r.id == "either" else r for r in gate.results))

    assert [type(a) for a in remedies_for(playbook, "one", gate)["either"].actions] == [Upload]


def test_it_offers_nothing_for_met_criteria_or_an_unknown_stage() -> None:
    playbook = load_playbook(PLAYBOOK, "remedies.yaml")
    label = Bilingual("x", "x")
    met = GateResult("one", (CriterionResult("budget", label, True, label),))
    assert remedies_for(playbook, "one", met) == {}
    assert remedies_for(playbook, "gone", unmet_gate(playbook, "one")) == {}


def test_the_industrial_templates_chat_confirmation_is_the_customers_own_message() -> None:
    playbook = load_template("industrial_equipment")
    remedies = remedies_for(
        playbook, "technical_solution", unmet_gate(playbook, "technical_solution")
    )

    confirmed = remedies["customer_confirmed"].actions[0]
    assert isinstance(confirmed, RecordEvent)
    assert (confirmed.type, confirmed.text_contains, confirmed.from_customer) == (
        "chat.message",
        "已确认",
        True,
    )
    agreement = remedies["tech_agreement"].actions[0]
    assert isinstance(agreement, Upload)
    assert (agreement.kind, agreement.types) == ("tech_agreement", ("pdf", "jpg"))
    title = remedies["signer_title"].actions[0]
    assert isinstance(title, SetField)
    assert len(title.choices) == 8
    assert dict(title.choices)["purchasing_director"] == Bilingual(
        "采购总监", "Purchasing director"
    )
