"""Ready-made mappings for the Maven CRM sample files and a Salesforce data export."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from lodestar.core.imports import (
    LookupContext,
    StageInfo,
    check_rows,
    read_table,
    ready_mapping,
    resolve_stage_ref,
)
from lodestar.core.rules.results import Bilingual
from tests.core.imports.data import MAVEN, SALESFORCE, STAGES

CASES = [
    (MAVEN / "accounts.csv", "accounts", "ready:maven_crm.accounts"),
    (MAVEN / "products.csv", "products", "ready:maven_crm.products"),
    (MAVEN / "sales_pipeline.csv", "deals", "ready:maven_crm.sales_pipeline"),
    (SALESFORCE / "Account.csv", "accounts", "ready:salesforce.account"),
    (SALESFORCE / "Opportunity.csv", "deals", "ready:salesforce.opportunity"),
    (
        SALESFORCE / "OpportunityHistory.csv",
        "stage_history",
        "ready:salesforce.opportunity_history",
    ),
    (SALESFORCE / "Lead.csv", "contacts", "ready:salesforce.lead"),
]


@pytest.mark.parametrize(("path", "kind", "source"), CASES, ids=lambda v: getattr(v, "name", v))
def test_each_known_export_gets_its_ready_mapping_and_it_is_valid(
    path: object, kind: str, source: str
) -> None:
    table = read_table(path.read_bytes(), path.name)  # type: ignore[attr-defined]

    mapping = ready_mapping(kind, table.headers, table.rows)

    assert mapping is not None
    assert mapping.source == source
    assert mapping.validate(table.headers) == []


def test_a_file_of_another_kind_gets_no_ready_mapping() -> None:
    table = read_table((MAVEN / "sales_pipeline.csv").read_bytes(), "sales_pipeline.csv")

    assert ready_mapping("accounts", table.headers) is None


def test_the_column_order_does_not_matter() -> None:
    table = read_table((MAVEN / "products.csv").read_bytes(), "products.csv")

    assert ready_mapping("products", list(reversed(table.headers))) is not None


def _pipeline_results(stages: tuple[StageInfo, ...] = STAGES) -> list:  # type: ignore[type-arg]
    table = read_table((MAVEN / "sales_pipeline.csv").read_bytes(), "sales_pipeline.csv")
    products = read_table((MAVEN / "products.csv").read_bytes(), "products.csv")
    mapping = ready_mapping("deals", table.headers, table.rows)
    assert mapping is not None
    context = LookupContext(
        stages=stages,
        products={row[0]: index for index, row in enumerate(products.rows)},
        timezone="UTC",
    )
    return list(check_rows("deals", mapping, table, context))


def _hand_count() -> Counter[str]:
    with (MAVEN / "sales_pipeline.csv").open(encoding="utf-8", newline="") as handle:
        return Counter(row["deal_stage"] for row in csv.DictReader(handle))


def test_every_maven_deal_passes_with_won_and_lost_as_in_the_file() -> None:
    results = _pipeline_results()
    hand = _hand_count()

    statuses = Counter(r.values["status"] for r in results)

    assert all(r.ok for r in results)
    assert (statuses["won"], statuses["lost"]) == (hand["Won"], hand["Lost"])
    assert statuses["open"] == hand["Prospecting"] + hand["Engaging"]


def test_the_maven_gtxpro_and_empty_account_rows_are_counted_as_warnings() -> None:
    with (MAVEN / "sales_pipeline.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    gtxpro = sum(row["product"] == "GTXPro" for row in rows)
    no_account = sum(not row["account"] for row in rows)

    codes = Counter(p.code for r in _pipeline_results() for p in r.problems)

    assert codes["product_unknown"] == gtxpro > 0
    assert codes["account_empty"] == no_account > 0


def test_a_maven_won_deal_enters_engaging_then_won_with_its_dates() -> None:
    won = next(r for r in _pipeline_results() if r.key == "1C1I7A6R")

    assert [(h.stage, h.at.date().isoformat()) for h in won.history] == [
        ("qualify", "2016-10-20"),
        ("won", "2017-03-01"),
    ]
    assert won.values["currency"] == "USD"


def test_the_maven_mapping_fits_a_playbook_with_other_stage_keys() -> None:
    stages = (
        StageInfo("s1", Bilingual("初步接触", "First contact")),
        StageInfo("s2", Bilingual("深入沟通", "Engaged")),
        StageInfo("s3", Bilingual("报价", "Quote")),
        StageInfo("win", Bilingual("签约", "Signed"), "won"),
        StageInfo("loss", Bilingual("放弃", "Dropped"), "lost"),
    )

    results = _pipeline_results(stages)

    assert Counter(r.values["stage"] for r in results) == {
        "win": 4238,
        "loss": 2473,
        "s2": 1589,
        "s1": 500,
    }


@pytest.mark.parametrize(
    ("ref", "key"),
    [("@first", "lead"), ("@last", "negotiate"), ("@working:2", "qualify"),
     ("@working:9", "negotiate"), ("@progress:1/8", "lead"), ("@progress:8/8", "negotiate"),
     ("@progress:5/8", "demo"), ("@won", "won"), ("@lost", "lost")],
)  # fmt: skip
def test_stage_references_resolve_against_the_playbook(ref: str, key: str) -> None:
    assert resolve_stage_ref(ref, STAGES) == key


def test_a_playbook_without_a_lost_stage_resolves_no_lost_reference() -> None:
    assert resolve_stage_ref("@lost", STAGES[:5]) is None


def test_salesforce_opportunities_find_their_accounts_by_export_id() -> None:
    accounts = read_table((SALESFORCE / "Account.csv").read_bytes(), "Account.csv")
    table = read_table((SALESFORCE / "Opportunity.csv").read_bytes(), "Opportunity.csv")
    mapping = ready_mapping("deals", table.headers, table.rows)
    assert mapping is not None
    context = LookupContext(
        stages=STAGES, account_keys={row[0]: i for i, row in enumerate(accounts.rows)}
    )

    results = list(check_rows("deals", mapping, table, context))

    assert all(r.ok for r in results)
    assert Counter(r.values["status"] for r in results)["won"] == 18
    assert {r.values["stage"] for r in results} <= {s.key for s in STAGES}


def test_salesforce_history_rows_become_history_items() -> None:
    table = read_table((SALESFORCE / "OpportunityHistory.csv").read_bytes(), "h.csv")
    mapping = ready_mapping("stage_history", table.headers, table.rows)
    assert mapping is not None
    deals = {row[1]: i for i, row in enumerate(table.rows)}

    results = list(
        check_rows("stage_history", mapping, table, LookupContext(stages=STAGES, deal_keys=deals))
    )

    assert all(r.ok and len(r.history) == 1 for r in results)
    assert len({r.key for r in results}) == len(table.rows)


def test_salesforce_leads_become_contacts_with_their_company() -> None:
    table = read_table((SALESFORCE / "Lead.csv").read_bytes(), "Lead.csv")
    mapping = ready_mapping("contacts", table.headers, table.rows)
    assert mapping is not None

    first = next(iter(check_rows("contacts", mapping, table, LookupContext())))

    assert first.values["name"] == "Bertha Boxer"
    assert first.references["account"].value == "Farmers Coop. of Florida"
    assert first.custom["lead_source"] == "Web"
