"""`lodestar daily-report`: an organization's due time for daily reports, and the reminders.

- `due --org SLUG` shows when the organization's daily reports are due and the reminder;
  with `--time 20:00` (and `--next-day` / `--same-day`, `--remind MINUTES`) it sets them, as
  an administrator does on `/daily-reports/settings/` (audited, by the operator).
- `remind` runs the reminder sweep once, as the worker does every five minutes (reps who have
  not sent a report falling due soon are told once; running it again sends nothing new).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from lodestar.cli.common import console, fail, organization_by_slug, setup_django

app = typer.Typer(help="Daily reports: the due time and the reminders.", no_args_is_help=True)


def _clock(value: str) -> dt.time:
    try:
        if len(value) != 5:
            raise ValueError(value)
        return dt.time.fromisoformat(value)
    except ValueError:
        fail(f"--time: '{value}' is not a time of day; write it as HH:MM, e.g. 20:00")


@app.command("due")
def due(
    org: Annotated[str, typer.Option("--org", help="The organization's slug.")],
    time: Annotated[
        str | None, typer.Option("--time", help="The due time, HH:MM local time, e.g. 20:00.")
    ] = None,
    next_day: Annotated[
        bool | None,
        typer.Option(
            "--next-day/--same-day",
            help="Due on the day after the report's day (e.g. 09:00 the next morning).",
        ),
    ] = None,
    remind: Annotated[
        int | None,
        typer.Option("--remind", help="Remind reps this many minutes before; 0: never."),
    ] = None,
) -> None:
    """Show the organization's daily-report due time and reminder, or set them: from 12:00
    on the report's day to 12:00 the next day; what is left out stays as it is."""
    setup_django()
    from lodestar.errors import ValidationFailed
    from lodestar.insights.daily_reports import daily_report_settings_set, due_minutes_of, due_parts

    organization = organization_by_slug(org)
    clock, on_next_day = due_parts(organization.daily_report_due_minutes)
    reminder = organization.daily_report_reminder_minutes
    if time is not None or next_day is not None or remind is not None:
        if time is not None:
            clock = _clock(time)
        if next_day is not None:
            on_next_day = next_day
        try:
            organization = daily_report_settings_set(
                organization_id=organization.pk,
                due_minutes=due_minutes_of(clock, on_next_day),
                reminder_minutes=reminder if remind is None else remind,
                actor=None,
            )
        except ValidationFailed as exc:
            fail("\n".join(f"{detail.field}: {detail.message}" for detail in exc.details))
        clock, on_next_day = due_parts(organization.daily_report_due_minutes)
        reminder = organization.daily_report_reminder_minutes
    day = "the next day" if on_next_day else "the same day"
    reminded = f"reps reminded {reminder} minutes before" if reminder else "no reminder"
    console.print(f"{organization.slug}: daily reports due {clock:%H:%M} {day}; {reminded}")


@app.command("remind")
def remind_now() -> None:
    """Remind the reps who have not sent a daily report falling due soon (once per rep and
    day), as the worker does every five minutes."""
    setup_django()
    from django.utils import timezone

    from lodestar.insights.daily_reports import daily_report_reminders

    written = daily_report_reminders(now=timezone.now())
    console.print(f"{written} reminder notification(s) written")
