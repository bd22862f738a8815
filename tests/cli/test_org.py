"""`lodestar org create` and `lodestar org list`: a new organization and its first admin."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from typer.testing import CliRunner

from lodestar.cli.main import app
from lodestar.org.models import AuditEntry, Membership, Organization, Role, User
from lodestar.playbooks.selectors import published_playbook

pytestmark = pytest.mark.django_db

runner = CliRunner()
GOOD = "Lantern-harbour-2026"
BASE = ["org", "create", "north", "--name", "华北销售", "--admin-email", "li@example.com"]


def test_it_creates_an_organization_with_its_first_admin_and_password() -> None:
    result = runner.invoke(app, [*BASE, "--password-stdin"], input=f"{GOOD}\n")
    assert result.exit_code == 0, result.output
    organization = Organization.objects.get(slug="north")
    assert (organization.name, organization.time_zone) == ("华北销售", "Asia/Shanghai")
    admin = User.objects.get(username="li@example.com")
    assert admin.check_password(GOOD)
    assert not admin.is_superuser
    member = Membership.objects.get(user=admin)
    assert (member.organization, member.role) == (organization, Role.ADMIN)
    assert AuditEntry.objects.filter(
        organization=organization, action="organization.create"
    ).exists()


def test_without_a_password_it_prints_a_link_that_lets_the_admin_choose_one() -> None:
    result = runner.invoke(app, [*BASE, "--site", "http://testserver"])
    assert result.exit_code == 0, result.output
    link = re.search(r"http://testserver(/invitation/\S+/\S+/)", result.output)
    assert link is not None, result.output
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    form = client.get(link.group(1), follow=True)
    client.post(
        form.redirect_chain[-1][0], {"new_password1": GOOD, "new_password2": GOOD}, follow=True
    )
    assert User.objects.get(username="li@example.com").check_password(GOOD)


def test_it_publishes_an_industry_template_as_the_first_playbook() -> None:
    result = runner.invoke(app, [*BASE, "--template", "saas_b2b"], input="")
    assert result.exit_code == 0, result.output
    organization = Organization.objects.get(slug="north")
    compiled = published_playbook(organization_id=organization.pk, team_id=None)
    assert compiled is not None
    assert len(compiled.playbook.stages) >= 2


def test_an_unknown_template_is_named_with_the_choices_and_nothing_is_created() -> None:
    result = runner.invoke(app, [*BASE, "--template", "bakery"])
    assert result.exit_code == 2
    assert "saas_b2b" in result.output
    assert not Organization.objects.filter(slug="north").exists()


def test_every_problem_is_reported_at_once_and_nothing_is_created() -> None:
    Organization.objects.create(name="已有", slug="taken")
    result = runner.invoke(
        app,
        [
            "org",
            "create",
            "taken",
            "--name",
            "",
            "--admin-email",
            "not-an-address",
            "--time-zone",
            "Mars/Base",
            "--password-stdin",
        ],
        input="123\n",
    )
    assert result.exit_code == 2
    for field in ("name:", "slug:", "admin_email:", "time_zone:", "password:"):
        assert field in result.output, result.output
    assert Organization.objects.count() == 1
    assert not User.objects.exists()


def test_a_taken_admin_user_name_is_refused() -> None:
    User.objects.create_user(username="li@example.com", password=GOOD)
    result = runner.invoke(app, [*BASE])
    assert result.exit_code == 2
    assert "admin_username:" in result.output
    assert not Organization.objects.filter(slug="north").exists()


def test_it_lists_the_organizations() -> None:
    runner.invoke(app, [*BASE, "--password-stdin"], input=f"{GOOD}\n")
    result = runner.invoke(app, ["org", "list"])
    assert result.exit_code == 0, result.output
    assert "north" in result.output
    assert "华北销售" in result.output
