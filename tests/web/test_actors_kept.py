"""A page that only reads works the user's permission view (`actor_of`) out once; anything
else sees a change of teams at once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from lodestar.org import selectors
from lodestar.org.selectors import actor_of, actors_kept
from tests.alerting import raise_alerts
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def test_inside_actors_kept_a_managers_teams_are_read_once(
    cast: Cast, django_assert_num_queries: Any
) -> None:
    cast.manager.membership  # noqa: B018 - loaded, as a signed-in page has it
    with actors_kept():
        with django_assert_num_queries(1):
            first = actor_of(user=cast.manager)
        with django_assert_num_queries(0):
            again = actor_of(user=cast.manager)
    assert first == again
    assert first is not None
    assert first.managed_team_ids == {cast.team.pk}


def test_outside_it_every_call_sees_a_team_given_meanwhile(cast: Cast) -> None:
    from tests.factories import TeamFactory

    before = actor_of(user=cast.manager)
    later_team = TeamFactory(organization=cast.org, name="华北组", manager=cast.manager)
    after = actor_of(user=cast.manager)

    assert before is not None
    assert after is not None
    assert after.managed_team_ids == before.managed_team_ids | {later_team.pk}


def test_each_block_starts_afresh(cast: Cast) -> None:
    from tests.factories import TeamFactory

    with actors_kept():
        before = actor_of(user=cast.manager)
    later_team = TeamFactory(organization=cast.org, name="华北组", manager=cast.manager)
    with actors_kept():
        after = actor_of(user=cast.manager)

    assert before is not None
    assert after is not None
    assert later_team.pk in after.managed_team_ids - before.managed_team_ids


def counting_actors(monkeypatch: pytest.MonkeyPatch) -> Counter[int]:
    """How often each user's actor is worked out (not taken from what was kept)."""
    worked_out: Counter[int] = Counter()
    original: Callable[..., Any] = selectors._actor_of

    def counted(user: Any) -> Any:
        worked_out[user.pk] += 1
        return original(user)

    monkeypatch.setattr(selectors, "_actor_of", counted)
    return worked_out


def test_the_dashboard_works_the_managers_actor_out_once(
    cast: Cast, client_as: Callable[[Any], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    for kind in ("risk.stale", "risk.silence", "task_overdue"):
        raise_alerts(cast, cast.owner, kind, 2)
        raise_alerts(cast, cast.teammate, kind, 2)
    client = client_as(cast.manager)
    worked_out = counting_actors(monkeypatch)

    response = client.get(reverse("web:dashboard"))

    assert response.status_code == 200
    assert "12 live alerts in 6 groups" in response.content.decode()
    assert worked_out == {cast.manager.pk: 1}


def test_a_post_works_it_out_wherever_it_is_asked_for(
    cast: Cast, client_as: Callable[[Any], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    raise_alerts(cast, cast.owner, "risk.stale", 2)
    client = client_as(cast.manager)
    worked_out = counting_actors(monkeypatch)

    response = client.post(
        reverse("web:alerts-acknowledge"),
        {"rep": str(cast.owner.pk), "kind": "risk.stale", "scope": "all"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert worked_out[cast.manager.pk] > 1
