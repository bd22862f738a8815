"""Sales ops import a spreadsheet in a real browser: upload (dropped on the box), change the
mapping, a dry run whose errors sit on the right rows, the import with its progress bar, the
report, and undo. Then the round trip: a list exported from one organization imports into a new
one as the same rows."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from lodestar.crm.models import Account, Opportunity
from lodestar.imports.models import ImportBatch
from lodestar.org.models import Role
from tests.browser.conftest import DESKTOP, PHONE, assert_accessible, log_in, screenshot
from tests.conftest import Cast, seed_playbook_source
from tests.factories import OpportunityFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Row 4 has a date that is not one and row 7 repeats row 3's key (errors: those rows are not
# imported); row 5 has no account (a warning: it is imported under a stand-in account); row 6's
# stage is named as the old system named it ("Proposal"), which the page's stage map sends to
# our quote stage.
DEALS = (
    "商机编号,商机名称,客户,阶段,金额,预计成交日期,渠道\n"
    "D-001,华东水厂改造,华东水务,初步接触,120000,2027-01-15,直销\n"
    "D-002,西部电网巡检,西部电网,产品演示,300000,2027-02-20,代理\n"
    "D-003,南方医院设备,南方医院,产品演示,80000,下个月,代理\n"
    "D-004,北方仓储系统,,报价完成,50000,2027-02-01,直销\n"
    "D-005,东海船厂,东海船厂,Proposal,60000,2027-03-01,直销\n"
    "D-002,西部电网二期,西部电网,产品演示,10000,2027-04-01,代理\n"
)


def _checked(page: Any) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"
    assert_accessible(page)


def _drop_file(page: Any, selector: str, name: str, text: str) -> None:
    """Drop a file on the drop zone as a user dragging it from their desktop would."""
    transfer = page.evaluate_handle(
        """([name, text]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], name, {type: "text/csv"}));
            return transfer;
        }""",
        [name, text],
    )
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def _problem_cells(page: Any, severity: str) -> set[tuple[str, str]]:
    rows = page.locator(f"table.problems-table tr.problem.sev-{severity}")
    return {
        (
            rows.nth(i).get_attribute("data-row") or "",
            rows.nth(i).get_attribute("data-column") or "",
        )
        for i in range(rows.count())
    }


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375px", "1280px"])
def test_ops_import_deals_step_by_step_and_undo_them(
    cast: Cast,
    published: Any,
    live_server: Any,
    open_page: Any,
    viewport: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    width = viewport["width"]
    page = open_page(viewport)
    log_in(page, live_server.url, cast.ops.username)

    # The page is in the ops' navigation (on a phone, under "More").
    page.goto(f"{live_server.url}/")
    assert page.locator("nav a[href='/imports/']").count() == 1
    page.goto(f"{live_server.url}/imports/")
    page.wait_for_selector("h1:text-is('Import')")
    _checked(page)

    # Upload: the kind, and the file dropped on the box.
    page.select_option("#import-kind", "deals")
    _drop_file(page, "[data-dropzone]", "商机.csv", DEALS)
    page.wait_for_selector(".dropzone-name:text-is('商机.csv')")
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#mapping-form")
    batch = ImportBatch.objects.get(organization=cast.org)
    assert batch.kind == "deals"

    # The mapping table: each column with its samples and suggested field.
    row = page.locator("tr[data-column='客户']")
    assert row.locator(".sample").first.inner_text() == "华东水务"
    assert page.locator("#target-2").input_value() == "account"
    assert page.locator("tr[data-column='渠道'] select.target-select").input_value() == "custom"
    assert page.locator("tr[data-column='渠道'] .custom-controls").is_visible()
    _checked(page)
    screenshot(page, f"import-mapping-{width}")

    # Change one choice: the sales channel is not imported; "Proposal" is our quote stage.
    page.select_option("tr[data-column='渠道'] select.target-select", "ignore")
    assert not page.locator("tr[data-column='渠道'] .custom-controls").is_visible()
    proposal = page.locator(".value-row", has_text="Proposal")
    proposal.locator("select").select_option("quote")
    page.click("button[name=then][value=preview]")
    page.wait_for_selector("text=Mapping saved")
    batch.refresh_from_db()
    targets = {rule["column"]: rule["target"] for rule in batch.mapping["columns"]}
    assert targets["渠道"] == "ignore"
    assert batch.mapping["value_maps"]["stage"]["Proposal"] == "quote"

    # The preview marks the rows that will not be imported.
    preview = page.locator("table.preview-table")
    assert preview.locator("tr.row-error[data-row='4']").count() == 1
    assert preview.locator("tr.row-warning[data-row='5']").count() == 1
    assert preview.locator("tr[data-row='6']:not(.row-error):not(.row-warning)").count() == 1
    assert preview.locator("tr.row-error[data-row='7']").count() == 1

    # The dry run lists each problem on its row and column, and writes nothing.
    page.click("button[name=then][value=check]")
    page.wait_for_selector("#problems")
    assert page.locator("#batch-status").inner_text() == "Checked"
    errors = _problem_cells(page, "error")
    assert ("4", "预计成交日期") in errors
    assert {row for row, _ in errors} == {"4", "7"}
    assert ("5", "客户") in _problem_cells(page, "warning")
    assert page.locator("#count-skipped").inner_text() == "2"
    assert not Opportunity.objects.filter(organization=cast.org).exists()
    page.click(".problem-filter a:has-text('Warnings')")
    page.wait_for_url("**severity=warning**")
    assert not page.locator("table.problems-table tr.problem.sev-error").count()
    page.click(".problem-filter a:has-text('Errors')")
    page.wait_for_url("**severity=error**")
    assert _problem_cells(page, "error") == errors
    _checked(page)
    screenshot(page, f"import-dry-run-{width}")

    # Import. The worker is late: the page shows the bar and follows it every second.
    queued: list[tuple[int, int, bool]] = []
    monkeypatch.setattr(
        "lodestar.imports.tasks.run_import",
        lambda batch_id, user_id, dry_run: queued.append((batch_id, user_id, dry_run)),
    )
    polls: list[str] = []
    page.route("**/progress/**", lambda route: (polls.append(route.request.url), route.continue_()))
    page.click("button[name=then][value=run]")
    page.wait_for_selector("progress#import-progress-bar")
    assert page.locator("#batch-status").inner_text() == "Importing"
    assert page.locator("progress#import-progress-bar").get_attribute("value") == "0"
    page.wait_for_timeout(1500)
    assert polls, "the page did not ask for the progress"
    assert queued == [(batch.pk, cast.ops.pk, False)]
    from lodestar.imports.services import run_claimed

    run_claimed(batch_id=batch.pk, user_id=cast.ops.pk, dry_run=False)
    # The next poll sees the run ended, and the page shows the report.
    page.wait_for_selector("#batch-status:text-is('Imported')")
    bar = page.locator("progress#import-progress-bar")
    assert bar.get_attribute("value") == bar.get_attribute("max") == "6"
    assert page.locator("#count-imported").inner_text() == "4"
    assert page.locator("#count-skipped").inner_text() == "2"
    assert "accounts the rows named were created" in page.locator("#extra-counts").inner_text()
    names = set(Opportunity.objects.filter(organization=cast.org).values_list("name", flat=True))
    assert names == {"华东水厂改造", "西部电网巡检", "北方仓储系统", "东海船厂"}
    assert Opportunity.objects.get(organization=cast.org, name="东海船厂").stage_key == "quote"
    _checked(page)
    screenshot(page, f"import-report-{width}")

    # Undo, after a confirmation that says what goes.
    page.click("a:has-text('Undo this import')")
    page.wait_for_selector("#undo-form")
    assert page.locator("li:has-text('4 records it created are removed')").count() == 1
    _checked(page)
    page.click("#undo-form button[type=submit]")
    page.wait_for_selector("#batch-status:text-is('Undone')")
    assert not Opportunity.objects.filter(organization=cast.org).exists()
    page.goto(f"{live_server.url}/imports/")
    assert page.locator(".import-batch .chip:text-is('Undone')").count() == 1


def test_a_rep_cannot_open_the_import_page(cast: Cast, live_server: Any, open_page: Any) -> None:
    page = open_page(DESKTOP)
    log_in(page, live_server.url, cast.owner.username)
    page.goto(f"{live_server.url}/")
    assert page.locator("nav a[href='/imports/']").count() == 0
    response = page.request.get(f"{live_server.url}/imports/")
    assert response.status == 403


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_an_export_imports_into_a_new_organization_as_the_same_rows(
    cast: Cast,
    published: Any,
    live_server: Any,
    open_page: Any,
    settings: Any,
    tmp_path: Any,
    locale: str,
) -> None:
    """The export's headers are the fields' names in the reader's language, Chinese or English;
    either way they map without a manual step."""
    from lodestar.playbooks.services import playbook_publish_source

    settings.MEDIA_ROOT = str(tmp_path)
    for number, (name, stage, amount) in enumerate(
        [("华东水厂改造", "demo", "120000.00"), ("西部电网巡检", "quote", "300000.00")]
    ):
        OpportunityFactory(
            owner=cast.owner, name=name, stage_key=stage, amount=amount, external_ref=f"E-{number}"
        )
    new_org = OrganizationFactory(name="新公司", slug="new")
    new_ops = UserFactory(organization=new_org, role=Role.OPS, username="newops")
    playbook_publish_source(user=new_ops, source=seed_playbook_source(), source_name="seed.yaml")

    # Export the accounts and the deals from the first organization with the lists' own
    # export menus, as its ops see them.
    page = open_page(DESKTOP, locale=locale)
    log_in(page, live_server.url, cast.ops.username)
    files = {}
    for name, address in (("accounts", "/accounts/"), ("opportunities", "/board/")):
        page.goto(f"{live_server.url}{address}")
        page.click("details.export-menu summary")
        with page.expect_download() as download:
            page.click("details.export-menu a:has-text('CSV')")
        files[name] = Path(download.value.path()).read_bytes()

    # Import them into the new organization through the page: accounts first, then the deals.
    page = open_page(DESKTOP, locale=locale)
    log_in(page, live_server.url, new_ops.username)
    for kind, name in (("accounts", "accounts"), ("deals", "opportunities")):
        page.goto(f"{live_server.url}/imports/")
        page.select_option("#import-kind", kind)
        page.set_input_files(
            "#import-file",
            files=[{"name": f"{name}.csv", "mimeType": "text/csv", "buffer": files[name]}],
        )
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#mapping-form")
        page.click("button[name=then][value=run]")
        page.wait_for_selector("#batch-status.status-done")
        assert page.locator("#count-skipped").inner_text() == "0", page.content()

    def deals(organization: Any) -> set[tuple[str, str, str, str, str]]:
        return {
            (d.name, d.account.name, d.stage_key, f"{d.amount:.2f}", d.external_ref)
            for d in Opportunity.objects.filter(organization=organization).select_related("account")
        }

    assert deals(new_org) == deals(cast.org)
    assert set(Account.objects.filter(organization=new_org).values_list("name", flat=True)) == set(
        Account.objects.filter(organization=cast.org).values_list("name", flat=True)
    )
    exported = _rows(files["opportunities"].decode("utf-8"))
    assert len(exported) == 2
    chinese_headers = any("\u4e00" <= ch <= "\u9fff" for ch in "".join(exported[0]))
    assert chinese_headers == (locale == "zh-CN")
