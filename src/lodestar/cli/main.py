"""The `lodestar` command line: thin commands that hand off to services.

Django is set up lazily inside each command so `lodestar --help` stays fast and works before the
database exists.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lodestar.cli.backup import backup, restore
from lodestar.cli.common import (
    console,
    fail,
    organization_by_slug,
    progress_bar,
    setup_django,
)
from lodestar.cli.daily_reports import app as daily_report_app
from lodestar.cli.export import export_list
from lodestar.cli.imports import app as import_app
from lodestar.cli.org import app as org_app
from lodestar.cli.playbook import app as playbook_app
from lodestar.cli.report import app as report_app
from lodestar.cli.webhooks import app as webhook_app

if TYPE_CHECKING:
    from lodestar.demo import DemoSummary

app = typer.Typer(
    name="lodestar",
    help="Lodestar 销售导航系统 — serve, migrate, load demo data, manage tokens and playbooks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
token_app = typer.Typer(help="Create, list and revoke personal API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")

app.add_typer(org_app, name="org")
app.add_typer(playbook_app, name="playbook")
app.add_typer(daily_report_app, name="daily-report")
app.add_typer(report_app, name="report")
app.add_typer(import_app, name="import")
app.add_typer(webhook_app, name="webhook")
app.command("export")(export_list)
app.command()(backup)
app.command()(restore)
insights_app = typer.Typer(
    help="Health scores, risks, scorecards and yardsticks.", no_args_is_help=True
)
app.add_typer(insights_app, name="insights")
operator_app = typer.Typer(
    help="Operators: the installation's superusers, who see every organization in /admin/.",
    no_args_is_help=True,
)
app.add_typer(operator_app, name="operator")


@app.command()
def migrate(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show every migration.")] = False,
) -> None:
    """Create or upgrade the database schema (SQLite under ./var by default, or DATABASE_URL)."""
    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1 if verbose else 0)
    console.print("[green]database is up to date[/green]")


@app.command()
def worker(
    threads: Annotated[
        int, typer.Option(min=1, max=64, envvar="WORKER_THREADS", help="Worker threads.")
    ] = 2,
) -> None:
    """Run the background worker: notification delivery and periodic sweeps."""
    setup_django()
    from django.core.management import call_command

    call_command("run_huey", workers=threads)


def load_demo_with_progress(**options: Any) -> DemoSummary:
    """Load (or find) a demo organization, drawing a progress bar while it is written;
    `options` are `load_demo_organization`'s."""
    setup_django()
    from lodestar.demo import load_demo_organization

    with progress_bar() as progress:
        return load_demo_organization(progress=progress, **options)


@app.command()
def demo(
    reps: Annotated[int, typer.Option(min=1, max=5000, help="Sales reps.")] = 12,
    deals: Annotated[int, typer.Option(min=1, max=5_000_000, help="Deals.")] = 600,
    months: Annotated[int, typer.Option(min=1, max=60, help="Months of history.")] = 12,
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 42,
    events_per_deal: Annotated[
        int, typer.Option(min=1, max=10_000, help="Activity events per deal (on average).")
    ] = 100,
    slug: Annotated[str, typer.Option(help="The demo organization's short name.")] = "demo",
) -> None:
    """Load a demo organization with a year of history (idempotent: a second run adds nothing)."""
    from lodestar.demo import DemoError

    try:
        summary = load_demo_with_progress(
            reps=reps,
            deals=deals,
            months=months,
            seed=seed,
            events_per_deal=events_per_deal,
            slug=slug,
        )
    except DemoError as exc:
        fail(str(exc))
    for line in summary.lines():
        console.print(line, markup=False, highlight=False)


@app.command()
def run(
    host: Annotated[str, typer.Option(envvar="LODESTAR_HOST", help="Address to bind.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(envvar="LODESTAR_PORT", min=1, max=65535)] = 8000,
    web_workers: Annotated[
        int, typer.Option(envvar="WEB_CONCURRENCY", min=1, max=64, help="Web server processes.")
    ] = 2,
    with_worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="Start the background worker too.")
    ] = True,
    with_demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Load the demo organization first.")
    ] = False,
    restart_delay: Annotated[
        float,
        typer.Option(
            envvar="LODESTAR_RESTART_DELAY",
            min=0.01,
            help="Seconds before restarting a process that died; doubles with each death in a row.",
        ),
    ] = 1.0,
    restart_max_delay: Annotated[
        float,
        typer.Option(
            envvar="LODESTAR_RESTART_MAX_DELAY", min=0.01, help="The longest restart pause."
        ),
    ] = 30.0,
) -> None:
    """Serve the app with gunicorn and the background worker, restarting either if it dies,
    until Ctrl-C (or SIGTERM) stops both."""
    from lodestar.cli.serve import Backoff, serve

    try:
        backoff = Backoff(first=restart_delay, longest=restart_max_delay)
    except ValueError as exc:
        fail(str(exc))

    logins: list[str] = []
    if with_demo:
        summary = load_demo_with_progress()
        logins = [
            f"  {login.role:<8} {login.username} / {login.password}" for login in summary.logins
        ]

    def banner(url: str) -> None:
        console.print(f"Lodestar is serving on [bold]{url}[/bold] — Ctrl-C stops it.")
        if logins:
            console.print("Demo logins (role, user / password):")
            for line in logins:
                console.print(line, markup=False, highlight=False)

    raise typer.Exit(
        code=serve(
            host=host,
            port=port,
            web_workers=web_workers,
            with_worker=with_worker,
            backoff=backoff,
            banner=banner,
        )
    )


@token_app.command("create")
def token_create(
    username: Annotated[str, typer.Argument(help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
) -> None:
    """Create an API token; the secret is shown once and only its hash is stored."""
    setup_django()
    from lodestar.org.models import User
    from lodestar.org.services import api_token_create

    user = User.objects.filter(username=username).first()
    if user is None:
        fail(f"no user named '{username}'; check the spelling or create the user first")
    token, secret = api_token_create(user=user, name=name)
    console.print(f"token #{token.pk} for {username} ({name}):")
    console.print(secret, markup=False, highlight=False)
    console.print("[dim]Store it now: it cannot be shown again.[/dim]")


@token_app.command("list")
def token_list(username: Annotated[str, typer.Argument(help="Whose tokens.")]) -> None:
    """List a user's tokens (never their secrets)."""
    setup_django()
    from rich.table import Table

    from lodestar.org.models import ApiToken

    table = Table("id", "name", "hint", "created", "last used", "revoked")
    for token in ApiToken.objects.filter(user__username=username).order_by("id"):
        table.add_row(
            str(token.pk),
            token.name,
            token.hint + "…",
            f"{token.created_at:%Y-%m-%d %H:%M}",
            f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "-",
            f"{token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "-",
        )
    console.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="Token id from `token list`.")],
) -> None:
    """Revoke a token; requests presenting it are refused from now on."""
    setup_django()
    from lodestar.org.models import ApiToken
    from lodestar.org.services import api_token_revoke

    token = ApiToken.objects.filter(pk=token_id).first()
    if token is None:
        fail(f"no token with id {token_id}; `lodestar token list USER` shows the ids")
    api_token_revoke(token=token)
    console.print(f"token #{token_id} revoked")


@operator_app.command("create")
def operator_create(
    username: Annotated[str, typer.Argument(help="The operator's user name.")],
    email: Annotated[str, typer.Option(help="The operator's e-mail address.")],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from the first line of standard input."
        ),
    ] = False,
) -> None:
    """Create an operator (a Django superuser): the only account that sees every organization.

    The password comes from --password-stdin, else from LODESTAR_OPERATOR_PASSWORD, else it is
    asked for twice. Organization admins need no such account: their role lets them into the
    admin, scoped to their organization.
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = os.environ.get("LODESTAR_OPERATOR_PASSWORD") or typer.prompt(
            "Password", hide_input=True, confirmation_prompt=True
        )
    setup_django()
    from lodestar.errors import ValidationFailed
    from lodestar.org.services import operator_create as create

    try:
        operator = create(username=username, email=email, password=password)
    except ValidationFailed as exc:
        fail("\n".join(f"{detail.field}: {detail.message}" for detail in exc.details))
    console.print(f"operator '{operator.username}' created; sign in at /admin/")


@insights_app.command("recompute")
def insights_recompute(
    org: Annotated[
        str | None, typer.Option(help="Organization slug; every organization when omitted.")
    ] = None,
) -> None:
    """Recompute health, risks, alerts and scorecards in full (the hourly sweep does it too)."""
    setup_django()
    from lodestar.insights.refresh import insights_recompute as recompute

    organization_id = organization_by_slug(org).pk if org is not None else None
    with progress_bar() as progress:
        summary = recompute(organization_id=organization_id, progress=progress)
    console.print(
        f"{summary.organizations} organization(s): {summary.deals:,} deals, {summary.reps:,} reps, "
        f"{summary.findings:,} risk findings; alerts +{summary.alerts_raised:,} "
        f"−{summary.alerts_resolved:,}; {summary.communications_scored:,} communications "
        f"scored; {summary.handbooks_pushed:,} handbooks pushed"
    )


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def manage(ctx: typer.Context) -> None:
    """Run a Django management command, e.g. `lodestar manage check --deploy`."""
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["lodestar manage", *ctx.args])
