"""Coaching sessions and exemptions over REST, scoped per role like the rest of the API: the
owner / teammate / outsider trio of `cast`, and another organization's ids are never found."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lodestar.automation.models import Task
from lodestar.org.models import AuditEntry, Role
from tests.conftest import ApiClient, Cast
from tests.factories import OpportunityFactory, UserFactory

ApiAs = Callable[[Any], ApiClient]
EXEMPTION = {"reason_code": "customer_unreachable", "reason": "客户出差两周,电话不通", "days": 10}


def test_a_manager_plans_coaching_that_the_rep_reads(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.manager).post(
        f"/reps/{cast.owner.pk}/coaching", {"note": "复盘华东水厂的方案演示"}
    )
    assert response.status_code == 201, response.json()
    planned = response.json()
    assert planned["rep"]["id"] == cast.owner.pk
    assert planned["planned_by"]["id"] == cast.manager.pk
    assert (planned["note"], planned["status"]) == ("复盘华东水厂的方案演示", "open")
    assert planned["planned_at"].endswith("+08:00")
    assert Task.objects.get(pk=planned["task_id"]).assignee == cast.owner
    assert AuditEntry.objects.filter(action="task.coaching_planned").count() == 1

    for reader in (cast.owner, cast.manager, cast.ops, cast.admin):
        body = api_as(reader).get(f"/reps/{cast.owner.pk}/coaching").json()
        assert body["count"] == 1, reader
        assert body["items"][0]["task_id"] == planned["task_id"]


def test_the_tasks_api_words_a_coaching_task_in_the_readers_language(
    cast: Cast, api_as: ApiAs
) -> None:
    planned = api_as(cast.manager).post(f"/reps/{cast.owner.pk}/coaching", {"note": "x"}).json()
    rep = api_as(cast.owner)
    english = rep.get("/tasks").json()["items"]
    assert [task["title"] for task in english] == [f"Coaching session with {cast.manager}"]
    one = rep.get(f"/tasks/{planned['task_id']}").json()
    assert one["title"] == f"Coaching session with {cast.manager}"
    rep.client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    chinese = rep.get("/tasks").json()["items"]
    assert chinese[0]["title"] != english[0]["title"]
    assert str(cast.manager) in chinese[0]["title"]


def test_coaching_is_read_only_where_the_reps_health_is(cast: Cast, api_as: ApiAs) -> None:
    api_as(cast.manager).post(f"/reps/{cast.owner.pk}/coaching", {"note": "x"})
    assert api_as(cast.teammate).get(f"/reps/{cast.owner.pk}/coaching").status_code == 404
    other_manager = UserFactory(organization=cast.org, role=Role.MANAGER)
    assert api_as(other_manager).get(f"/reps/{cast.owner.pk}/coaching").status_code == 404
    assert api_as(cast.outsider).get(f"/reps/{cast.owner.pk}/coaching").status_code == 404
    # another organization's rep, asked for by an admin of this one
    foreign_rep = UserFactory(organization=cast.outsider.membership.organization)
    assert api_as(cast.admin).get(f"/reps/{foreign_rep.pk}/coaching").status_code == 404


def test_only_the_reps_manager_or_an_admin_plans_coaching(cast: Cast, api_as: ApiAs) -> None:
    path = f"/reps/{cast.owner.pk}/coaching"
    for who in (cast.owner, cast.teammate, cast.ops):
        assert api_as(who).post(path, {"note": "x"}).status_code == 403, who
    assert (
        api_as(cast.manager).post(f"/reps/{cast.other_team_rep.pk}/coaching", {}).status_code == 403
    )
    assert api_as(cast.admin).post(path, {}).status_code == 201
    foreign_rep = UserFactory(organization=cast.outsider.membership.organization)
    response = api_as(cast.admin).post(f"/reps/{foreign_rep.pk}/coaching", {"note": "x"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not Task.objects.filter(assignee=foreign_rep).exists()


def test_an_unknown_coaching_field_is_refused(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.manager).post(f"/reps/{cast.owner.pk}/coaching", {"due": "tomorrow"})
    assert response.status_code == 422


@pytest.fixture
def exemption(cast: Cast, published: Any, api_as: ApiAs) -> dict[str, Any]:
    deal = OpportunityFactory(owner=cast.owner)
    response = api_as(cast.owner).post(f"/opportunities/{deal.pk}/exemptions", EXEMPTION)
    assert response.status_code == 201, response.json()
    return dict(response.json())


def test_an_exemption_is_read_by_those_who_see_its_deal(
    cast: Cast, api_as: ApiAs, exemption: dict[str, Any]
) -> None:
    path = f"/exemptions/{exemption['id']}"
    for reader in (cast.owner, cast.manager, cast.ops, cast.admin):
        response = api_as(reader).get(path)
        assert response.status_code == 200, reader
        assert response.json()["reason"] == EXEMPTION["reason"]
    for stranger in (cast.teammate, cast.other_team_rep, cast.outsider):
        response = api_as(stranger).get(path)
        assert response.status_code == 404, stranger
        assert response.json()["code"] == "not_found"
    assert api_as(cast.owner).get(f"/exemptions/{exemption['id'] + 1000}").status_code == 404


def test_exemption_lists_hold_no_other_organizations_exemptions(
    cast: Cast, api_as: ApiAs, exemption: dict[str, Any]
) -> None:
    assert api_as(cast.outsider).get("/exemptions").json()["count"] == 0
    listed = api_as(cast.admin).get("/exemptions", opportunity=exemption["opportunity_id"]).json()
    assert [item["id"] for item in listed["items"]] == [exemption["id"]]
    assert api_as(cast.teammate).get("/exemptions").json()["count"] == 0
