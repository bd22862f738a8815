"""Members, teams and the audit log written and read over REST: the same services as the pages,
with the owner / teammate / outsider trio of `cast` for every permission."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail

from lodestar.org.models import AuditEntry, Membership, Role, Team
from lodestar.org.services import audit_record
from tests.conftest import ApiClient, Cast
from tests.factories import OpportunityFactory, TaskFactory, TeamFactory

ApiAs = Callable[[Any], ApiClient]


def test_an_admin_invites_a_member_who_gets_a_set_password_link(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.admin).post(
        "/members",
        {"display_name": "孙小红", "email": "sun@example.com", "role": "rep", "team": cast.team.pk},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["username"] == "sun@example.com"
    assert (body["role"], body["team"]["id"], body["last_login"]) == ("rep", cast.team.pk, None)
    [message] = mail.outbox
    assert re.search(r"http://testserver/invitation/\S+/\S+/", message.body)
    assert "password" not in body


def test_an_invitation_reports_every_bad_field_at_once(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.admin).post(
        "/members",
        {"display_name": "x", "email": cast.owner.email, "role": "rep", "username": "Owner"},
    )
    assert response.status_code == 422
    assert {d["field"] for d in response.json()["details"]} == {"email", "username"}
    response = api_as(cast.admin).post(
        "/members", {"display_name": "x", "email": "x@example.com", "role": "boss"}
    )
    assert response.status_code == 422


@pytest.mark.parametrize("who", ["manager", "owner", "ops"])
def test_only_admins_write_people_and_teams(cast: Cast, api_as: ApiAs, who: str) -> None:
    api = api_as(getattr(cast, who))
    calls = [
        api.post("/members", {"display_name": "x", "email": "x@example.com", "role": "rep"}),
        api.patch(f"/members/{cast.teammate.pk}", {"role": "admin"}),
        api.post(f"/members/{cast.teammate.pk}/deactivate", {"successor": cast.owner.pk}),
        api.post(f"/members/{cast.teammate.pk}/reactivate", {}),
        api.post("/teams", {"name": "新组"}),
        api.patch(f"/teams/{cast.team.pk}", {"name": "改名"}),
    ]
    assert [call.status_code for call in calls] == [403] * len(calls)
    assert calls[0].json()["code"] == "permission_denied"
    assert Membership.objects.get(user=cast.teammate).role == Role.REP
    assert Team.objects.get(pk=cast.team.pk).name == "华东一组"


def test_people_and_teams_of_another_organization_are_not_found(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.admin)
    foreign_team = TeamFactory(organization=cast.outsider.membership.organization)
    calls = [
        api.patch(f"/members/{cast.outsider.pk}", {"role": "rep"}),
        api.post(f"/members/{cast.outsider.pk}/deactivate", {"successor": cast.owner.pk}),
        api.post(f"/members/{cast.owner.pk}/deactivate", {"successor": cast.outsider.pk}),
        api.post(f"/members/{cast.outsider.pk}/invitation", {}),
        api.patch(f"/teams/{foreign_team.pk}", {"name": "mine"}),
        api.patch(f"/members/{cast.owner.pk}", {"team": foreign_team.pk}),
    ]
    assert [call.status_code for call in calls] == [404] * len(calls)
    cast.outsider.refresh_from_db()
    assert cast.outsider.is_active


def test_role_and_team_change_alone_or_together(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.admin)
    other = TeamFactory(organization=cast.org)
    body = api.patch(f"/members/{cast.owner.pk}", {"team": other.pk}).json()
    assert (body["role"], body["team"]["id"]) == ("rep", other.pk)
    body = api.patch(f"/members/{cast.owner.pk}", {"role": "manager"}).json()
    assert (body["role"], body["team"]["id"]) == ("manager", other.pk)
    body = api.patch(f"/members/{cast.owner.pk}", {"team": None}).json()
    assert (body["role"], body["team"]) == ("manager", None)
    response = api.patch(f"/members/{cast.admin.pk}", {"role": "ops"})
    assert response.status_code == 422
    assert "last active administrator" in response.json()["details"][0]["message"]


def test_deactivate_hands_the_open_work_over_and_says_what_moved(cast: Cast, api_as: ApiAs) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    TaskFactory(opportunity=deal)
    response = api_as(cast.admin).post(
        f"/members/{cast.owner.pk}/deactivate", {"successor": cast.teammate.pk}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["member"]["is_active"] is False
    assert body["successor"]["id"] == cast.teammate.pk
    assert body["moved"] == {"deals": 1, "accounts": 0, "tasks": 1, "teams": 0}
    deal.refresh_from_db()
    assert deal.owner == cast.teammate
    # the deactivated member's own token stops working at once
    assert api_as(cast.admin).post(f"/members/{cast.owner.pk}/reactivate", {}).status_code == 200


def test_a_deactivated_members_token_is_refused(cast: Cast, api_as: ApiAs) -> None:
    own = api_as(cast.owner)
    assert own.get("/me").status_code == 200
    api_as(cast.admin).post(f"/members/{cast.owner.pk}/deactivate", {"successor": cast.teammate.pk})
    assert own.get("/me").status_code == 401


def test_teams_are_created_and_renamed(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.admin)
    response = api.post("/teams", {"name": "华北组", "manager": cast.manager.pk})
    assert response.status_code == 201, response.json()
    team = response.json()
    assert (team["manager"]["id"], team["member_count"]) == (cast.manager.pk, 0)
    renamed = api.patch(f"/teams/{team['id']}", {"name": "华北大区"}).json()
    assert (renamed["name"], renamed["manager"]["id"]) == ("华北大区", cast.manager.pk)
    cleared = api.patch(f"/teams/{team['id']}", {"manager": None}).json()
    assert cleared["manager"] is None
    response = api.post("/teams", {"name": "华北大区"})
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "name"


def test_ops_and_admins_read_the_audit_log_filtered_and_paged(cast: Cast, api_as: ApiAs) -> None:
    for n in range(3):
        audit_record(
            organization_id=cast.org.pk,
            actor=cast.admin,
            action="team.update",
            object_type="team",
            object_id=n,
        )
    audit_record(
        organization_id=cast.outsider.membership.organization_id,
        actor=cast.outsider,
        action="team.update",
        object_type="team",
        object_id=99,
    )
    api = api_as(cast.ops)
    body = api.get("/audit", limit=2).json()
    # the ops user's own token creation is in the log too
    assert body["count"] == 4
    assert len(body["items"]) == 2
    body = api.get("/audit", action="team", object_id="1").json()
    assert [item["object_id"] for item in body["items"]] == ["1"]
    assert body["items"][0]["actor"]["id"] == cast.admin.pk
    assert body["items"][0]["at"].endswith("+08:00")
    body = api.get("/audit", actor=cast.ops.pk).json()
    assert [item["action"] for item in body["items"]] == ["api_token.create"]
    for who in (cast.owner, cast.manager):
        assert api_as(who).get("/audit").status_code == 403
    assert AuditEntry.objects.filter(object_id="99").count() == 1


def test_the_openapi_document_lists_the_new_operations(cast: Cast, api_as: ApiAs) -> None:
    paths = api_as(cast.admin).get("/openapi.json").json()["paths"]
    expected = {
        "/api/v1/members": {"get", "post"},
        "/api/v1/members/{user_id}": {"get", "patch"},
        "/api/v1/members/{user_id}/deactivate": {"post"},
        "/api/v1/members/{user_id}/reactivate": {"post"},
        "/api/v1/members/{user_id}/invitation": {"post"},
        "/api/v1/teams": {"get", "post"},
        "/api/v1/teams/{team_id}": {"patch"},
        "/api/v1/audit": {"get"},
        "/api/v1/reps/{rep_id}/coaching": {"get", "post"},
        "/api/v1/exemptions/{exemption_id}": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
