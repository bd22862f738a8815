"""Alerts over REST: grouped by rep and kind, one group listed, several acknowledged at once
(all or nothing, each audited), never another person's or another organization's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lodestar.insights.alerts import ACKNOWLEDGE_MAX
from lodestar.insights.models import Alert, AlertStatus
from lodestar.org.models import AuditEntry
from tests.alerting import raise_alerts
from tests.conftest import ApiClient, Cast

pytestmark = pytest.mark.django_db
ApiAs = Callable[[Any], ApiClient]


def test_it_lists_the_groups_with_their_counts(cast: Cast, api_as: ApiAs) -> None:
    stale = raise_alerts(cast, cast.owner, "risk.stale", 3)
    raise_alerts(cast, cast.teammate, "risk.silence", 1)
    Alert.objects.filter(pk=stale[0].pk).update(status=AlertStatus.ACKNOWLEDGED)

    response = api_as(cast.manager).get("/alerts/groups")

    assert response.status_code == 200
    groups = [(g["rep_name"], g["kind"], g["total"], g["open"]) for g in response.json()]
    assert groups == [
        (str(cast.owner), "risk.stale", 3, 2),
        (str(cast.teammate), "risk.silence", 1, 1),
    ]
    assert api_as(cast.teammate).get("/alerts/groups").json() == []


def test_it_lists_one_groups_alerts(cast: Cast, api_as: ApiAs) -> None:
    stale = raise_alerts(cast, cast.owner, "risk.stale", 3)
    raise_alerts(cast, cast.owner, "risk.silence", 1)
    raise_alerts(cast, cast.teammate, "risk.stale", 1)

    found = api_as(cast.manager).get("/alerts", status="live", rep=cast.owner.pk, kind="risk.stale")

    assert found.status_code == 200
    assert sorted(item["id"] for item in found.json()["items"]) == sorted(a.pk for a in stale)


def test_a_manager_acknowledges_several_alerts_each_audited(cast: Cast, api_as: ApiAs) -> None:
    alerts = raise_alerts(cast, cast.owner, "risk.stale", 3)
    ids = [a.pk for a in alerts]

    response = api_as(cast.manager).post("/alerts/acknowledge", {"ids": ids + ids[:1]})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 3
    assert [item["id"] for item in body["items"]] == ids
    assert {item["status"] for item in body["items"]} == {"acknowledged"}
    audited = AuditEntry.objects.filter(action="alert.acknowledge", actor=cast.manager)
    assert sorted(int(entry.object_id) for entry in audited) == sorted(ids)

    again = api_as(cast.manager).post("/alerts/acknowledge", {"ids": ids})
    assert again.status_code == 200
    assert AuditEntry.objects.filter(action="alert.acknowledge").count() == 3


@pytest.mark.parametrize("whose", ["outsider", "owner"])
def test_ids_outside_the_managers_alerts_are_refused_and_nothing_is_acknowledged(
    cast: Cast, api_as: ApiAs, whose: str
) -> None:
    mine = raise_alerts(cast, cast.owner, "risk.stale", 2)
    person = getattr(cast, whose)
    foreign = raise_alerts(cast, person, "risk.stale", 1, recipient=person)[0]

    response = api_as(cast.manager).post(
        "/alerts/acknowledge", {"ids": [mine[0].pk, foreign.pk, mine[1].pk]}
    )

    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found"
    assert f"alerts {foreign.pk} are not among yours" in body["message"]
    assert body["details"][0]["field"] == "ids"
    assert not Alert.objects.filter(status=AlertStatus.ACKNOWLEDGED).exists()
    assert not AuditEntry.objects.filter(action="alert.acknowledge").exists()


def test_it_refuses_an_empty_or_oversized_list(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.manager)
    empty = api.post("/alerts/acknowledge", {"ids": []})
    assert empty.status_code == 422
    assert empty.json()["details"][0]["field"].startswith("ids")

    too_many = api.post("/alerts/acknowledge", {"ids": list(range(1, ACKNOWLEDGE_MAX + 2))})
    assert too_many.status_code == 422

    unknown = api.post("/alerts/acknowledge", {"ids": [1], "all": True})
    assert unknown.status_code == 422


def test_the_operations_are_in_the_openapi_document(cast: Cast, api_as: ApiAs) -> None:
    paths = api_as(cast.manager).get("/openapi.json").json()["paths"]
    assert "post" in paths["/api/v1/alerts/acknowledge"]
    assert "get" in paths["/api/v1/alerts/groups"]
