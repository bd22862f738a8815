"""`lodestar demo` prints one login per role, and each of them logs in to its home page."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from typer.testing import CliRunner

from lodestar.cli.main import app

SMALL = ["--reps", "4", "--deals", "40", "--months", "2", "--events-per-deal", "10"]
HOMES = {"rep": "/today/", "manager": "/dashboard/", "ops": "/playbooks/", "admin": "/dashboard/"}


@pytest.mark.django_db(transaction=True)
def test_it_prints_a_working_login_for_every_role_and_loads_only_once() -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["demo", *SMALL])
    assert first.exit_code == 0, first.output
    logins = re.findall(r"^\s+(rep|manager|ops|admin)\s+(\S+) / (\S+)", first.output, re.M)
    assert [role for role, _, _ in logins] == ["rep", "manager", "ops", "admin"]

    for role, username, password in logins:
        client = Client()
        response = client.post("/login/", {"username": username, "password": password})
        assert response.status_code == 302, f"{role} could not log in"
        home = client.get("/", follow=True)
        assert home.status_code == 200
        assert home.redirect_chain[-1][0] == HOMES[role]

    again = runner.invoke(app, ["demo", *SMALL])
    assert "already loaded" in again.output
