"""`lodestar playbook …`: validate, diff, publish and export playbook YAML files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lodestar.cli.common import console, err_console, fail, organization_by_slug, setup_django

if TYPE_CHECKING:  # the models load after `setup_django`
    from lodestar.org.models import Organization, User

app = typer.Typer(help="Validate, compare, publish and export playbooks.", no_args_is_help=True)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{path}: no such file")
    except UnicodeDecodeError as exc:
        fail(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8")


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Playbook YAML files.", metavar="FILE...")],
) -> None:
    """Check playbook files; print every error as file:line:column: path: message — hint."""
    from lodestar.core.playbook import check_playbook

    failed = 0
    for path in files:
        errors = check_playbook(_read(path), str(path))
        if errors:
            failed += 1
            for error in errors:
                err_console.print(str(error), markup=False, highlight=False)
        else:
            console.print(f"{path}: ok")
    if failed:
        err_console.print(f"{failed} of {len(files)} file(s) have errors")
        raise typer.Exit(code=1)


def _load(path: Path) -> object:
    from lodestar.core.playbook import PlaybookInvalid, load_playbook

    try:
        return load_playbook(_read(path), str(path))
    except PlaybookInvalid as exc:
        for error in exc.errors:
            err_console.print(str(error), markup=False, highlight=False)
        raise typer.Exit(code=1) from exc


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The earlier version.")],
    new: Annotated[Path, typer.Argument(help="The later version.")],
    chinese: Annotated[bool, typer.Option("--zh", help="Describe the changes in Chinese.")] = False,
) -> None:
    """List what changed between two playbook files: stages, criteria, fields, triggers …"""
    from lodestar.core.playbook import Playbook, diff_playbooks

    before, after = _load(old), _load(new)
    assert isinstance(before, Playbook)
    assert isinstance(after, Playbook)
    changes = diff_playbooks(before, after)
    if not changes:
        console.print("no changes")
        return
    for change in changes:
        console.print(change.text_zh if chinese else change.text, markup=False, highlight=False)


def _organization_and_actor(org: str, username: str | None) -> tuple[Organization, User]:
    from lodestar.org.models import Membership, Role

    organization = organization_by_slug(org)
    members = Membership.objects.filter(organization=organization).select_related("user")
    if username:
        member = members.filter(user__username=username).first()
        if member is None:
            fail(f"'{username}' is not a member of '{org}'")
    else:
        member = members.filter(role__in=[Role.OPS, Role.ADMIN]).order_by("role", "id").first()
        if member is None:
            fail(f"'{org}' has no ops or admin user to act as; pass --as USERNAME")
    return organization, member.user


def _team_id(organization: Organization, team: str | None) -> int | None:
    if team is None:
        return None
    from lodestar.org.models import Team

    found = Team.objects.filter(organization=organization, name=team).first()
    if found is None:
        names = ", ".join(
            Team.objects.filter(organization=organization).values_list("name", flat=True)
        )
        fail(f"no team '{team}' in this organization; teams: {names or 'none'}")
    return found.pk


@app.command()
def publish(
    file: Annotated[Path, typer.Argument(help="The playbook YAML file.")],
    org: Annotated[str, typer.Option(help="Organization slug.")],
    team: Annotated[str | None, typer.Option(help="Publish for this team only (its name).")] = None,
    acting: Annotated[
        str | None, typer.Option("--as", help="Ops or admin user recorded as publisher.")
    ] = None,
    note: Annotated[str, typer.Option(help="Release note.")] = "",
) -> None:
    """Validate FILE and publish it; deals are judged by it from now on. Prints the changes."""
    setup_django()
    from lodestar.errors import ApplicationError
    from lodestar.playbooks.services import playbook_publish_source

    organization, user = _organization_and_actor(org, acting)
    try:
        outcome = playbook_publish_source(
            user=user,
            source=_read(file),
            source_name=file.name,
            note=note,
            team_id=_team_id(organization, team),
        )
    except ApplicationError as exc:
        err_console.print(str(exc.message), markup=False)
        for detail in exc.details:
            err_console.print(f"  {detail.message}", markup=False, highlight=False)
        raise typer.Exit(code=1) from exc
    version = outcome.version
    if not outcome.published:
        console.print(f"unchanged: version {version.number} is already published with this text")
        return
    console.print(f"published version {version.number} of '{version.name}' by {user}")
    for change in version.diff:
        console.print(f"  {change['en']}", markup=False, highlight=False)


@app.command()
def export(
    org: Annotated[str, typer.Option(help="Organization slug.")],
    team: Annotated[str | None, typer.Option(help="The team's own playbook.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Print (or write) the published playbook's YAML exactly as it was published."""
    setup_django()
    from lodestar.playbooks.selectors import published_version

    organization, _user = _organization_and_actor(org, None)
    version = published_version(
        organization_id=organization.pk,
        team_id=_team_id(organization, team),
    )
    if version is None:
        fail(f"'{org}' has no published playbook yet; publish one with `lodestar playbook publish`")
    if output is None:
        typer.echo(version.source, nl=False)
    else:
        output.write_text(version.source, encoding="utf-8")
        console.print(f"wrote version {version.number} to {output}")
