"""Playbook versions: drafts, publishing with a diff, team playbooks, stranded deals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lodestar.errors import Conflict, PermissionDenied, ValidationFailed
from lodestar.org.models import AuditEntry
from lodestar.playbooks.models import PlaybookStatus
from lodestar.playbooks.selectors import playbook_for_deal
from lodestar.playbooks.services import (
    playbook_draft_create,
    playbook_publish,
    playbook_publish_source,
)
from tests.conftest import ApiClient, Cast, seed_playbook_source
from tests.factories import OpportunityFactory, TeamFactory

ApiAs = Callable[[Any], ApiClient]


def test_it_refuses_an_invalid_draft_with_located_errors(cast: Cast) -> None:
    broken = seed_playbook_source().replace("eq: true", "eqq: true")
    with pytest.raises(ValidationFailed) as caught:
        playbook_draft_create(user=cast.ops, source=broken, source_name="mine.yaml")
    details = caught.value.details
    assert [detail.field.split(" ")[0] for detail in details] == [
        "mine.yaml:65:9",
        "mine.yaml:67:9",
    ]
    assert "unknown key 'eqq' — did you mean 'eq'?" in details[1].message


def test_it_publishes_a_new_version_retires_the_old_and_records_the_diff(
    cast: Cast, published: Any
) -> None:
    changed = seed_playbook_source().replace("at_least: 2", "at_least: 3")
    draft = playbook_draft_create(user=cast.ops, source=changed)
    playbook_publish(user=cast.ops, version=draft)

    published.refresh_from_db()
    draft.refresh_from_db()
    assert (published.status, draft.status) == (PlaybookStatus.RETIRED, PlaybookStatus.PUBLISHED)
    assert any("decision_makers" in change["path"] for change in draft.diff)
    entry = AuditEntry.objects.get(action="playbook.publish", object_id=str(draft.pk))
    assert entry.data["replaces"] == published.number


def test_it_does_not_republish_an_identical_text(cast: Cast, published: Any) -> None:
    outcome = playbook_publish_source(
        user=cast.ops, source=seed_playbook_source(), source_name="seed.yaml"
    )
    assert outcome.published is False
    assert outcome.version == published


def test_it_refuses_to_publish_a_version_that_strands_open_deals(
    cast: Cast, published: Any
) -> None:
    OpportunityFactory(owner=cast.owner, stage_key="tech_confirmed")
    without_stage = seed_playbook_source().replace("key: tech_confirmed", "key: tech_ok")
    draft = playbook_draft_create(user=cast.ops, source=without_stage)
    with pytest.raises(Conflict, match="tech_confirmed"):
        playbook_publish(user=cast.ops, version=draft)


def test_it_lets_a_team_follow_its_own_playbook_and_others_the_organizations(
    cast: Cast, published: Any
) -> None:
    own = playbook_publish_source(
        user=cast.ops,
        source=seed_playbook_source().replace("key: seed_process", "key: team_process"),
        source_name="team.yaml",
        team_id=cast.team.pk,
    ).version
    in_team = OpportunityFactory(owner=cast.owner, stage_key="demo")
    elsewhere = OpportunityFactory(owner=cast.other_team_rep, stage_key="demo")
    assert playbook_for_deal(in_team) == own
    assert playbook_for_deal(elsewhere) == published


def test_it_refuses_a_team_of_another_organization(cast: Cast) -> None:
    foreign = TeamFactory()
    with pytest.raises(ValidationFailed):
        playbook_draft_create(user=cast.ops, source=seed_playbook_source(), team_id=foreign.pk)


@pytest.mark.parametrize("actor", ["owner", "manager"])
def test_it_lets_only_ops_and_admins_change_playbooks(cast: Cast, actor: str) -> None:
    with pytest.raises(PermissionDenied):
        playbook_draft_create(user=getattr(cast, actor), source=seed_playbook_source())


def test_it_validates_a_text_through_the_api_without_storing_it(cast: Cast, api_as: ApiAs) -> None:
    body = (
        api_as(cast.ops)
        .post("/playbooks/validate", {"source": "key: x\nname: X\nstages: []\n"})
        .json()
    )
    assert body["valid"] is False
    assert body["errors"][0]["line"] == 3


def test_it_hides_drafts_from_reps_but_shows_published_versions(
    cast: Cast, published: Any, api_as: ApiAs
) -> None:
    playbook_draft_create(user=cast.ops, source=seed_playbook_source() + "\n")
    rep_sees = [v["status"] for v in api_as(cast.owner).get("/playbooks").json()]
    ops_sees = sorted(v["status"] for v in api_as(cast.ops).get("/playbooks").json())
    assert rep_sees == ["published"]
    assert ops_sees == ["draft", "published"]


def test_it_publishes_a_draft_through_the_api(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.ops)
    draft = api.post("/playbooks", {"source": seed_playbook_source(), "source_name": "s.yaml"})
    assert draft.status_code == 201
    published = api.post(f"/playbooks/{draft.json()['id']}/publish", {})
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    assert api_as(cast.outsider).get(f"/playbooks/{draft.json()['id']}").status_code == 404
