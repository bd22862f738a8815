"""The webhooks pages: admins and ops subscribe, see the secret once, edit, switch off and on,
send a test, rotate, delete and read the log; nobody else comes in, no other organization's
webhook is found."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from lodestar.integrations.models import WebhookDelivery, WebhookSubscription
from tests.conftest import Cast
from tests.factories import WebhookAttemptFactory, WebhookSubscriptionFactory

pytestmark = pytest.mark.django_db

ClientAs = Callable[[Any], Client]
EVENTS = ["task.created", "alert.raised"]


def create(client: Client, url: str = "https://crm.example.com/lodestar", **extra: Any) -> Any:
    return client.post(
        reverse("web:webhook-create"),
        {"url": url, "event_types": EVENTS, "description": "CRM 同步", **extra},
    )


@pytest.mark.parametrize("who", ["admin", "ops"])
def test_admins_and_ops_subscribe_and_see_the_secret_once(
    cast: Cast, client_as: ClientAs, who: str
) -> None:
    client = client_as(getattr(cast, who))
    response = create(client)
    hook = WebhookSubscription.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:webhook", args=[hook.pk])
    assert (hook.event_types, hook.description, hook.organization) == (EVENTS, "CRM 同步", cast.org)

    first = client.get(response["Location"])
    assert hook.secret in first.content.decode()
    assert first["Cache-Control"] == "no-store"
    again = client.get(response["Location"])
    assert hook.secret not in again.content.decode()


@pytest.mark.parametrize("who", ["owner", "manager"])
def test_reps_and_managers_may_not_come_in(cast: Cast, client_as: ClientAs, who: str) -> None:
    client = client_as(getattr(cast, who))
    hook = WebhookSubscriptionFactory(organization=cast.org)
    assert client.get(reverse("web:webhooks")).status_code == 403
    assert client.get(reverse("web:webhook", args=[hook.pk])).status_code == 403
    assert create(client).status_code == 403
    assert not WebhookSubscription.objects.exclude(pk=hook.pk).exists()


def test_another_organizations_webhook_is_not_found(cast: Cast, client_as: ClientAs) -> None:
    theirs = WebhookSubscriptionFactory(organization=cast.outsider.membership.organization)
    client = client_as(cast.admin)
    assert client.get(reverse("web:webhook", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("web:webhook-test", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("web:webhook-delete", args=[theirs.pk])).status_code == 404
    assert WebhookSubscription.objects.filter(pk=theirs.pk).exists()
    assert theirs.url not in client.get(reverse("web:webhooks")).content.decode()


def test_a_refused_url_is_shown_with_the_reason_and_nothing_is_made(
    cast: Cast, client_as: ClientAs
) -> None:
    response = create(client_as(cast.admin), url="https://192.168.1.20/hook")
    assert response.status_code == 422
    assert "192.168.1.20 is a loopback, private or reserved address" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_no_event_type_chosen_is_refused(cast: Cast, client_as: ClientAs) -> None:
    response = client_as(cast.admin).post(
        reverse("web:webhook-create"), {"url": "https://crm.example.com/x"}
    )
    assert response.status_code == 422
    assert "Choose at least one event type." in response.content.decode()


def test_edit_switch_off_and_on_test_rotate_and_delete(cast: Cast, client_as: ClientAs) -> None:
    client = client_as(cast.admin)
    hook = WebhookSubscriptionFactory(organization=cast.org)
    url = reverse("web:webhook", args=[hook.pk])

    client.post(
        reverse("web:webhook-edit", args=[hook.pk]),
        {"url": "https://bi.example.com/in", "event_types": ["alert.resolved"]},
    )
    hook.refresh_from_db()
    assert (hook.url, hook.event_types) == ("https://bi.example.com/in", ["alert.resolved"])

    client.post(reverse("web:webhook-toggle", args=[hook.pk]), {"enabled": "0"})
    hook.refresh_from_db()
    assert (hook.enabled, hook.disabled_reason) == (False, "by_hand")
    client.post(reverse("web:webhook-toggle", args=[hook.pk]), {"enabled": "1"})
    hook.refresh_from_db()
    assert hook.enabled

    assert client.post(reverse("web:webhook-test", args=[hook.pk]))["Location"] == url
    assert WebhookDelivery.objects.get().event_type == "webhook.test"

    old = hook.secret
    client.post(reverse("web:webhook-rotate", args=[hook.pk]))
    hook.refresh_from_db()
    assert hook.secret != old
    assert hook.previous_secret == old
    assert hook.secret in client.get(url).content.decode()

    assert client.post(reverse("web:webhook-delete", args=[hook.pk]))["Location"] == reverse(
        "web:webhooks"
    )
    assert not WebhookSubscription.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_the_log_is_paged_newest_first(cast: Cast, client_as: ClientAs) -> None:
    hook = WebhookSubscriptionFactory(organization=cast.org)
    for status in [200] * 25 + [503]:
        WebhookAttemptFactory(delivery__subscription=hook, status_code=status, outcome="delivered")
    client = client_as(cast.admin)
    first = client.get(reverse("web:webhook-log", args=[hook.pk])).content.decode()
    assert "<td>503</td>" in first
    assert "Page 1 of 2" in first
    second = client.get(reverse("web:webhook-log", args=[hook.pk]), {"page": 2}).content.decode()
    assert "<td>503</td>" not in second
    assert "<td>200</td>" in second


def test_the_navigation_shows_webhooks_to_admins_and_ops_only(
    cast: Cast, client_as: ClientAs
) -> None:
    link = f'href="{reverse("web:webhooks")}"'
    assert link in client_as(cast.ops).get(reverse("web:inbox")).content.decode()
    assert link not in client_as(cast.owner).get(reverse("web:inbox")).content.decode()
