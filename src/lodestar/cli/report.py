"""`lodestar report weekly`: make an organization's weekly manager reports now."""

from __future__ import annotations

from typing import Annotated

import typer

from lodestar.cli.common import console, fail, organization_by_slug, progress_bar, setup_django

app = typer.Typer(help="Reports: the weekly manager report.", no_args_is_help=True)


@app.command("weekly")
def weekly(
    org: Annotated[str, typer.Option("--org", help="The organization's slug.")],
    team: Annotated[
        list[str] | None,
        typer.Option("--team", help="A team's name or id (repeat for several); default: all."),
    ] = None,
    week: Annotated[
        str | None, typer.Option("--week", help="An ISO week, e.g. 2026-W48; default: this week.")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Make a week's existing report again.")
    ] = False,
) -> None:
    """Make the weekly report of each team (once per team and week) and send it to the
    team's manager, as the schedule does; a week's existing report is kept unless --replace."""
    setup_django()
    from django.utils import timezone

    from lodestar.core.reports import InvalidWeek, IsoWeek
    from lodestar.errors import ApplicationError
    from lodestar.insights.models import ReportTrigger
    from lodestar.insights.weekly_reports import weekly_report_make
    from lodestar.org.models import Team

    organization = organization_by_slug(org)
    now = timezone.now()
    try:
        iso_week = (
            IsoWeek.parse(week) if week else IsoWeek.of(now.astimezone(organization.tz).date())
        )
    except InvalidWeek as exc:
        fail(f"--week: {exc}")
    teams = list(Team.objects.filter(organization=organization).order_by("name", "pk"))
    if team:
        wanted = []
        for name in team:
            found = next((t for t in teams if t.name == name or str(t.pk) == name), None)
            if found is None:
                known = ", ".join(t.name for t in teams) or "none"
                fail(f"--team: no team '{name}' in {organization.slug}; known: {known}")
            wanted.append(found)
        teams = wanted
    if not teams:
        fail(f"{organization.slug} has no team to report on yet")
    rows = []
    with progress_bar() as progress:
        for index, chosen in enumerate(teams):
            try:
                made = weekly_report_make(
                    organization=organization,
                    team=chosen,
                    week=iso_week,
                    now=now,
                    trigger=ReportTrigger.MANUAL,
                    replace=replace,
                )
            except ApplicationError as exc:
                fail(f"{chosen.name}: {exc.message}")
            rows.append((chosen, made))
            progress("weekly reports", index + 1, len(teams))
    for chosen, made in rows:
        what = "made and sent" if made.created else "made again" if made.replaced else "kept"
        health = made.report.team_health
        console.print(
            f"{made.report.week} {chosen.name}: {what} (report {made.report.pk}, "
            f"team health {'–' if health is None else round(health)}, weighted pipeline "
            f"{made.report.weighted_pipeline} {made.report.currency}) "
            f"/reports/weekly/{made.report.pk}/"
        )
