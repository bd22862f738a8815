"""`lodestar webhook list / add / test`, acting as an admin or ops member."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from lodestar.cli.main import app
from lodestar.integrations.models import WebhookSubscription
from tests.conftest import Cast
from tests.integrations.outbound_receiver import Receiver, verify

pytestmark = pytest.mark.django_db

runner = CliRunner()


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.LODESTAR_WEBHOOK_ALLOW_PRIVATE = True
    server = Receiver().start()
    yield server
    server.stop()


def test_add_prints_the_secret_once_list_shows_it_and_test_posts_now(
    cast: Cast, receiver: Receiver
) -> None:
    added = runner.invoke(
        app,
        ["webhook", "add", receiver.url, "--as", "ops", "--event", "task.created"],
    )
    assert added.exit_code == 0, added.output
    hook = WebhookSubscription.objects.get()
    assert hook.secret in added.output

    listed = runner.invoke(app, ["webhook", "list", "--as", "admin"])
    assert f"#{hook.pk} on {receiver.url} [task.created]" in listed.output
    assert hook.secret not in listed.output

    tested = runner.invoke(app, ["webhook", "test", str(hook.pk), "--as", "admin"])
    assert tested.exit_code == 0, tested.output
    assert "delivered: HTTP 200" in tested.output
    (arrival,) = receiver.arrivals
    assert verify(hook.secret, arrival.headers, arrival.body)


def test_a_failing_test_exits_non_zero_with_the_reason(cast: Cast, receiver: Receiver) -> None:
    runner.invoke(app, ["webhook", "add", receiver.url, "--as", "admin", "--event", "alert.raised"])
    receiver.statuses.append(500)
    hook = WebhookSubscription.objects.get()
    tested = runner.invoke(app, ["webhook", "test", str(hook.pk), "--as", "admin"])
    assert tested.exit_code == 1
    assert "dead: HTTP 500" in tested.output


def test_a_rep_is_refused_and_a_bad_url_is_explained(cast: Cast) -> None:
    refused = runner.invoke(
        app,
        ["webhook", "add", "https://crm.example.com/x", "--as", "owner", "--event", "task.created"],
    )
    assert refused.exit_code == 2
    bad = runner.invoke(
        app,
        ["webhook", "add", "http://crm.example.com/x", "--as", "admin", "--event", "task.created"],
    )
    assert bad.exit_code == 2
    assert "url:" in bad.output
    unknown = runner.invoke(app, ["webhook", "list", "--as", "nobody"])
    assert unknown.exit_code == 2
    assert not WebhookSubscription.objects.exists()
