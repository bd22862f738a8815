"""Shared test setup: the owner / teammate / outsider trio used by every permission test."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the core tests run without Django, so models load only inside fixtures
    from lodestar.org.models import Organization, Team, User


@dataclass(frozen=True)
class Cast:
    """One organization with a team (manager, two reps), an ops user, an admin, and an outsider."""

    org: Organization
    team: Team
    manager: User
    owner: User
    teammate: User
    ops: User
    admin: User
    other_team_rep: User
    outsider: User


@pytest.fixture
def cast(db: None) -> Cast:
    from lodestar.org.models import Role
    from tests.factories import OrganizationFactory, TeamFactory, UserFactory

    org = OrganizationFactory(name="华东工业设备", slug="east")
    team = TeamFactory(organization=org, name="华东一组")
    other_team = TeamFactory(organization=org, name="华南组")
    manager = UserFactory(organization=org, role=Role.MANAGER, team=team, username="manager")
    team.manager = manager
    team.save()
    other_org = OrganizationFactory(name="别家公司", slug="other")
    return Cast(
        org=org,
        team=team,
        manager=manager,
        owner=UserFactory(organization=org, team=team, username="owner"),
        teammate=UserFactory(organization=org, team=team, username="teammate"),
        ops=UserFactory(organization=org, role=Role.OPS, username="ops"),
        admin=UserFactory(organization=org, role=Role.ADMIN, username="admin"),
        other_team_rep=UserFactory(organization=org, team=other_team, username="southrep"),
        outsider=UserFactory(organization=other_org, role=Role.ADMIN, username="outsider"),
    )


class ApiClient:
    """Calls /api/v1 as one user with a personal token; JSON in, JSON out."""

    def __init__(self, secret: str) -> None:
        from django.test import Client

        # Assertions read English messages; Chinese is the default (tested on its own).
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="en")

    def _send(self, method: str, path: str, body: object = None, **query: object) -> Any:
        from django.test import TestCase

        url = f"/api/v1{path}"
        # A real request commits, and then its on-commit work runs (e.g. the scores ingestion
        # leaves to the worker); inside a test's transaction that must be asked for.
        with TestCase.captureOnCommitCallbacks(execute=True):
            if method in {"get", "delete"}:
                return getattr(self.client, method)(url, data=query or None)
            return getattr(self.client, method)(
                url, data=json.dumps(body), content_type="application/json"
            )

    def get(self, path: str, **query: object) -> Any:
        return self._send("get", path, **query)

    def post(self, path: str, body: object) -> Any:
        return self._send("post", path, body)

    def patch(self, path: str, body: object) -> Any:
        return self._send("patch", path, body)

    def delete(self, path: str) -> Any:
        return self._send("delete", path)


@pytest.fixture
def api_as(db: None) -> Callable[[User], ApiClient]:
    """`api_as(user).get("/opportunities")`: an API client holding a fresh token of `user`."""
    from lodestar.org.services import api_token_create

    def make(user: User) -> ApiClient:
        _, secret = api_token_create(user=user, name="tests")
        return ApiClient(secret)

    return make


def seed_playbook_source() -> str:
    """The core tests' seed playbook, with the proposal task closed by `proposal.sent`."""
    from tests.core.samples import SEED_PLAYBOOK

    return SEED_PLAYBOOK.replace(
        "      title: {zh: 发送定制化方案, en: Send tailored proposal}\n      due: 24h\n",
        "      title: {zh: 发送定制化方案, en: Send tailored proposal}\n      due: 24h\n"
        "      closes_on: [proposal.sent]\n",
    )


@pytest.fixture
def published(cast: Cast) -> Any:
    """The seed playbook, published for the cast's organization by its ops user."""
    from lodestar.playbooks.services import playbook_publish_source

    return playbook_publish_source(
        user=cast.ops, source=seed_playbook_source(), source_name="seed.yaml"
    ).version
