"""The `lodestar` commands, run in-process with typer's runner against the test database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lodestar.cli.main import app
from lodestar.org.models import ApiToken
from lodestar.playbooks.models import PlaybookStatus, PlaybookVersion
from tests.conftest import Cast, seed_playbook_source

runner = CliRunner()


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["run"],
        ["migrate"],
        ["demo"],
        ["worker"],
        ["token", "create"],
        ["token", "revoke"],
        ["playbook", "validate"],
        ["playbook", "diff"],
        ["playbook", "publish"],
        ["playbook", "export"],
        ["insights", "recompute"],
        ["report", "weekly"],
        ["token", "list"],
        ["manage"],
    ],
)
def test_it_explains_every_command_with_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_it_creates_a_token_that_is_stored_only_as_a_hash(cast: Cast) -> None:
    result = runner.invoke(app, ["token", "create", cast.owner.username, "--name", "erp"])
    assert result.exit_code == 0, result.output
    secret = next(line for line in result.output.splitlines() if line.startswith("lsk_"))
    token = ApiToken.objects.get(user=cast.owner, name="erp")
    assert token.digest == ApiToken.digest_of(secret)
    assert secret not in {token.digest, token.hint}


def test_it_revokes_a_token_by_id(cast: Cast) -> None:
    runner.invoke(app, ["token", "create", cast.owner.username])
    token = ApiToken.objects.get(user=cast.owner)
    assert runner.invoke(app, ["token", "revoke", str(token.pk)]).exit_code == 0
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_it_names_the_problem_when_the_user_does_not_exist(db: None) -> None:
    result = runner.invoke(app, ["token", "create", "nobody"])
    assert result.exit_code == 2
    assert "no user named 'nobody'" in result.output


def test_it_validates_playbooks_and_prints_located_errors(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(seed_playbook_source(), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(seed_playbook_source().replace("eq: true", "eqq: true"), encoding="utf-8")

    result = runner.invoke(app, ["playbook", "validate", str(good), str(bad)])

    assert result.exit_code == 1
    assert f"{good}: ok" in result.output
    assert f"{bad}:67:9: stages[1].exit[1].eqq: unknown key 'eqq'" in result.output


def test_it_lists_the_changes_between_two_playbook_files(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(seed_playbook_source(), encoding="utf-8")
    new = tmp_path / "new.yaml"
    new.write_text(seed_playbook_source().replace("due: 2h", "due: 4h"), encoding="utf-8")

    result = runner.invoke(app, ["playbook", "diff", str(old), str(new)])

    assert result.exit_code == 0
    assert "demo_prep" in result.output
    assert "4h" in result.output


def test_it_publishes_a_file_and_exports_it_back(cast: Cast, tmp_path: Path) -> None:
    source = tmp_path / "seed.yaml"
    source.write_text(seed_playbook_source(), encoding="utf-8")

    published = runner.invoke(app, ["playbook", "publish", str(source), "--org", cast.org.slug])
    assert published.exit_code == 0, published.output
    assert PlaybookVersion.objects.get(organization=cast.org).status == PlaybookStatus.PUBLISHED

    again = runner.invoke(app, ["playbook", "publish", str(source), "--org", cast.org.slug])
    assert "unchanged" in again.output

    exported = runner.invoke(app, ["playbook", "export", "--org", cast.org.slug])
    assert exported.output == seed_playbook_source()


def test_it_refuses_to_publish_an_invalid_file_and_stores_nothing(
    cast: Cast, tmp_path: Path
) -> None:
    source = tmp_path / "bad.yaml"
    source.write_text("key: x\nname: X\nstages: []\n", encoding="utf-8")
    result = runner.invoke(app, ["playbook", "publish", str(source), "--org", cast.org.slug])
    assert result.exit_code == 1
    assert "bad.yaml:3" in result.output
    assert not PlaybookVersion.objects.exists()


def test_it_names_the_known_organizations_when_the_slug_is_wrong(cast: Cast) -> None:
    result = runner.invoke(app, ["playbook", "export", "--org", "nope"])
    assert result.exit_code == 2
    assert "no organization 'nope'" in result.output
    assert cast.org.slug in result.output


def test_it_recomputes_insights_for_one_organization(cast: Cast, published: object) -> None:
    from tests.factories import OpportunityFactory

    OpportunityFactory(owner=cast.owner, stage_key="demo")
    result = runner.invoke(app, ["insights", "recompute", "--org", cast.org.slug])
    assert result.exit_code == 0, result.output
    assert "1 organization(s): 1 deals" in result.output


def test_it_names_the_organizations_when_recompute_gets_a_wrong_slug(cast: Cast) -> None:
    result = runner.invoke(app, ["insights", "recompute", "--org", "nope"])
    assert result.exit_code == 2
    assert "known:" in result.output
    assert cast.org.slug in result.output


@pytest.mark.parametrize("module", ["lodestar.cli.main", "lodestar.demo"])
def test_the_command_lines_modules_import_before_django_is_set_up(module: str) -> None:
    # The commands import these before `setup_django()`; a model read at import time stops
    # every command (as a daily-report import in the demo generator once did).
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
