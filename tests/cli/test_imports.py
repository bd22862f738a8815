"""`lodestar import …`: a file in, its report out; list, problems, undo; refusals exit non-zero."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from lodestar.cli.main import app
from lodestar.crm.models import Account
from lodestar.imports.models import ImportBatch
from tests.conftest import Cast

runner = CliRunner()

ACCOUNTS = (
    "客户名称,行业,区域\n华东机械有限公司,制造业,华东\n南方医疗器械,医疗,华南\n北方物流,物流,华北\n"
)


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    "command",
    [[], ["accounts"], ["deals"], ["stage_history"], ["list"], ["problems"], ["undo"]],
)
def test_it_explains_every_import_command_with_help(command: list[str]) -> None:
    result = runner.invoke(app, ["import", *command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_it_imports_a_file_named_by_kind_and_prints_the_counts(cast: Cast, tmp_path: Path) -> None:
    path = _write(tmp_path, "客户.csv", ACCOUNTS)

    result = runner.invoke(app, ["import", "accounts", str(path), "--org", "east"])

    assert result.exit_code == 0, result.output
    assert set(Account.objects.filter(organization=cast.org).values_list("name", flat=True)) == {
        "华东机械有限公司",
        "南方医疗器械",
        "北方物流",
    }
    assert "imported" in result.output
    batch = ImportBatch.objects.get(organization=cast.org)
    assert batch.status == "done"
    assert batch.counts["imported"] == 3
    assert batch.created_by == cast.ops  # the first ops user, when no --as names one


def test_it_reads_a_gbk_file_without_being_told_the_encoding(cast: Cast, tmp_path: Path) -> None:
    path = _write(tmp_path, "客户.csv", ACCOUNTS, encoding="gbk")

    result = runner.invoke(app, ["import", "accounts", str(path), "--org", "east"])

    assert result.exit_code == 0, result.output
    assert Account.objects.filter(organization=cast.org, name="华东机械有限公司").exists()
    assert ImportBatch.objects.get(organization=cast.org).encoding in {"gb18030", "gbk"}


def test_a_dry_run_writes_nothing_and_says_so(cast: Cast, tmp_path: Path) -> None:
    path = _write(tmp_path, "客户.csv", ACCOUNTS)

    result = runner.invoke(app, ["import", "accounts", str(path), "--org", "east", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "dry run, nothing written" in result.output
    assert not Account.objects.filter(organization=cast.org).exists()


def test_importing_the_same_file_again_changes_nothing(cast: Cast, tmp_path: Path) -> None:
    path = _write(tmp_path, "客户.csv", ACCOUNTS)
    runner.invoke(app, ["import", "accounts", str(path), "--org", "east"])

    result = runner.invoke(app, ["import", "accounts", str(path), "--org", "east"])

    assert result.exit_code == 0, result.output
    assert Account.objects.filter(organization=cast.org).count() == 3
    second = ImportBatch.objects.filter(organization=cast.org).order_by("-id").first()
    assert second is not None
    assert (second.counts["imported"], second.counts["unchanged"]) == (0, 3)


def test_a_refused_file_exits_with_2_and_stores_nothing(cast: Cast, tmp_path: Path) -> None:
    path = _write(tmp_path, "空.csv", "")

    result = runner.invoke(app, ["import", "accounts", str(path), "--org", "east"])

    assert result.exit_code == 2
    assert "refused, nothing was imported" in result.output
    assert not ImportBatch.objects.exists()


def test_an_unknown_kind_is_refused(cast: Cast, tmp_path: Path) -> None:
    path = _write(tmp_path, "客户.csv", ACCOUNTS)

    result = runner.invoke(app, ["import", "customers", str(path), "--org", "east"])

    assert result.exit_code == 2
    assert "No such command 'customers'" in result.output


def test_a_rep_may_not_import(cast: Cast, tmp_path: Path) -> None:
    path = _write(tmp_path, "客户.csv", ACCOUNTS)

    result = runner.invoke(
        app, ["import", "accounts", str(path), "--org", "east", "--as", cast.owner.username]
    )

    assert result.exit_code == 2
    assert "only ops and admin users import" in result.output


def test_it_shows_the_first_problems_and_says_where_the_rest_are(
    cast: Cast, tmp_path: Path
) -> None:
    rows = "".join(f"客户{n},制造业,key\n" for n in range(30))
    rows += "".join(f"坏客户{n},制造业,gold\n" for n in range(25))  # 25 rows with no such tier
    path = _write(tmp_path, "客户.csv", "客户名称,行业,客户等级\n" + rows)

    result = runner.invoke(app, ["import", "accounts", str(path), "--org", "east"])

    assert result.exit_code == 0, result.output
    batch = ImportBatch.objects.get(organization=cast.org)
    assert batch.counts["skipped"] == 25
    assert "5 more problem(s)" in result.output, result.output[-600:]
    kinds = result.output.split("problems by kind", 1)[1].split("first problems", 1)[0]
    assert "客户等级" in kinds
    assert "25" in kinds
    assert f"lodestar import problems {batch.pk} --org east" in result.output
    listed = runner.invoke(app, ["import", "problems", str(batch.pk), "--org", "east"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("row ") == 25
    assert "row 32, 客户等级: error:" in listed.output


def test_strict_fails_when_a_row_has_an_error(cast: Cast, tmp_path: Path) -> None:
    path = _write(tmp_path, "客户.csv", "客户名称,行业\n华东机械,制造业\n,医疗\n")

    result = runner.invoke(app, ["import", "accounts", str(path), "--org", "east", "--strict"])

    assert result.exit_code == 1
    assert Account.objects.filter(organization=cast.org, name="华东机械").exists()


def test_a_saved_mapping_file_is_used_again_with_mapping(cast: Cast, tmp_path: Path) -> None:
    path = _write(tmp_path, "客户.csv", ACCOUNTS)
    saved = tmp_path / "map.yaml"
    first = runner.invoke(
        app,
        [
            "import",
            "accounts",
            str(path),
            "--org",
            "east",
            "--dry-run",
            "--save-mapping",
            str(saved),
        ],
    )
    assert first.exit_code == 0, first.output
    document = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert document["kind"] == "accounts"
    for rule in document["mapping"]["columns"]:
        if rule["column"] == "区域":
            rule["target"] = "ignore"
    saved.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")

    result = runner.invoke(
        app, ["import", "accounts", str(path), "--org", "east", "--mapping", str(saved)]
    )

    assert result.exit_code == 0, result.output
    assert set(Account.objects.filter(organization=cast.org).values_list("region", flat=True)) == {
        ""
    }


def test_a_mapping_naming_an_unknown_field_is_refused_before_anything_is_written(
    cast: Cast, tmp_path: Path
) -> None:
    path = _write(tmp_path, "客户.csv", ACCOUNTS)
    bad = _write(
        tmp_path,
        "map.yaml",
        "columns:\n  - {column: 客户名称, target: name}\n  - {column: 行业, target: sector}\n",
    )

    result = runner.invoke(
        app, ["import", "accounts", str(path), "--org", "east", "--mapping", str(bad)]
    )

    assert result.exit_code == 2
    assert "the mapping is refused" in result.output
    assert "行业" in result.output
    assert not Account.objects.filter(organization=cast.org).exists()


def test_it_lists_the_imports_and_undoes_one(cast: Cast, tmp_path: Path) -> None:
    path = _write(tmp_path, "客户.csv", ACCOUNTS)
    runner.invoke(app, ["import", "accounts", str(path), "--org", "east"])
    batch = ImportBatch.objects.get(organization=cast.org)

    listed = runner.invoke(app, ["import", "list", "--org", "east"])
    assert listed.exit_code == 0, listed.output
    assert "客户.csv" in listed.output
    assert "done" in listed.output

    result = runner.invoke(app, ["import", "undo", str(batch.pk), "--org", "east"])

    assert result.exit_code == 0, result.output
    assert f"import #{batch.pk} undone" in result.output
    assert not Account.objects.filter(organization=cast.org).exists()
    batch.refresh_from_db()
    assert batch.status == "undone"


def test_undo_of_another_organizations_import_is_not_found(cast: Cast, tmp_path: Path) -> None:
    path = _write(tmp_path, "客户.csv", ACCOUNTS)
    runner.invoke(app, ["import", "accounts", str(path), "--org", "east"])
    batch = ImportBatch.objects.get(organization=cast.org)

    result = runner.invoke(app, ["import", "undo", str(batch.pk), "--org", "other"])

    assert result.exit_code == 2
    assert f"no import #{batch.pk} in this organization" in result.output
    assert Account.objects.filter(organization=cast.org).count() == 3


def test_zh_words_the_problems_in_chinese(cast: Cast, tmp_path: Path) -> None:
    path = _write(tmp_path, "客户.csv", "客户名称,客户等级\n华东机械,gold\n")

    result = runner.invoke(app, ["import", "accounts", str(path), "--org", "east", "--zh"])

    assert result.exit_code == 0, result.output
    listed = result.output.split("first problems", 1)[1]
    assert "gold" in listed
    assert any("\u4e00" <= ch <= "\u9fff" for ch in listed.replace("客户等级", ""))
