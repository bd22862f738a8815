"""Feishu (飞书) custom bot, with its "签名校验" signature when the bot has a secret.

Signature, per Feishu's documentation: ``timestamp + "\\n" + secret`` (timestamp in *seconds*)
is the HMAC-SHA256 *key*, the message is empty, and the base64 digest goes in the JSON body as
``sign`` next to ``timestamp`` (a string). Unlike DingTalk nothing is added to the URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any, ClassVar

from lodestar.integrations.formatting import absolute_link
from lodestar.integrations.transport import (
    Destination,
    Message,
    PermanentError,
    RetryableError,
    Transport,
)
from lodestar.integrations.webhooks import post_json

__all__ = ["FeishuTransport", "feishu_sign"]

# 9499 / 11232 / 99991400: the platform's rate limits ("too many request", "frequency limited").
RETRYABLE_CODES = frozenset({9499, 11232, 99991400})


def feishu_sign(timestamp_s: int, secret: str) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


class FeishuTransport(Transport):
    kind: ClassVar[str] = "feishu"
    clock: Callable[[], float] = staticmethod(time.time)

    def payload(self, message: Message, secret: str) -> dict[str, Any]:
        lines: list[list[dict[str, str]]] = []
        if message.body:
            lines.append([{"tag": "text", "text": message.body}])
        link = absolute_link(message.link)
        if link:
            lines.append([{"tag": "a", "text": link, "href": link}])
        payload: dict[str, Any] = {
            "msg_type": "post",
            "content": {"post": {"zh_cn": {"title": message.title, "content": lines}}},
        }
        if secret:
            timestamp_s = int(self.clock())
            payload["timestamp"] = str(timestamp_s)
            payload["sign"] = feishu_sign(timestamp_s, secret)
        return payload

    def send(self, message: Message, destination: Destination) -> None:
        if not destination.webhook_url:
            raise PermanentError("no Feishu webhook URL configured")
        reply = post_json(
            destination.webhook_url,
            self.payload(message, destination.secret),
            headers={"Idempotency-Key": message.idempotency_key},
        )
        # Current bots answer {"code": 0, "msg": "success"}; older ones {"StatusCode": 0, …}.
        code = reply.get("code", reply.get("StatusCode", 0))
        if code == 0:
            return
        error = f"Feishu code {code}: {reply.get('msg', reply.get('StatusMessage', ''))}"
        if code in RETRYABLE_CODES:
            raise RetryableError(error)
        raise PermanentError(error)
