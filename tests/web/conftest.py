"""Page test setup: a deal in the seed playbook's demo stage, with people and tasks around it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import Cast


@dataclass
class DemoDeal:
    deal: Any
    bosses: list[Any]
    task: Any


@pytest.fixture
def demo_deal(cast: Cast, published: Any) -> DemoDeal:
    """The owner's deal in "demo" with two decision-makers on the account and a task due soon.

    Of the demo stage's exit criteria only the budget is met: nobody attended yet and no
    minutes are uploaded.
    """
    from tests.factories import ContactFactory, OpportunityFactory, TaskFactory

    deal = OpportunityFactory(
        owner=cast.owner, stage_key="demo", custom_fields={"budget_confirmed": True}
    )
    bosses = [
        ContactFactory(account=deal.account, name="王总", is_decision_maker=True),
        ContactFactory(account=deal.account, name="李厂长", is_decision_maker=True),
    ]
    now = timezone.now()
    task = TaskFactory(
        opportunity=deal,
        title="准备行业案例包",
        created_at=now - dt.timedelta(hours=1),
        due_at=now + dt.timedelta(hours=2),
    )
    return DemoDeal(deal=deal, bosses=bosses, task=task)


@pytest.fixture
def client_as() -> Callable[[Any], Client]:
    """`client_as(user)`: a test client signed in as `user`, asking for English pages."""

    def make(user: Any) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return make


def htmx(client: Client, path: str, data: dict[str, Any] | None = None) -> Any:
    """POST as htmx does (the partial comes back, not a page). A real request commits and then
    its on-commit work runs (e.g. an upload's text extraction, left to the worker); inside a
    test's transaction that must be asked for."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(path, data or {}, HTTP_HX_REQUEST="true")


@pytest.fixture(scope="session")
def _shared_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return tmp_path_factory.mktemp("shared-cache")


@pytest.fixture(autouse=True)
def _fresh_cache(settings: Any, _shared_cache_dir: Any) -> None:
    """The pages keep HTML and data per user; ids repeat between tests. The shared cache (the
    data version) is this run's own: other processes' writes must not change it mid-test."""
    from django.core.cache import cache

    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(_shared_cache_dir),
        },
    }
    cache.clear()


@pytest.fixture
def health_alert(cast: Cast, demo_deal: DemoDeal) -> Any:
    """The manager's alert that the demo rep's funnel health is under 70."""
    from lodestar.insights.alerts import alert_raise

    alert = alert_raise(
        organization=cast.org,
        kind="health",
        recipient=cast.manager,
        subject_user=cast.owner,
        dedupe_key=f"rep:{cast.owner.pk}:health",
        message_zh="owner 的漏斗健康度 52,低于 70",
        message_en="owner's funnel health is 52, below 70",
    )
    assert alert is not None
    return alert
