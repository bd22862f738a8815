"""Webhooks: one POST over the standard library; failures sorted retryable or permanent.

`post_json` is the robots' road: the robots answer HTTP 200 with a platform error code in the
body, so callers get the parsed body back and classify those codes themselves. `post_bytes`
under it answers whatever status came back; the outbound webhooks use it with an address
check (no private ranges) and without following redirects.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.client
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any

from lodestar.integrations.transport import PermanentError, RetryableError

__all__ = ["DEFAULT_TIMEOUT", "AddressCheck", "Reply", "post_bytes", "post_json"]

DEFAULT_TIMEOUT = 10.0
# Robots answer with a few hundred bytes; never read an unbounded reply into memory.
_MAX_REPLY = 64 * 1024


def _retry_after(headers: Mapping[str, str] | Message[str, str] | None) -> dt.timedelta | None:
    raw = (headers or {}).get("Retry-After", "")
    if raw.strip().isdigit():
        return dt.timedelta(seconds=min(int(raw), 24 * 3600))
    return None


@dataclass(frozen=True, slots=True)
class Reply:
    """What a receiver answered: its HTTP status, the first bytes of its body, its Retry-After."""

    status: int
    body: bytes
    retry_after: dt.timedelta | None = None


# Called with every address a host name resolves to, before connecting; raises PermanentError
# for one it refuses (outbound webhooks refuse private ranges: `outbound.check_address`).
AddressCheck = Callable[[str], None]


def _checked_connection(
    address: tuple[str, int],
    timeout: float | object = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
    source_address: tuple[str, int] | None = None,
    *,
    check: AddressCheck,
) -> socket.socket:
    """`socket.create_connection`, connecting only to addresses `check` lets through.

    Every address the name resolves to is checked before any is tried, and the socket connects
    to the checked address itself, so a name that resolves elsewhere a moment later (DNS
    rebinding) cannot slip past the check.
    """
    host, port = address
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        check(str(info[4][0]))
    error: OSError | None = None
    for family, kind, proto, _name, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
                sock.settimeout(timeout)  # type: ignore[arg-type]
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"no address for {host}")


class _CheckedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, check: AddressCheck, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = functools.partial(_checked_connection, check=check)


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, check: AddressCheck, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = functools.partial(_checked_connection, check=check)


class _CheckedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, check: AddressCheck) -> None:
        super().__init__()
        self._check = check

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_CheckedHTTPConnection, check=self._check), req)


class _CheckedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, check: AddressCheck) -> None:
        super().__init__()
        self._check = check

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(
            functools.partial(_CheckedHTTPSConnection, check=self._check),
            req,
            context=self._context,  # type: ignore[attr-defined]
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as it came (a 3xx reply), never followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener(check: AddressCheck | None, follow_redirects: bool) -> urllib.request.OpenerDirector:
    if check is None and follow_redirects:
        return urllib.request.build_opener()
    handlers: list[urllib.request.BaseHandler] = []
    if check is not None:
        # No proxy from the environment: the checked address must be the one connected to.
        handlers += [
            urllib.request.ProxyHandler({}),
            _CheckedHTTPHandler(check),
            _CheckedHTTPSHandler(check),
        ]
    if not follow_redirects:
        handlers.append(_NoRedirect())
    return urllib.request.build_opener(*handlers)


def post_bytes(
    url: str,
    data: bytes,
    *,
    headers: Mapping[str, str],
    timeout: float = DEFAULT_TIMEOUT,
    check_address: AddressCheck | None = None,
    follow_redirects: bool = True,
) -> Reply:
    """POST ``data`` and return the receiver's reply, whatever its HTTP status.

    Raises `RetryableError` when no reply came (no connection, a timeout, a name that does not
    resolve) and `PermanentError` for a URL that is not http(s) or an address `check_address`
    refuses.
    """
    if not url.lower().startswith(("https://", "http://")):
        # Also keeps urlopen away from file:// and other schemes (the S310 concern).
        raise PermanentError("the webhook URL must be an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=data, method="POST", headers=dict(headers)
    )
    try:
        with _opener(check_address, follow_redirects).open(request, timeout=timeout) as response:
            return Reply(response.status, response.read(_MAX_REPLY))
    except urllib.error.HTTPError as exc:
        retry_after = _retry_after(exc.headers)
        try:
            body = exc.read(_MAX_REPLY) if exc.fp is not None else b""
        except OSError:
            body = b""
        exc.close()
        return Reply(exc.code, body, retry_after)
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, socket.gaierror):
            # An unknown host name is usually a typo, but DNS also fails transiently; retry
            # and let the attempt limit turn a real typo into a dead letter.
            raise RetryableError(f"cannot resolve host: {exc.reason}") from exc
        raise RetryableError(f"cannot connect: {exc.reason}") from exc
    except (TimeoutError, ConnectionError, OSError) as exc:
        raise RetryableError(f"connection failed: {exc!r}") from exc


def post_json(
    url: str,
    payload: Mapping[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, Any]:
    """POST ``payload`` as UTF-8 JSON and return the JSON object it answered with."""
    reply = post_bytes(
        url,
        json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        timeout=timeout,
    )
    if reply.status == 429 or reply.status >= 500:
        raise RetryableError(f"HTTP {reply.status}", retry_after=reply.retry_after)
    if not 200 <= reply.status < 300:
        raise PermanentError(f"HTTP {reply.status}")
    raw = reply.body
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        # A 2xx that is not the platform's JSON (a captive proxy, a wrong URL): do not resend
        # blindly, which could double-post; surface it as a dead letter for a human.
        raise PermanentError(f"the receiver did not answer JSON: {raw[:200]!r}") from exc
    if not isinstance(body, dict):
        raise PermanentError(f"the receiver answered {type(body).__name__}, not an object")
    return body
