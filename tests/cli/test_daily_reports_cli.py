"""`lodestar daily-report due` and `remind`: the operator's view and setting of an
organization's due time, and the reminder sweep run by hand."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lodestar.cli.main import app
from lodestar.org.models import AuditEntry
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

runner = CliRunner()


def test_it_shows_the_due_time_and_the_reminder(cast: Cast) -> None:
    result = runner.invoke(app, ["daily-report", "due", "--org", "east"])
    assert result.exit_code == 0, result.output
    assert "daily reports due 00:00 the next day; reps reminded 60 minutes before" in result.output


def test_it_sets_the_due_time_audited_as_the_operators(cast: Cast) -> None:
    result = runner.invoke(
        app,
        ["daily-report", "due", "--org", "east", "--time", "20:00", "--same-day", "--remind", "30"],
    )
    assert result.exit_code == 0, result.output
    assert "due 20:00 the same day; reps reminded 30 minutes before" in result.output
    cast.org.refresh_from_db()
    assert (cast.org.daily_report_due_minutes, cast.org.daily_report_reminder_minutes) == (1200, 30)
    entry = AuditEntry.objects.get(action="organization.daily_reports")
    assert entry.actor is None


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--time", "8pm"], "write it as HH:MM"),
        (["--time", "09:00", "--same-day"], "due: "),
        (["--remind", "1000"], "reminder_minutes: "),
    ],
)
def test_it_refuses_a_time_it_cannot_use_and_changes_nothing(
    cast: Cast, args: list[str], words: str
) -> None:
    result = runner.invoke(app, ["daily-report", "due", "--org", "east", *args])
    assert result.exit_code == 2
    assert words in result.output
    cast.org.refresh_from_db()
    assert cast.org.daily_report_due_minutes == 1440


def test_it_runs_the_reminder_sweep(cast: Cast) -> None:
    result = runner.invoke(app, ["daily-report", "remind"])
    assert result.exit_code == 0, result.output
    assert "reminder notification(s) written" in result.output
