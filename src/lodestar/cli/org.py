"""`lodestar org …`: the organizations of this installation, as its operator makes them."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.table import Table

from lodestar.cli.common import console, err_console, fail, setup_django

app = typer.Typer(
    help="Organizations: create one with its first administrator (and a ready playbook), list.",
    no_args_is_help=True,
)


def _password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return os.environ.get("LODESTAR_ADMIN_PASSWORD") or None


@app.command("create")
def create(
    slug: Annotated[str, typer.Argument(help="Short name for URLs and commands, e.g. east-sales.")],
    name: Annotated[str, typer.Option(help="The organization's name, e.g. 华东工业设备.")],
    admin_email: Annotated[str, typer.Option(help="E-mail address of the first administrator.")],
    admin_name: Annotated[str, typer.Option(help="The administrator's display name.")] = "",
    admin_username: Annotated[
        str, typer.Option(help="The administrator's user name (default: the e-mail address).")
    ] = "",
    time_zone: Annotated[str, typer.Option(help="IANA time zone of the organization.")] = (
        "Asia/Shanghai"
    ),
    template: Annotated[
        str | None,
        typer.Option(help="Publish this industry template as the first playbook (see --help)."),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the administrator's password from the first line of standard input.",
        ),
    ] = False,
    site: Annotated[
        str | None,
        typer.Option(
            help="The address users open, for the invitation link (default: LODESTAR_BASE_URL, "
            "else http://127.0.0.1:8000)."
        ),
    ] = None,
) -> None:
    """Create an organization and its first administrator; with --template, publish an industry
    playbook for it. Without a password (--password-stdin or LODESTAR_ADMIN_PASSWORD) the
    administrator gets a one-time link to choose one, printed here."""
    setup_django()
    from django.db import transaction

    from lodestar.errors import ApplicationError
    from lodestar.industry_templates import UnknownTemplate, list_templates, template_source
    from lodestar.org.founding import organization_create
    from lodestar.playbooks.services import playbook_publish_source

    source = None
    if template is not None:
        try:
            source = template_source(template)
        except UnknownTemplate:
            keys = ", ".join(info.key for info in list_templates())
            fail(f"no industry template '{template}'; choose one of: {keys}")
    try:
        with transaction.atomic():
            founded = organization_create(
                name=name,
                slug=slug,
                admin_email=admin_email,
                admin_name=admin_name,
                admin_username=admin_username,
                password=_password(password_stdin),
                time_zone=time_zone,
            )
            if source is not None:
                playbook_publish_source(
                    user=founded.admin, source=source, source_name=f"{template}.yaml"
                )
    except ApplicationError as exc:
        for detail in exc.details or []:
            err_console.print(f"{detail.field}: {detail.message}", markup=False, highlight=False)
        fail(str(exc.message))
    organization, admin = founded.organization, founded.admin
    console.print(f"organization '{organization.slug}' ({organization.name}) created", markup=False)
    console.print(f"administrator: {admin.username}", markup=False)
    if source is not None:
        console.print(f"playbook published from the template '{template}'", markup=False)
    if not admin.has_usable_password():
        console.print("the administrator chooses a password here (the link works once):")
        console.print(_invitation_link(admin, site or _base_url()), markup=False, soft_wrap=True)


def _base_url() -> str:
    from django.conf import settings

    configured: str = settings.LODESTAR_BASE_URL
    return configured or "http://127.0.0.1:8000"


def _invitation_link(admin: object, site: str) -> str:
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from lodestar.org.models import User
    from lodestar.org.tokens import invitation_token_generator

    assert isinstance(admin, User)
    return site.rstrip("/") + reverse(
        "web:invitation-accept",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(admin.pk)),
            "token": invitation_token_generator.make_token(admin),
        },
    )


@app.command("list")
def list_organizations() -> None:
    """Every organization with its members and deals."""
    setup_django()
    from django.db.models import Count

    from lodestar.crm.models import Opportunity
    from lodestar.org.models import Organization

    deals = dict(
        Opportunity.objects.values("organization_id")
        .annotate(n=Count("id"))
        .values_list("organization_id", "n")
    )
    table = Table("slug", "name", "time zone", "members", "deals", "created")
    for organization in Organization.objects.annotate(members=Count("memberships")).order_by(
        "slug"
    ):
        table.add_row(
            organization.slug,
            organization.name,
            organization.time_zone,
            str(organization.members),
            str(deals.get(organization.pk, 0)),
            organization.created_at.date().isoformat(),
        )
    console.print(table)
