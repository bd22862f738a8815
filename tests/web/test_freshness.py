"""Kept pages stop being served when anyone's write commits, and never reach another user.

These tests commit for real (`transactional_db`): the data version changes when a transaction
commits, which a test wrapped in one transaction never does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lodestar.automation.models import Task
from lodestar.insights.alerts import alert_raise
from lodestar.org.models import Membership
from lodestar.web.caching import data_version
from tests.conftest import Cast
from tests.web.conftest import DemoDeal, htmx

ClientAs = Callable[[Any], Client]

pytestmark = pytest.mark.usefixtures("transactional_db")


def _task_for(cast: Cast, deal: Any, title: str) -> Task:
    now = timezone.now()
    return Task(
        organization=cast.org,
        opportunity=deal,
        assignee=cast.owner,
        title=title,
        created_at=now,
        due_at=now + dt.timedelta(hours=3),
    )


def test_it_shows_a_task_the_worker_creates_in_bulk_on_the_kept_page_at_once(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    client = client_as(cast.owner)
    assert "回访客户" not in client.get(reverse("web:today")).content.decode()

    # What triggers and sweeps do: a bulk insert, which sends no model signal.
    Task.objects.bulk_create([_task_for(cast, demo_deal.deal, "回访客户")])

    assert "回访客户" in client.get(reverse("web:today")).content.decode()


def test_it_shows_the_reps_page_the_coaching_their_manager_plans(
    cast: Cast, client_as: ClientAs, health_alert: Any
) -> None:
    alert = health_alert
    rep, manager = client_as(cast.owner), client_as(cast.manager)
    assert "coaching" not in rep.get(reverse("web:today")).content.decode().lower()
    dashboard = manager.get(reverse("web:dashboard")).content.decode()
    assert "Plan coaching" in dashboard

    response = htmx(
        manager, reverse("web:alert-coaching", args=[alert.pk]), {"rep_id": cast.owner.pk}
    )
    assert response.status_code == 200

    assert "coaching" in rep.get(reverse("web:today")).content.decode().lower()
    assert "✓ Acknowledged" in manager.get(reverse("web:dashboard")).content.decode()


def test_it_shows_an_alert_the_worker_raises_on_the_managers_kept_dashboard(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    manager = client_as(cast.manager)
    assert "silent for 9 days" not in manager.get(reverse("web:dashboard")).content.decode()

    alert_raise(
        organization=cast.org,
        kind="risk.silence",
        recipient=cast.manager,
        opportunity=demo_deal.deal,
        dedupe_key=f"deal:{demo_deal.deal.pk}:silence",
        message_zh="客户已沉默 9 天",
        message_en="The customer has been silent for 9 days",
    )

    assert "silent for 9 days" in manager.get(reverse("web:dashboard")).content.decode()


def test_it_changes_the_data_version_when_a_write_commits_not_before() -> None:
    from tests.factories import OrganizationFactory

    org = OrganizationFactory(name="甲", slug="jia")
    before = data_version()
    with transaction.atomic():
        type(org).objects.filter(pk=org.pk).update(name="乙")
        assert data_version() == before
    after = data_version()
    assert after != before

    with transaction.atomic():
        type(org).objects.filter(pk=org.pk).update(name="丙")
        transaction.set_rollback(True)
    assert data_version() == after


def test_it_keeps_the_version_when_only_a_session_is_saved(cast: Cast) -> None:
    from django.contrib.sessions.backends.cached_db import SessionStore

    before = data_version()
    session = SessionStore()
    session["seen"] = True
    session.save()
    assert data_version() == before


def test_it_never_serves_a_kept_page_to_another_user(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    url = reverse("web:today")
    assert demo_deal.task.title in client_as(cast.owner).get(url).content.decode()
    for other in (cast.teammate, cast.outsider, cast.manager):
        page = client_as(other).get(url)
        assert demo_deal.task.title not in page.content.decode(), other


def test_it_keeps_a_page_per_language(cast: Cast, client_as: ClientAs, demo_deal: DemoDeal) -> None:
    client = client_as(cast.owner)
    assert "<h3>Due today</h3>" in client.get(reverse("web:today")).content.decode()
    chinese = client.get(reverse("web:today"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<h3>Due today</h3>" not in chinese
    assert "<h3>今日到期</h3>" in chinese


def test_it_signs_out_a_deactivated_user_though_they_were_kept(
    cast: Cast, client_as: ClientAs
) -> None:
    client = client_as(cast.owner)
    assert client.get(reverse("web:today")).status_code == 200

    type(cast.owner).objects.filter(pk=cast.owner.pk).update(is_active=False)

    response = client.get(reverse("web:today"))
    assert response.status_code == 302
    assert reverse("web:login") in response["Location"]


def test_it_refuses_a_user_whose_membership_was_removed_though_it_was_kept(
    cast: Cast, client_as: ClientAs
) -> None:
    client = client_as(cast.owner)
    assert client.get(reverse("web:today")).status_code == 200

    Membership.objects.filter(user=cast.owner).delete()

    assert client.get(reverse("web:today")).status_code == 403


def test_it_gives_each_kept_page_a_fresh_csrf_token_that_works(
    cast: Cast, demo_deal: DemoDeal
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", enforce_csrf_checks=True)
    client.force_login(cast.owner)
    first = client.get(reverse("web:today")).content.decode()
    kept = client.get(reverse("web:today")).content.decode()
    tokens = [re.search(r'"X-CSRFToken": "([^"]+)"', page) for page in (first, kept)]
    assert tokens[0]
    assert tokens[1]
    assert tokens[0].group(1) != tokens[1].group(1)

    response = client.post(
        reverse("web:task-done", args=[demo_deal.task.pk]),
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN=tokens[1].group(1),
    )
    assert response.status_code == 200


def test_it_gives_each_form_of_a_kept_page_its_own_delivery_id(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    client = client_as(cast.owner)
    pages = [client.get(reverse("web:today-deals")).content.decode() for _ in range(2)]
    ids = [re.findall(r'name="delivery_id" value="([0-9a-f]{32})"', page) for page in pages]
    assert ids[0]
    assert len(ids[0]) == len(ids[1])
    assert len(set(ids[0]) | set(ids[1])) == 2 * len(ids[0])


def test_it_answers_not_modified_until_someone_writes(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    client = client_as(cast.owner)
    first = client.get(reverse("web:today"))
    etag = first["ETag"]
    assert first["Cache-Control"] == "private, no-cache"
    assert client.get(reverse("web:today"), HTTP_IF_NONE_MATCH=etag).status_code == 304

    Task.objects.bulk_create([_task_for(cast, demo_deal.deal, "回访客户")])

    again = client.get(reverse("web:today"), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200
    assert "回访客户" in again.content.decode()


def test_it_shows_a_new_notification_in_the_kept_inbox_and_its_badge(
    cast: Cast, client_as: ClientAs
) -> None:
    from lodestar.integrations.models import Channel, Notification, NotificationStatus

    client = client_as(cast.owner)
    assert "合同已盖章" not in client.get(reverse("web:inbox")).content.decode()
    today = client.get(reverse("web:today")).content.decode()
    assert 'id="inbox-badge" class="badge" hidden' in today

    # What the outbox delivery does for the in-app channel.
    Notification.objects.bulk_create(
        [
            Notification(
                organization=cast.org,
                recipient=cast.owner,
                channel=Channel.IN_APP,
                title="合同已盖章",
                body="",
                link="",
                cause_key="test:stamped",
                dedupe_key=f"test:stamped:{cast.owner.pk}",
                status=NotificationStatus.DELIVERED,
                next_attempt_at=timezone.now(),
                created_at=timezone.now(),
                delivered_at=timezone.now(),
            )
        ]
    )

    assert "合同已盖章" in client.get(reverse("web:inbox")).content.decode()
    today = client.get(reverse("web:today")).content.decode()
    assert 'id="inbox-badge" class="badge" hidden' not in today


def test_it_keeps_pages_when_only_a_sign_in_is_recorded(cast: Cast) -> None:
    client = Client()
    before = data_version()
    # Axes (first of the backends) wants the request a sign-in comes with.
    assert client.login(
        request=HttpRequest(), username=cast.owner.username, password="pw-for-tests"
    )
    cast.owner.refresh_from_db()
    assert cast.owner.last_login is not None
    assert data_version() == before


def test_it_neither_keeps_nor_serves_kept_pages_inside_a_transaction_that_wrote(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal
) -> None:
    client = client_as(cast.owner)
    assert "回访客户" not in client.get(reverse("web:today")).content.decode()

    with transaction.atomic():
        Task.objects.bulk_create([_task_for(cast, demo_deal.deal, "回访客户")])
        assert "回访客户" in client.get(reverse("web:today")).content.decode()
        transaction.set_rollback(True)

    assert "回访客户" not in client.get(reverse("web:today")).content.decode()


def test_it_shows_the_users_own_change_even_if_the_data_version_is_not_changed(
    cast: Cast, client_as: ClientAs, demo_deal: DemoDeal, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if the shared cache had lost the change: only the user's session counter is left.
    monkeypatch.setattr("lodestar.web.caching.data_changed", lambda: None)
    client = client_as(cast.owner)
    done_button = f'hx-post="{reverse("web:task-done", args=[demo_deal.task.pk])}"'
    assert done_button in client.get(reverse("web:today")).content.decode()

    assert htmx(client, reverse("web:task-done", args=[demo_deal.task.pk])).status_code == 200

    assert done_button not in client.get(reverse("web:today")).content.decode()
