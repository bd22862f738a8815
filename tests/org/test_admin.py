"""The Django admin: every model listed, tokens created through the service, events read-only."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lodestar.events.models import Event
from lodestar.org.models import ApiToken, User
from lodestar.org.services import api_token_create
from tests.conftest import Cast
from tests.factories import ContactFactory, OpportunityFactory, ProductFactory

OUR_APPS = {"org", "crm", "events", "automation", "insights"}


@pytest.fixture
def operator(cast: Cast) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(username="root", password="pw-for-tests"))
    return client


def our_models() -> list[type]:
    return [model for model in admin.site._registry if model._meta.app_label in OUR_APPS]


def test_it_registers_every_model_of_our_apps() -> None:
    from django.apps import apps

    expected = {m for label in OUR_APPS for m in apps.get_app_config(label).get_models()}
    assert expected <= set(admin.site._registry)


@pytest.mark.parametrize("model", our_models(), ids=lambda m: m._meta.label)
def test_it_lists_and_searches_each_model(operator: Client, cast: Cast, model: type) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    ContactFactory(account=deal.account)
    ProductFactory(organization=cast.org)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert operator.get(url).status_code == 200
    assert operator.get(url, {"q": "x"}).status_code == 200


def test_it_shows_a_new_tokens_secret_once(operator: Client, cast: Cast) -> None:
    response = operator.post(
        reverse("admin:org_apitoken_add"), {"user": cast.owner.pk, "name": "erp sync"}, follow=True
    )
    token = ApiToken.objects.get(name="erp sync")
    shown = [str(m) for m in response.context["messages"]]
    secrets = [word for text in shown for word in text.split() if word.startswith("lsk_")]
    assert len(secrets) == 1
    assert ApiToken.digest_of(secrets[0]) == token.digest
    again = operator.get(reverse("admin:org_apitoken_change", args=[token.pk]))
    assert secrets[0].encode() not in again.content


def test_it_revokes_tokens_from_the_list(operator: Client, cast: Cast) -> None:
    token, _ = api_token_create(user=cast.owner, name="t")
    operator.post(
        reverse("admin:org_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_it_keeps_events_read_only(operator: Client, cast: Cast) -> None:
    now = timezone.now()
    event = Event.objects.create(
        organization=cast.org,
        type="call",
        source="web",
        external_id="e1",
        occurred_at=now,
        recorded_at=now,
    )
    model_admin = admin.site._registry[Event]
    request = operator.get("/").wsgi_request
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    change_url = reverse("admin:events_event_change", args=[event.pk])
    page = operator.get(change_url)
    assert page.status_code == 200  # viewable
    assert b'name="_save"' not in page.content
