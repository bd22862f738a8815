"""DingTalk (钉钉) custom robot, with the "加签" signature when the robot has a secret.

Signature, per DingTalk's documentation: the string ``timestamp + "\\n" + secret`` (timestamp in
milliseconds) is HMAC-SHA256'd with the secret as the key, base64-encoded, URL-encoded, and sent
as ``&timestamp=…&sign=…`` on the webhook URL. DingTalk rejects a timestamp more than an hour
off, so it is taken at send time, never stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from collections.abc import Callable
from typing import ClassVar

from lodestar.integrations.formatting import markdown_text, truncate_utf8
from lodestar.integrations.transport import (
    Destination,
    Message,
    PermanentError,
    RetryableError,
    Transport,
)
from lodestar.integrations.webhooks import post_json

__all__ = ["DingTalkTransport", "dingtalk_sign"]

# -1: system busy; 130101: "send too fast" (20 a minute, then throttled for 10 minutes).
RETRYABLE_CODES = frozenset({-1, 130101})
MAX_TEXT_BYTES = 5000


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """The base64 signature (not yet URL-encoded) for ``timestamp_ms`` and ``secret``."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class DingTalkTransport(Transport):
    kind: ClassVar[str] = "dingtalk"
    # Seconds since the epoch; replaced in tests to pin the signature.
    clock: Callable[[], float] = staticmethod(time.time)

    def payload(self, message: Message) -> dict[str, object]:
        return {
            "msgtype": "markdown",
            "markdown": {
                "title": message.title,
                "text": truncate_utf8(markdown_text(message), MAX_TEXT_BYTES),
            },
        }

    def signed_url(self, webhook_url: str, secret: str) -> str:
        if not secret:
            return webhook_url
        timestamp_ms = int(self.clock() * 1000)
        sign = urllib.parse.quote_plus(dingtalk_sign(timestamp_ms, secret))
        separator = "&" if "?" in webhook_url else "?"
        return f"{webhook_url}{separator}timestamp={timestamp_ms}&sign={sign}"

    def send(self, message: Message, destination: Destination) -> None:
        if not destination.webhook_url:
            raise PermanentError("no DingTalk webhook URL configured")
        reply = post_json(
            self.signed_url(destination.webhook_url, destination.secret),
            self.payload(message),
            headers={"Idempotency-Key": message.idempotency_key},
        )
        code = reply.get("errcode", 0)
        if code == 0:
            return
        error = f"DingTalk errcode {code}: {reply.get('errmsg', '')}"
        if code in RETRYABLE_CODES:
            raise RetryableError(error)
        raise PermanentError(error)
