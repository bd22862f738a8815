"""`lodestar operator create`: the one way to make the installation's superuser."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lodestar.cli.main import app
from lodestar.org.models import Membership, User
from tests.conftest import Cast

runner = CliRunner()
GOOD = "Lantern-harbour-2026"


def test_it_explains_the_command_with_help() -> None:
    result = runner.invoke(app, ["operator", "create", "--help"])
    assert result.exit_code == 0
    assert "--password-stdin" in result.output


@pytest.mark.django_db
def test_it_creates_an_operator_from_a_password_on_standard_input() -> None:
    result = runner.invoke(
        app,
        ["operator", "create", "root", "--email", "root@example.com", "--password-stdin"],
        input=f"{GOOD}\n",
    )
    assert result.exit_code == 0, result.output
    operator = User.objects.get(username="root")
    assert operator.is_superuser
    assert operator.is_active
    assert operator.email == "root@example.com"
    assert operator.check_password(GOOD)


@pytest.mark.django_db
def test_it_gives_an_operator_no_organization() -> None:
    runner.invoke(
        app,
        ["operator", "create", "root", "--email", "root@example.com", "--password-stdin"],
        input=f"{GOOD}\n",
    )
    assert not Membership.objects.filter(user__username="root").exists()


@pytest.mark.django_db
def test_it_takes_the_password_from_the_environment() -> None:
    result = runner.invoke(
        app,
        ["operator", "create", "root", "--email", "root@example.com"],
        env={"LODESTAR_OPERATOR_PASSWORD": GOOD},
    )
    assert result.exit_code == 0, result.output
    assert User.objects.get(username="root").check_password(GOOD)


@pytest.mark.django_db
def test_it_asks_for_the_password_twice_when_none_is_given() -> None:
    result = runner.invoke(
        app,
        ["operator", "create", "root", "--email", "root@example.com"],
        input=f"{GOOD}\n{GOOD}\n",
        env={"LODESTAR_OPERATOR_PASSWORD": ""},
    )
    assert result.exit_code == 0, result.output
    assert User.objects.get(username="root").check_password(GOOD)


def test_it_refuses_a_user_name_that_is_taken(cast: Cast) -> None:
    result = runner.invoke(
        app,
        ["operator", "create", cast.admin.username, "--email", "x@example.com", "--password-stdin"],
        input=f"{GOOD}\n",
    )
    assert result.exit_code == 2
    assert "username:" in result.output
    cast.admin.refresh_from_db()
    assert not cast.admin.is_superuser


@pytest.mark.django_db
def test_it_names_every_problem_at_once_and_creates_nothing() -> None:
    result = runner.invoke(
        app,
        ["operator", "create", "root", "--email", "not-an-address", "--password-stdin"],
        input="123\n",
    )
    assert result.exit_code == 2
    assert "email:" in result.output
    assert "password:" in result.output
    assert not User.objects.filter(username="root").exists()
