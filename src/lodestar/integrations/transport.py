"""The one interface every delivery channel implements, and how failures are classified.

A transport turns a `Message` into one delivery attempt to one `Destination`. It returns on
success and raises `RetryableError` (try again later: connection refused, timeout, 5xx, the
platform's rate limit) or `PermanentError` (retrying cannot help: 4xx, a bad webhook URL, a
rejected signature). The worker owns retries and bookkeeping; transports own only the wire.
"""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from django.conf import settings
from django.utils.module_loading import import_string

__all__ = [
    "DeliveryError",
    "Destination",
    "Message",
    "PermanentError",
    "RetryableError",
    "Transport",
    "transport_for",
]


@dataclass(frozen=True, slots=True)
class Message:
    """What to say. ``idempotency_key`` is stable across retries of one notification."""

    title: str
    body: str
    link: str
    idempotency_key: str
    recipient_name: str = ""


@dataclass(frozen=True, slots=True)
class Destination:
    """Where to say it: a webhook (+ signing secret) or an e-mail address."""

    webhook_url: str = ""
    secret: str = ""
    email_address: str = ""


class DeliveryError(Exception):
    """A failed delivery attempt; ``retry_after`` is the receiver's own hint, if it gave one."""

    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, retry_after: dt.timedelta | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RetryableError(DeliveryError):
    retryable = True


class PermanentError(DeliveryError):
    retryable = False


class Transport(abc.ABC):
    """Delivers one message to one destination; see the module docstring for the contract."""

    kind: ClassVar[str]

    @abc.abstractmethod
    def send(self, message: Message, destination: Destination) -> None: ...


_DEFAULT_TRANSPORTS = {
    "wecom": "lodestar.integrations.wecom.transport.WeComTransport",
    "dingtalk": "lodestar.integrations.dingtalk.transport.DingTalkTransport",
    "feishu": "lodestar.integrations.feishu.transport.FeishuTransport",
    "email": "lodestar.integrations.email.transport.EmailTransport",
}


def transport_for(kind: str) -> Transport:
    """The transport for a channel kind.

    ``settings.LODESTAR_TRANSPORTS`` may override any kind with a dotted path (or map it to
    ``None`` to switch the channel off: its notifications then fail permanently and show up as
    dead letters instead of silently vanishing). Read per call, never at import time.
    """
    overrides: dict[str, str | None] = getattr(settings, "LODESTAR_TRANSPORTS", {})
    path = overrides.get(kind, _DEFAULT_TRANSPORTS.get(kind))
    if path is None:
        raise PermanentError(f"channel {kind!r} is switched off on this server")
    transport_class: type[Transport] = import_string(path)
    return transport_class()
