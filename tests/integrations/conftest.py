"""Fixtures for delivery tests: live local receivers and channel settings pointing at them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integrations.servers import SmtpServer, WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()
