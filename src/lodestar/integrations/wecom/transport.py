"""WeCom (企业微信) group robot: a markdown message POSTed to the robot's webhook URL.

The webhook URL carries the robot's key; there is no signature. The reply is
``{"errcode": 0, "errmsg": "ok"}``; a robot may send 20 messages a minute.
"""

from __future__ import annotations

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

__all__ = ["WeComTransport"]

# -1: system busy; 45009: the robot's rate limit. Everything else is a request we got wrong.
RETRYABLE_CODES = frozenset({-1, 45009})
# The platform refuses markdown content over 4096 bytes.
MAX_CONTENT_BYTES = 4096


class WeComTransport(Transport):
    kind: ClassVar[str] = "wecom"

    def payload(self, message: Message) -> dict[str, object]:
        content = truncate_utf8(markdown_text(message), MAX_CONTENT_BYTES)
        return {"msgtype": "markdown", "markdown": {"content": content}}

    def send(self, message: Message, destination: Destination) -> None:
        if not destination.webhook_url:
            raise PermanentError("no WeCom webhook URL configured")
        reply = post_json(
            destination.webhook_url,
            self.payload(message),
            headers={"Idempotency-Key": message.idempotency_key},
        )
        code = reply.get("errcode", 0)
        if code == 0:
            return
        error = f"WeCom errcode {code}: {reply.get('errmsg', '')}"
        if code in RETRYABLE_CODES:
            raise RetryableError(error)
        raise PermanentError(error)
