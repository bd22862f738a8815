"""The dashboard's alerts grouped by rep and kind: counts, collapsed groups, pages of groups
and of cards, and acknowledging a whole group or the cards picked, each alert audited."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from lodestar.insights.models import Alert, AlertStatus
from lodestar.insights.selectors import alert_groups
from lodestar.org.models import AuditEntry
from lodestar.web.alert_groups import CARDS_PER_PAGE, GROUPS_PER_PAGE
from tests.alerting import raise_alerts
from tests.conftest import Cast
from tests.web.conftest import htmx

pytestmark = pytest.mark.django_db
ClientAs = Callable[[Any], Client]


def group_ids(page: str) -> list[str]:
    return re.findall(r'<details class="alert-group[^"]*" id="([^"]+)"', page)


def test_it_groups_the_alerts_by_rep_and_kind_with_counts(cast: Cast, client_as: ClientAs) -> None:
    raise_alerts(cast, cast.owner, "risk.stale", 7)
    raise_alerts(cast, cast.owner, "risk.silence", 2)
    raise_alerts(cast, cast.teammate, "risk.stale", 3)

    groups = alert_groups(user=cast.manager)
    assert [(g.rep_id, g.kind, g.total, g.open) for g in groups] == [
        (cast.owner.pk, "risk.stale", 7, 7),
        (cast.teammate.pk, "risk.stale", 3, 3),
        (cast.owner.pk, "risk.silence", 2, 2),
    ]
    page = client_as(cast.manager).get(reverse("web:dashboard")).content.decode()
    assert len(group_ids(page)) == 3
    assert "12 live alerts in 3 groups" in page
    assert f'{cast.owner} · Stalled deal <span class="group-count">×7</span>' in page
    assert f"{cast.teammate} · Stalled deal" in page
    assert f"{cast.owner} · Silent customer" in page
    # Collapsed: no group is open until the manager opens it.
    assert not re.search(r'<details class="alert-group[^>]*\sopen', page)
    assert f'href="{reverse("web:rep", args=[cast.owner.pk])}"' in page


def test_it_names_the_groups_in_chinese(cast: Cast) -> None:
    raise_alerts(cast, cast.owner, "risk.stale", 2)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast.manager)
    page = client.get(reverse("web:dashboard")).content.decode()
    assert f"{cast.owner} · 停滞商机" in page
    assert "共 2 条有效预警,分 1 组" in page
    assert "×2" in page


def test_it_shows_the_groups_a_page_at_a_time(cast: Cast, client_as: ClientAs) -> None:
    kinds = [
        "risk.stale",
        "risk.silence",
        "risk.dwell_overrun",
        "task_overdue",
        "risk.backward_moves",
    ]
    for kind in kinds:
        raise_alerts(cast, cast.owner, kind, 1)
        raise_alerts(cast, cast.teammate, kind, 1)
    client = client_as(cast.manager)

    first = client.get(reverse("web:dashboard")).content.decode()
    second = client.get(reverse("web:dashboard"), {"alerts": "2"}).content.decode()

    assert len(group_ids(first)) == GROUPS_PER_PAGE
    assert len(group_ids(second)) == 2 * len(kinds) - GROUPS_PER_PAGE
    assert not set(group_ids(first)) & set(group_ids(second))
    assert 'href="?alerts=2"' in first
    assert "Page 2 of 2" in second
    # A filter stays on when paging.
    filtered = client.get(reverse("web:dashboard"), {"period": "4w"}).content.decode()
    assert 'href="?period=4w&amp;alerts=2"' in filtered


def test_it_shows_a_groups_cards_a_page_at_a_time(cast: Cast, client_as: ClientAs) -> None:
    alerts = raise_alerts(cast, cast.owner, "risk.stale", CARDS_PER_PAGE + 2)
    client = client_as(cast.manager)
    page = client.get(reverse("web:dashboard")).content.decode()
    assert page.count('class="alert-item ') == CARDS_PER_PAGE
    assert "Show 2 more" in page

    more = client.get(
        reverse("web:alert-group"),
        {"rep": cast.owner.pk, "kind": "risk.stale", "page": "2"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    shown = set(map(int, re.findall(r'id="alert-(\d+)"', page + more)))
    assert shown == {alert.pk for alert in alerts}
    assert "Show" not in more


def test_it_refuses_a_group_named_wrongly(cast: Cast, client_as: ClientAs) -> None:
    response = client_as(cast.manager).get(
        reverse("web:alert-group"), {"rep": "abc", "kind": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "whole number" in body
    assert "kind of alert" in body


def test_it_acknowledges_a_whole_group_each_alert_audited(cast: Cast, client_as: ClientAs) -> None:
    stale = raise_alerts(cast, cast.owner, "risk.stale", 7)
    silence = raise_alerts(cast, cast.owner, "risk.silence", 2)

    response = htmx(
        client_as(cast.manager),
        reverse("web:alerts-acknowledge"),
        {"rep": cast.owner.pk, "kind": "risk.stale", "scope": "all"},
    )

    assert response.status_code == 200, response.content.decode()
    body = response.content.decode()
    assert "7 alerts acknowledged." in body
    assert re.search(r'<details class="alert-group all-seen"[^>]* open>', body)
    statuses = set(Alert.objects.filter(pk__in=[a.pk for a in stale]).values_list("status"))
    assert statuses == {(AlertStatus.ACKNOWLEDGED,)}
    assert not Alert.objects.filter(
        pk__in=[a.pk for a in silence], status=AlertStatus.ACKNOWLEDGED
    ).exists()
    audited = AuditEntry.objects.filter(action="alert.acknowledge", actor=cast.manager)
    assert sorted(int(e.object_id) for e in audited) == sorted(a.pk for a in stale)


def test_it_acknowledges_the_cards_picked(cast: Cast, client_as: ClientAs) -> None:
    first, second, third = raise_alerts(cast, cast.owner, "risk.stale", 3)

    response = htmx(
        client_as(cast.manager),
        reverse("web:alerts-acknowledge"),
        {
            "rep": cast.owner.pk,
            "kind": "risk.stale",
            "scope": "selected",
            "id": [first.pk, third.pk],
        },
    )

    assert response.status_code == 200
    assert "2 alerts acknowledged." in response.content.decode()
    assert {
        a.pk: a.status for a in Alert.objects.filter(pk__in=[first.pk, second.pk, third.pk])
    } == {
        first.pk: AlertStatus.ACKNOWLEDGED,
        second.pk: AlertStatus.OPEN,
        third.pk: AlertStatus.ACKNOWLEDGED,
    }


def test_it_asks_to_pick_a_card_when_none_is_picked(cast: Cast, client_as: ClientAs) -> None:
    raise_alerts(cast, cast.owner, "risk.stale", 2)
    response = htmx(
        client_as(cast.manager),
        reverse("web:alerts-acknowledge"),
        {"rep": cast.owner.pk, "kind": "risk.stale", "scope": "selected"},
    )
    assert response.status_code == 422
    assert "Choose at least one alert to acknowledge." in response.content.decode()
    assert not Alert.objects.filter(status=AlertStatus.ACKNOWLEDGED).exists()


def test_it_acknowledges_nothing_when_one_card_is_not_the_managers(
    cast: Cast, client_as: ClientAs
) -> None:
    mine = raise_alerts(cast, cast.owner, "risk.stale", 2)
    elsewhere = raise_alerts(cast, cast.outsider, "risk.stale", 1, recipient=cast.outsider)
    teammates = raise_alerts(cast, cast.owner, "risk.stale", 1, recipient=cast.owner)

    for foreign in (elsewhere[0], teammates[0]):
        response = htmx(
            client_as(cast.manager),
            reverse("web:alerts-acknowledge"),
            {"rep": cast.owner.pk, "kind": "risk.stale", "id": [mine[0].pk, foreign.pk]},
        )
        assert response.status_code == 404
        assert str(foreign.pk) in response.content.decode()

    assert not Alert.objects.filter(status=AlertStatus.ACKNOWLEDGED).exists()
    assert not AuditEntry.objects.filter(action="alert.acknowledge").exists()


def test_the_group_acknowledgement_reaches_only_the_managers_own_alerts(
    cast: Cast, client_as: ClientAs
) -> None:
    # The owner gets the same kind of alerts about themselves; the manager's "all" is theirs.
    raise_alerts(cast, cast.owner, "risk.stale", 2)
    owners = raise_alerts(cast, cast.owner, "risk.stale", 2, recipient=cast.owner)

    htmx(
        client_as(cast.manager),
        reverse("web:alerts-acknowledge"),
        {"rep": cast.owner.pk, "kind": "risk.stale", "scope": "all"},
    )

    assert not Alert.objects.filter(
        pk__in=[a.pk for a in owners], status=AlertStatus.ACKNOWLEDGED
    ).exists()
    assert (
        Alert.objects.filter(recipient=cast.manager, status=AlertStatus.ACKNOWLEDGED).count() == 2
    )
