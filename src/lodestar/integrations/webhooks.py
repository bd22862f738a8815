"""Webhooks: one JSON POST over the standard library; failures sorted retryable or permanent.

The robots answer HTTP 200 with a platform error code in the body, so callers get the parsed
body back and classify those codes themselves.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import Message
from typing import Any

from lodestar.integrations.transport import PermanentError, RetryableError

__all__ = ["DEFAULT_TIMEOUT", "post_json"]

DEFAULT_TIMEOUT = 10.0
# Robots answer with a few hundred bytes; never read an unbounded reply into memory.
_MAX_REPLY = 64 * 1024


def _retry_after(headers: Mapping[str, str] | Message[str, str] | None) -> dt.timedelta | None:
    raw = (headers or {}).get("Retry-After", "")
    if raw.strip().isdigit():
        return dt.timedelta(seconds=min(int(raw), 24 * 3600))
    return None


def post_json(
    url: str,
    payload: Mapping[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, Any]:
    """POST ``payload`` as UTF-8 JSON and return the JSON object it answered with."""
    if not url.lower().startswith(("https://", "http://")):
        # Also keeps urlopen away from file:// and other schemes (the S310 concern).
        raise PermanentError("the webhook URL must be an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read(_MAX_REPLY)
    except urllib.error.HTTPError as exc:
        retry_after = _retry_after(exc.headers)
        exc.close()
        if exc.code == 429 or exc.code >= 500:
            raise RetryableError(f"HTTP {exc.code}", retry_after=retry_after) from exc
        raise PermanentError(f"HTTP {exc.code}") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, socket.gaierror):
            # An unknown host name is usually a typo, but DNS also fails transiently; retry
            # and let the attempt limit turn a real typo into a dead letter.
            raise RetryableError(f"cannot resolve host: {exc.reason}") from exc
        raise RetryableError(f"cannot connect: {exc.reason}") from exc
    except (TimeoutError, ConnectionError, OSError) as exc:
        raise RetryableError(f"connection failed: {exc!r}") from exc
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        # A 2xx that is not the platform's JSON (a captive proxy, a wrong URL): do not resend
        # blindly, which could double-post; surface it as a dead letter for a human.
        raise PermanentError(f"the receiver did not answer JSON: {raw[:200]!r}") from exc
    if not isinstance(body, dict):
        raise PermanentError(f"the receiver answered {type(body).__name__}, not an object")
    return body
