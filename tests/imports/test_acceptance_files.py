"""The import's acceptance: the public Maven CRM and Salesforce sample files, a GBK file from a
Chinese office, and a second import of the same file."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from lodestar.crm.models import Account, Contact, Opportunity, OpportunityStatus, StageTransition
from lodestar.events.models import Event
from lodestar.imports.models import ImportBatch, ImportProblem
from lodestar.insights.metrics import MetricFilters, metric_report
from lodestar.org.models import User
from tests.conftest import Cast
from tests.imports.helpers import upload
from tests.public_data import PUBLIC

MAVEN = PUBLIC / "maven_crm"
SALESFORCE = PUBLIC / "salesforce_devorg_sample"


def _run(user: User, kind: str, path: Path) -> ImportBatch:
    """Upload the file and run it with the mapping the import suggests (no manual step)."""
    from lodestar.imports.services import import_run_now

    batch = upload(user, kind, path.read_bytes(), path.name)
    return import_run_now(user=user, batch=batch, dry_run=False)


def _maven(user: User) -> ImportBatch:
    _run(user, "products", MAVEN / "products.csv")
    _run(user, "accounts", MAVEN / "accounts.csv")
    return _run(user, "deals", MAVEN / "sales_pipeline.csv")


def _pipeline_rows() -> list[dict[str, str]]:
    with (MAVEN / "sales_pipeline.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_maven_files_import_and_the_metrics_match_a_hand_count(
    cast: Cast, published: Any
) -> None:
    rows = _pipeline_rows()
    won = sum(row["deal_stage"] == "Won" for row in rows)
    lost = sum(row["deal_stage"] == "Lost" for row in rows)
    closed = [dt.date.fromisoformat(row["close_date"]) for row in rows if row["close_date"]]

    batch = _maven(cast.ops)

    assert batch.status == "done"
    assert batch.mapping_source == "ready"
    assert batch.counts["imported"] == len(rows)
    statuses = Counter(
        Opportunity.objects.filter(organization=cast.org).values_list("status", flat=True)
    )
    assert (statuses[OpportunityStatus.WON], statuses[OpportunityStatus.LOST]) == (won, lost)
    report = metric_report(
        user=cast.admin,
        name="win_rate",
        filters=MetricFilters(date_from=min(closed), date_to=max(closed)),
    )
    assert (report.numerator, report.denominator) == (won, won + lost)
    assert report.figure == pytest.approx(100 * won / (won + lost), abs=0.01)


def test_the_maven_gtxpro_and_empty_account_rows_are_reported_with_their_counts(
    cast: Cast, published: Any
) -> None:
    rows = _pipeline_rows()
    gtxpro = sum(row["product"] == "GTXPro" for row in rows)
    no_account = sum(not row["account"] for row in rows)

    batch = _maven(cast.ops)

    problems = Counter(ImportProblem.objects.filter(batch=batch).values_list("code", flat=True))
    assert (problems["product_unknown"], problems["account_empty"]) == (gtxpro, no_account)
    assert Opportunity.objects.filter(organization=cast.org).count() == len(rows)
    assert Opportunity.objects.filter(organization=cast.org, product=None).count() >= gtxpro


def test_the_salesforce_export_imports_with_its_stage_history_as_events(
    cast: Cast, published: Any
) -> None:
    _run(cast.ops, "accounts", SALESFORCE / "Account.csv")
    deals = _run(cast.ops, "deals", SALESFORCE / "Opportunity.csv")
    history = _run(cast.ops, "stage_history", SALESFORCE / "OpportunityHistory.csv")

    assert (deals.status, history.status) == ("done", "done")
    assert deals.counts["imported"] == 31
    assert history.counts["errors"] == 0
    assert Account.objects.filter(organization=cast.org).count() == 12
    moves = Event.objects.filter(organization=cast.org, type="stage.changed")
    assert moves.exists()
    assert moves.filter(occurred_at__date=dt.date(2018, 10, 13)).exists()
    assert StageTransition.objects.filter(organization=cast.org).exists()
    won = Opportunity.objects.filter(organization=cast.org, status=OpportunityStatus.WON)
    assert won.count() == 18


def test_a_gbk_file_of_contacts_imports_with_the_suggested_mapping(cast: Cast) -> None:
    text = "客户名称,联系人,手机\n华东机电,王总,13800138000\n北方重工,李工,13900139000\n"
    from lodestar.imports.services import import_run_now

    batch = upload(cast.ops, "contacts", text.encode("gbk"), "联系人.csv")
    batch = import_run_now(user=cast.ops, batch=batch, dry_run=False)

    assert batch.encoding == "gb18030"
    assert batch.counts["imported"] == 2
    contact = Contact.objects.get(organization=cast.org, name="王总")
    assert (contact.account.name, contact.phone) == ("华东机电", "13800138000")


def test_importing_the_same_file_again_changes_nothing(cast: Cast, published: Any) -> None:
    _maven(cast.ops)
    deals = list(
        Opportunity.objects.filter(organization=cast.org)
        .order_by("pk")
        .values("pk", "stage_key", "status", "amount", "closed_at", "account_id", "product_id")
    )
    events = Event.objects.filter(organization=cast.org).count()

    again = _run(cast.ops, "deals", MAVEN / "sales_pipeline.csv")

    assert again.counts["unchanged"] == len(deals)
    assert again.counts["imported"] == again.counts["updated"] == 0
    assert Event.objects.filter(organization=cast.org).count() == events
    assert (
        list(
            Opportunity.objects.filter(organization=cast.org)
            .order_by("pk")
            .values("pk", "stage_key", "status", "amount", "closed_at", "account_id", "product_id")
        )
        == deals
    )
