"""`lodestar export LIST --as USERNAME`: the page's export of a list, written to a file."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from lodestar.cli.main import app
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

runner = CliRunner()


def _rows(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_it_writes_the_deals_a_person_sees_with_the_pages_filters(
    cast: Cast, published: Any, tmp_path: Path
) -> None:
    from tests.factories import AccountFactory, OpportunityFactory

    east = AccountFactory(organization=cast.org, name="华东机床")
    OpportunityFactory(owner=cast.owner, account=east, name="机床改造")
    OpportunityFactory(owner=cast.owner, name="仓储系统")
    OpportunityFactory(owner=cast.teammate, account=east, name="同事的单")
    target = tmp_path / "deals.csv"
    result = runner.invoke(
        app, ["export", "deals", "--as", "owner", "--query", "q=华东", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    rows = _rows(target)
    assert (rows[0][0], [row[0] for row in rows[1:]]) == ("名称", ["机床改造"])
    assert "1 rows written" in result.output


def test_it_writes_an_excel_workbook_in_english(cast: Cast, tmp_path: Path) -> None:
    target = tmp_path / "members.xlsx"
    options = ["--format", "xlsx", "--language", "en", "--query", "role=manager"]
    result = runner.invoke(app, ["export", "members", "--as", "admin", *options, "-o", str(target)])
    assert result.exit_code == 0, result.output
    rows = list(load_workbook(target).active.iter_rows(values_only=True))
    assert (rows[0][1], [row[1] for row in rows[1:]]) == ("Username", ["manager"])


def test_it_refuses_what_the_person_may_not_see(cast: Cast, tmp_path: Path) -> None:
    command = ["export", "audit", "--as", "owner", "--language", "en", "-o", str(tmp_path / "a")]
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    assert "audit log" in result.output
    assert not (tmp_path / "a").exists()


def test_it_names_the_lists_when_one_is_unknown(cast: Cast) -> None:
    result = runner.invoke(app, ["export", "forecasts", "--as", "admin"])
    assert result.exit_code == 2
    assert "deals, accounts, contacts" in result.output


def test_it_keeps_an_existing_file_without_force(cast: Cast, tmp_path: Path) -> None:
    target = tmp_path / "accounts.csv"
    target.write_text("mine")
    result = runner.invoke(app, ["export", "accounts", "--as", "admin", "-o", str(target)])
    assert result.exit_code == 2
    assert target.read_text() == "mine"
