from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lodestar.org.models import User
from tests.conftest import Cast

ApiAs = Callable[[User], Any]


@pytest.mark.parametrize(
    ("who", "role", "team"),
    [
        ("owner", "rep", "华东一组"),
        ("manager", "manager", "华东一组"),
        ("ops", "ops", None),
        ("admin", "admin", None),
        ("outsider", "admin", None),
    ],
)
def test_it_tells_the_caller_who_they_are(
    cast: Cast, api_as: ApiAs, who: str, role: str, team: str | None
) -> None:
    body = api_as(getattr(cast, who)).get("/me").json()
    assert body["user"]["username"] == who
    assert body["role"] == role
    assert (body["team"] or {}).get("name") == team


def test_it_names_the_callers_organization(cast: Cast, api_as: ApiAs) -> None:
    body = api_as(cast.owner).get("/me").json()
    assert body["organization"] == {
        "id": cast.org.pk,
        "name": "华东工业设备",
        "slug": "east",
        "time_zone": "Asia/Shanghai",
    }


def test_it_shows_a_superuser_without_membership_no_organization(cast: Cast, api_as: ApiAs) -> None:
    root = User.objects.create_superuser(username="root", password="pw-for-tests")
    body = api_as(root).get("/me").json()
    assert (body["organization"], body["role"], body["team"]) == (None, None, None)


def test_it_shows_a_superuser_without_membership_no_deals(cast: Cast, api_as: ApiAs) -> None:
    root = User.objects.create_superuser(username="root", password="pw-for-tests")
    body = api_as(root).get("/opportunities").json()
    assert body["count"] == 0


def test_it_refuses_a_superuser_without_membership_creating_deals(
    cast: Cast, api_as: ApiAs
) -> None:
    root = User.objects.create_superuser(username="root", password="pw-for-tests")
    response = api_as(root).post("/accounts", {"name": "x"})
    assert response.status_code == 403
