"""The pages' exports (`/export/<list>/`): each list as the page shows it to that person, with the
page's filters, as CSV or XLSX, in the reader's language."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from lodestar.automation.models import TaskStatus
from lodestar.crm.models import OpportunityStatus
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

ClientAs = Callable[[Any], Client]

DEAL_HEADERS_ZH = ["名称", "客户", "负责人", "团队", "产品", "阶段", "状态", "金额", "币种"]
DEAL_HEADERS_EN = ["Name", "Account", "Owner", "Team", "Product", "Stage", "Status", "Amount"]


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.content[:500]
    data = b"".join(response.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _column(rows: list[list[str]], header: str) -> list[str]:
    at = rows[0].index(header)
    return [row[at] for row in rows[1:]]


def _chinese(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


# --- deals ---------------------------------------------------------------------------------------


def test_the_board_export_holds_the_open_deals_its_filters_keep(
    cast: Cast, published: Any, client_as: ClientAs
) -> None:
    from tests.factories import AccountFactory, OpportunityFactory

    east = AccountFactory(organization=cast.org, name="华东机床")
    OpportunityFactory(owner=cast.owner, account=east, name="机床改造")
    OpportunityFactory(owner=cast.owner, name="仓储系统")
    OpportunityFactory(owner=cast.owner, account=east, name="旧单", status=OpportunityStatus.WON)
    rows = _csv(client_as(cast.manager).get("/export/deals/?format=csv&q=华东"))
    assert _column(rows, "Name") == ["机床改造"]


def test_a_rep_exports_only_their_own_deals(
    cast: Cast, published: Any, client_as: ClientAs
) -> None:
    from tests.factories import OpportunityFactory

    OpportunityFactory(owner=cast.owner, name="自己的单")
    OpportunityFactory(owner=cast.teammate, name="同事的单")
    rows = _csv(client_as(cast.owner).get("/export/deals/?format=csv"))
    assert _column(rows, "Name") == ["自己的单"]


def test_deal_headers_are_the_fields_names_in_chinese(cast: Cast, published: Any) -> None:
    rows = _csv(_chinese(cast.manager).get("/export/deals/?format=csv"))
    assert rows[0][: len(DEAL_HEADERS_ZH)] == DEAL_HEADERS_ZH


def test_deal_headers_are_the_fields_names_in_english(
    cast: Cast, published: Any, client_as: ClientAs
) -> None:
    rows = _csv(client_as(cast.manager).get("/export/deals/?format=csv"))
    assert rows[0][: len(DEAL_HEADERS_EN)] == DEAL_HEADERS_EN


def test_a_deal_reads_in_words_dates_and_numbers(cast: Cast, published: Any) -> None:
    from tests.factories import OpportunityFactory

    OpportunityFactory(
        owner=cast.owner,
        stage_key="demo",
        amount="1280000.50",
        expected_close_date=dt.date(2027, 1, 31),
        custom_fields={"budget_confirmed": True},
    )
    rows = _csv(_chinese(cast.manager).get("/export/deals/?format=csv"))
    deal = dict(zip(rows[0], rows[1], strict=True))
    assert (deal["阶段"], deal["状态"], deal["金额"], deal["预计成交日期"]) == (
        "产品演示",
        "进行中",
        "1280000.50",
        "2027-01-31",
    )
    assert deal["预算范围已确认"] == "是"


def test_moments_are_iso_in_the_organizations_zone(cast: Cast, published: Any) -> None:
    from tests.factories import OpportunityFactory

    OpportunityFactory(owner=cast.owner, created_at=dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC))
    rows = _csv(_chinese(cast.manager).get("/export/deals/?format=csv"))
    assert _column(rows, "创建时间") == ["2026-03-01T10:00:00+08:00"]


def test_the_account_page_exports_its_deals_of_every_status(
    cast: Cast, published: Any, client_as: ClientAs
) -> None:
    from tests.factories import OpportunityFactory

    deal = OpportunityFactory(owner=cast.owner, name="在谈")
    OpportunityFactory(
        owner=cast.owner, account=deal.account, name="已赢", status=OpportunityStatus.WON
    )
    OpportunityFactory(owner=cast.owner, name="别的客户")
    rows = _csv(client_as(cast.owner).get(f"/export/deals/?format=csv&account={deal.account_id}"))
    assert sorted(_column(rows, "Name")) == ["在谈", "已赢"]


def test_the_rep_page_exports_the_reps_open_deals(
    cast: Cast, published: Any, client_as: ClientAs
) -> None:
    from tests.factories import OpportunityFactory

    OpportunityFactory(owner=cast.owner, name="在谈")
    OpportunityFactory(owner=cast.owner, name="已输", status=OpportunityStatus.LOST)
    OpportunityFactory(owner=cast.teammate, name="同事的")
    rows = _csv(client_as(cast.manager).get(f"/export/deals/?format=csv&rep={cast.owner.pk}"))
    assert _column(rows, "Name") == ["在谈"]


def test_a_rep_cannot_export_a_teammates_page_deals(
    cast: Cast, published: Any, client_as: ClientAs
) -> None:
    response = client_as(cast.owner).get(f"/export/deals/?format=csv&rep={cast.teammate.pk}")
    assert response.status_code == 404


def test_an_xlsx_export_reads_back_with_openpyxl(
    cast: Cast, published: Any, client_as: ClientAs
) -> None:
    from tests.factories import OpportunityFactory

    OpportunityFactory(owner=cast.owner, name="机床改造", amount="2500.00")
    response = client_as(cast.manager).get("/export/deals/?format=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Name", "Account")
    assert (rows[1][0], rows[1][rows[0].index("Amount")]) == ("机床改造", 2500)


def test_an_excel_export_longer_than_its_limit_is_refused_with_csv_offered(
    cast: Cast, published: Any, client_as: ClientAs, settings: Any
) -> None:
    from tests.factories import OpportunityFactory

    settings.LODESTAR_EXPORT_XLSX_MAX_ROWS = 2
    for _ in range(3):
        OpportunityFactory(owner=cast.owner)
    client = client_as(cast.manager)
    refused = client.get("/export/deals/?format=xlsx")
    assert refused.status_code == 422
    page = refused.content.decode()
    assert "more than 2 rows" in page
    assert "CSV" in page
    csv_file = client.get("/export/deals/?format=csv")
    assert b"".join(csv_file.streaming_content).count(b"\r\n") == 4


def test_text_a_spreadsheet_would_run_is_exported_harmless(
    cast: Cast, published: Any, client_as: ClientAs
) -> None:
    from tests.factories import OpportunityFactory

    OpportunityFactory(owner=cast.owner, name='=HYPERLINK("http://evil.example","点我")')
    rows = _csv(client_as(cast.manager).get("/export/deals/?format=csv"))
    assert _column(rows, "Name") == ['\'=HYPERLINK("http://evil.example","点我")']


def test_an_export_is_a_download_no_cache_keeps(
    cast: Cast, published: Any, client_as: ClientAs
) -> None:
    response = client_as(cast.manager).get("/export/deals/?format=csv")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert "Deals-" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"


def test_an_unknown_format_or_list_is_not_found(cast: Cast, client_as: ClientAs) -> None:
    client = client_as(cast.manager)
    assert client.get("/export/deals/?format=pdf").status_code == 404
    assert client.get("/export/forecasts/?format=csv").status_code == 404


def test_an_anonymous_visitor_is_sent_to_sign_in(cast: Cast) -> None:
    response = Client().get("/export/deals/?format=csv")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


# --- accounts and contacts -----------------------------------------------------------------------


def test_the_accounts_export_keeps_the_search(cast: Cast, client_as: ClientAs) -> None:
    from tests.factories import AccountFactory

    AccountFactory(organization=cast.org, name="华东机床", owner=cast.owner, tier="key")
    AccountFactory(organization=cast.org, name="南方物流", owner=cast.owner)
    rows = _csv(client_as(cast.admin).get("/export/accounts/?format=csv&q=机床"))
    assert (_column(rows, "Name"), _column(rows, "Tier")) == (["华东机床"], ["Key account"])


def test_the_contacts_export_holds_the_accounts_contacts(cast: Cast, client_as: ClientAs) -> None:
    from tests.factories import AccountFactory, ContactFactory

    account = AccountFactory(organization=cast.org, owner=cast.owner)
    ContactFactory(account=account, name="王总", is_decision_maker=True)
    ContactFactory(name="别家的人")
    rows = _csv(client_as(cast.owner).get(f"/export/contacts/?format=csv&account={account.pk}"))
    assert list(zip(_column(rows, "Name"), _column(rows, "Decision maker"), strict=True)) == [
        ("王总", "Yes")
    ]


def test_an_outsider_cannot_export_an_accounts_contacts(cast: Cast, client_as: ClientAs) -> None:
    from tests.factories import AccountFactory

    account = AccountFactory(organization=cast.org, owner=cast.owner)
    response = client_as(cast.outsider).get(f"/export/contacts/?format=csv&account={account.pk}")
    assert response.status_code == 404


# --- tasks and alerts ----------------------------------------------------------------------------


def test_the_today_export_holds_the_users_open_tasks(
    cast: Cast, published: Any, client_as: ClientAs
) -> None:
    from tests.factories import OpportunityFactory, TaskFactory

    deal = OpportunityFactory(owner=cast.owner)
    TaskFactory(opportunity=deal, title="准备方案")
    TaskFactory(opportunity=deal, title="已完成", status=TaskStatus.DONE)
    TaskFactory(opportunity=OpportunityFactory(owner=cast.teammate), title="同事的任务")
    rows = _csv(client_as(cast.owner).get(f"/export/tasks/?format=csv&assignee={cast.owner.pk}"))
    assert (_column(rows, "Title"), _column(rows, "Status")) == (["准备方案"], ["Open"])


def test_a_rep_asking_for_a_teammates_tasks_gets_none(
    cast: Cast, published: Any, client_as: ClientAs
) -> None:
    from tests.factories import OpportunityFactory, TaskFactory

    TaskFactory(opportunity=OpportunityFactory(owner=cast.teammate), title="同事的任务")
    url = f"/export/tasks/?format=csv&assignee={cast.teammate.pk}"
    assert _csv(client_as(cast.owner).get(url))[1:] == []


def test_the_dashboard_export_holds_the_managers_live_alerts(
    cast: Cast, published: Any, client_as: ClientAs
) -> None:
    from lodestar.insights.models import AlertStatus
    from tests.factories import AlertFactory, OpportunityFactory

    deal = OpportunityFactory(owner=cast.owner, name="沉默的单")
    AlertFactory(opportunity=deal, recipient=cast.manager)
    AlertFactory(opportunity=deal, recipient=cast.manager, status=AlertStatus.RESOLVED)
    AlertFactory(opportunity=deal, recipient=cast.owner)  # the rep's own, not the manager's
    rows = _csv(client_as(cast.manager).get("/export/alerts/?format=csv"))
    assert list(zip(_column(rows, "Kind"), _column(rows, "Opportunity"), strict=True)) == [
        ("Silent customer", "沉默的单")
    ]


def test_the_dashboard_alerts_export_keeps_the_rep_filter(
    cast: Cast, published: Any, client_as: ClientAs
) -> None:
    from tests.factories import AlertFactory, OpportunityFactory

    AlertFactory(opportunity=OpportunityFactory(owner=cast.owner), recipient=cast.manager)
    AlertFactory(opportunity=OpportunityFactory(owner=cast.teammate), recipient=cast.manager)
    url = f"/export/alerts/?format=csv&rep={cast.teammate.pk}"
    rows = _csv(client_as(cast.manager).get(url))
    assert _column(rows, "About") == [str(cast.teammate)]


# --- drill-downs and scorecards ------------------------------------------------------------------


def test_a_drilldown_export_holds_every_row_not_only_the_pages_first(
    cast: Cast, published: Any, client_as: ClientAs, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.factories import OpportunityFactory, TaskFactory

    monkeypatch.setattr("lodestar.web.drilldown.DRILLDOWN_ROWS", 1)
    now = timezone.now()
    deal = OpportunityFactory(owner=cast.owner)
    for title in ("准时", "迟到"):
        TaskFactory(
            opportunity=deal,
            title=title,
            created_at=now - dt.timedelta(days=3),
            due_at=now - dt.timedelta(days=2),
            status=TaskStatus.DONE,
            completed_at=now - dt.timedelta(days=2, hours=1 if title == "准时" else -1),
        )
    rows = _csv(client_as(cast.manager).get("/export/metric/?format=csv&metric=task_on_time"))
    met = dict(zip(_column(rows, "Task"), _column(rows, "Met"), strict=True))
    assert met == {"准时": "Yes", "迟到": "No"}


def test_a_drilldown_export_keeps_figures_as_numbers_with_their_unit(
    cast: Cast, published: Any, client_as: ClientAs
) -> None:
    from tests.factories import OpportunityFactory

    now = timezone.now()
    OpportunityFactory(
        owner=cast.owner,
        stage_key="won",
        status=OpportunityStatus.WON,
        created_at=now - dt.timedelta(days=10),
        closed_at=now - dt.timedelta(days=4),
    )
    rows = _csv(client_as(cast.manager).get("/export/metric/?format=csv&metric=cycle_time"))
    assert [float(days) for days in _column(rows, "Cycle time (days)")] == [6.0]


def test_an_unknown_metric_is_not_found(cast: Cast, client_as: ClientAs) -> None:
    response = client_as(cast.manager).get("/export/metric/?format=csv&metric=bogus")
    assert response.status_code == 404


def test_the_scorecards_export_holds_the_reps_scores(
    cast: Cast, published: Any, client_as: ClientAs
) -> None:
    from tests.factories import CommunicationScoreFactory, EventFactory, OpportunityFactory

    deal = OpportunityFactory(owner=cast.owner, name="机床改造")
    CommunicationScoreFactory(
        event=EventFactory(opportunity=deal),
        score=72.5,
        criteria=[
            {"key": "needs", "met": True, "zh": "确认需求", "en": "Needs confirmed"},
            {"key": "next", "met": False, "zh": "约定下一步", "en": "Next step agreed"},
        ],
    )
    rows = _csv(client_as(cast.manager).get(f"/export/scorecards/?format=csv&rep={cast.owner.pk}"))
    score = dict(zip(rows[0], rows[1], strict=True))
    assert (score["Opportunity"], score["Score"], score["Criteria missed"]) == (
        "机床改造",
        "72.5",
        "Next step agreed",
    )


def test_a_manager_cannot_export_another_teams_scorecards(cast: Cast, client_as: ClientAs) -> None:
    url = f"/export/scorecards/?format=csv&rep={cast.other_team_rep.pk}"
    assert client_as(cast.manager).get(url).status_code == 404


# --- the audit log and the members ---------------------------------------------------------------


def test_the_audit_export_words_the_log_with_its_filters(cast: Cast, client_as: ClientAs) -> None:
    from tests.factories import AuditEntryFactory

    AuditEntryFactory(actor=cast.admin, action="team.create", object_type="team")
    AuditEntryFactory(actor=cast.admin, action="api_token.create", object_type="api_token")
    rows = _csv(client_as(cast.ops).get("/export/audit/?format=csv&action=team"))
    assert _column(rows, "Action") == ["Team created"]


def test_a_rep_cannot_export_the_audit_log(cast: Cast, client_as: ClientAs) -> None:
    assert client_as(cast.owner).get("/export/audit/?format=csv").status_code == 403


def test_the_members_export_keeps_the_role_filter(cast: Cast, client_as: ClientAs) -> None:
    rows = _csv(client_as(cast.admin).get("/export/members/?format=csv&role=manager"))
    assert (_column(rows, "Username"), _column(rows, "Role")) == (["manager"], ["Sales manager"])


def test_a_manager_cannot_export_the_members_page(cast: Cast, client_as: ClientAs) -> None:
    assert client_as(cast.manager).get("/export/members/?format=csv").status_code == 403


# --- the menu on the pages -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "page", "link"),
    [
        ("manager", "/board/?q=%E5%8D%8E%E4%B8%9C", "/export/deals/?format=csv&amp;q=%E5%8D%8E"),
        ("manager", "/accounts/?q=abc", "/export/accounts/?format=xlsx&amp;q=abc"),
        ("owner", "/today/", "/export/tasks/?format=csv&amp;assignee="),
        ("manager", "/dashboard/", "/export/alerts/?format=csv"),
        ("manager", "/dashboard/win_rate/", "/export/metric/?format=csv&amp;metric=win_rate"),
        ("ops", "/audit/?action=team", "/export/audit/?format=csv&amp;action=team"),
        ("admin", "/team/?role=rep", "/export/members/?format=csv&amp;role=rep"),
    ],
)
def test_each_list_page_offers_its_export_with_the_pages_filters(
    cast: Cast, published: Any, client_as: ClientAs, who: str, page: str, link: str
) -> None:
    html = client_as(getattr(cast, who)).get(page).content.decode()
    assert 'class="export-menu"' in html
    assert link in html


def test_the_account_and_rep_pages_offer_each_of_their_lists(
    cast: Cast, published: Any, client_as: ClientAs
) -> None:
    from tests.factories import OpportunityFactory

    deal = OpportunityFactory(owner=cast.owner)
    client = client_as(cast.manager)
    account = client.get(f"/accounts/{deal.account_id}/").content.decode()
    rep = client.get(f"/reps/{cast.owner.pk}/").content.decode()
    assert f"/export/contacts/?format=csv&amp;account={deal.account_id}" in account
    assert f"/export/deals/?format=csv&amp;account={deal.account_id}" in account
    assert f"/export/scorecards/?format=csv&amp;rep={cast.owner.pk}" in rep
    assert f"/export/tasks/?format=csv&amp;assignee={cast.owner.pk}" in rep


# --- back in through the importer ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("exported", "kind"),
    [("deals", "deals"), ("accounts", "accounts"), ("contacts&account={account}", "contacts")],
)
@pytest.mark.parametrize(("language", "fmt"), [("zh-hans", "csv"), ("en", "xlsx")])
def test_an_export_maps_back_onto_the_import_fields_without_a_manual_step(
    cast: Cast, exported: str, kind: str, language: str, fmt: str
) -> None:
    from lodestar.core.imports import TableLimits, read_table, suggest_mapping
    from tests.factories import ContactFactory, OpportunityFactory

    deal = OpportunityFactory(owner=cast.owner)
    ContactFactory(account=deal.account, name="王总")
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(cast.manager)
    name, _, query = exported.format(account=deal.account_id).partition("&")
    response = client.get(f"/export/{name}/?format={fmt}&{query}")
    table = read_table(b"".join(response.streaming_content), f"x.{fmt}", TableLimits())
    mapping = suggest_mapping(kind, table.headers, table.rows)
    unmatched = [
        rule.column for rule in mapping.columns if ":" in rule.target or rule.target == "ignore"
    ]
    assert unmatched == []


def test_deals_exported_and_imported_into_a_new_organization_come_back_the_same(
    cast: Cast, published: Any, settings: Any, tmp_path: Any
) -> None:
    from lodestar.imports.services import import_run_now, import_upload
    from lodestar.org.models import Role
    from lodestar.playbooks.services import playbook_publish_source
    from tests.conftest import seed_playbook_source
    from tests.factories import AccountFactory, OpportunityFactory, OrganizationFactory, UserFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    east = AccountFactory(organization=cast.org, name="华东机床")
    OpportunityFactory(
        owner=cast.owner, account=east, name="机床改造", stage_key="demo", amount="350000.00"
    )
    OpportunityFactory(
        owner=cast.owner, name="仓储系统, 二期", stage_key="first_contact", expected_close_date=None
    )
    compared = ["名称", "客户", "阶段", "状态", "金额", "币种", "预计成交日期"]

    def export(user: Any) -> list[dict[str, str]]:
        rows = _csv(_chinese(user).get("/export/deals/?format=csv"))
        return sorted(
            ({key: row[rows[0].index(key)] for key in compared} for row in rows[1:]),
            key=lambda row: row["名称"],
        )

    before = export(cast.manager)
    data = b"".join(_chinese(cast.manager).get("/export/deals/?format=csv").streaming_content)
    fresh = OrganizationFactory(name="新公司", slug="fresh")
    ops = UserFactory(organization=fresh, role=Role.OPS, username="fresh-ops")
    admin = UserFactory(organization=fresh, role=Role.ADMIN, username="fresh-admin")
    playbook_publish_source(user=ops, source=seed_playbook_source(), source_name="seed.yaml")
    batch = import_upload(user=ops, kind="deals", file=data, filename="deals.csv")
    batch = import_run_now(user=ops, batch=batch, dry_run=False)
    assert batch.counts["imported"] == 2
    assert export(admin) == before
