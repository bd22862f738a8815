"""Who is asking, and how often: the client address and the request counters every limit uses.

One rule for the client address (`client_ip`), read by the sign-in lockout (django-axes), the
sign-in and password-reset rate limits of the pages and the API's throttle: the peer address,
or — only when `TRUSTED_PROXY_COUNT` says that many reverse proxies of ours stand in front — the
address the outermost of them saw, taken from the right of `X-Forwarded-For`. A client can put
anything at the left of that header, so it is never read without the setting.

Password checks (`password_check_slot`): a web process that hashes a password is busy for
a long time on purpose (PBKDF2, ~0.4 s of a core), and a few concurrent ones occupy every
process while the pages wait. At most `LOGIN_CONCURRENT_CHECKS` run at once on a machine (each
holds a lock on a file under the var folder, released even if the process dies). A sign-in
arriving while all are taken waits up to `LOGIN_CHECK_WAIT_SECONDS` for one (colleagues signing
in at the same moment each wait a check or two, ~0.4 s) and is then refused (`SignInBusy`)
rather than holding a web process longer; attackers reach this point only at the per-address
sign-in rate, so the wait cannot be used to tie up the processes.

Counters (`hit`) count requests per scope and caller in fixed windows, in the `ratelimit`
cache: Redis when `REDIS_URL` is set (every process and host share the counts), otherwise each
web process's own memory (each process then counts on its own: a client spread over N processes
gets up to N times the limit — still a bound on the work it can cause in each). Counting costs
a cache read and write, nothing from the database, so a refused request is cheap.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest

__all__ = ["RATELIMIT_CACHE", "Rate", "SignInBusy", "client_ip", "hit", "password_check_slot"]

RATELIMIT_CACHE = "ratelimit"

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    """The client's address as our outermost trusted proxy saw it (the peer without proxies)."""
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    peer = str(request.META.get("REMOTE_ADDR") or "")
    if proxies <= 0:
        return peer
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if not forwarded:
        return peer
    # Each of our proxies appends the address it received from, so the entry `proxies` from the
    # right is what the outermost one saw; anything left of it is the client's own say.
    return str(forwarded[-min(proxies, len(forwarded))])


@dataclass(frozen=True)
class Rate:
    """`limit` requests per `seconds`."""

    limit: int
    seconds: int

    def __post_init__(self) -> None:
        if self.limit < 1 or self.seconds < 1:
            raise ValueError(
                f"A rate needs at least one request per at least one second, got "
                f"{self.limit} per {self.seconds} s."
            )


def hit(*, scope: str, caller: str, rate: Rate, now: float | None = None) -> float | None:
    """Count one request of `caller` in `scope`; None if it is within `rate`, else the seconds
    until the caller's window ends and requests are accepted again.

    Refused requests are counted too (a client that keeps knocking stays refused until it
    pauses for the rest of the window); the count is kept as long as the window lasts. The first
    refusal of a window is logged, the rest are not (a flood must not flood the log too).
    """
    now = time.time() if now is None else now
    window = int(now // rate.seconds)
    digest = hashlib.sha256(caller.encode()).hexdigest()[:32]
    key = f"{scope}:{digest}:{window}"
    cache = caches[RATELIMIT_CACHE]
    ends = (window + 1) * rate.seconds
    # `add` then `incr`: atomic on Redis; in one process's memory, under its lock.
    cache.add(key, 0, timeout=math.ceil(ends - now) + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # the window's key expired between the two calls: a new window began
        return None
    if count <= rate.limit:
        return None
    if count == rate.limit + 1:
        logger.warning(
            "Rate limit reached: %s by %s (%d per %d s); refused for %d s.",
            scope,
            caller,
            rate.limit,
            rate.seconds,
            math.ceil(ends - now),
        )
    return max(ends - now, 1.0)


class SignInBusy(Exception):
    """Every password-check slot of this machine is taken; the caller should retry shortly."""

    retry_after = 2


_SLOT_POLL_SECONDS = 0.025


def _take_free_slot(folder: Path) -> int | None:
    """The descriptor of a password-check slot locked for the caller, or None if all are held."""
    for slot in range(max(int(settings.LOGIN_CONCURRENT_CHECKS), 1)):
        descriptor = os.open(folder / f"password-check-{slot}", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            continue
        return descriptor
    return None


@contextmanager
def password_check_slot() -> Iterator[None]:
    """Hold one of the machine's `LOGIN_CONCURRENT_CHECKS` password-check slots while the block
    runs; raise `SignInBusy` if none frees up within `LOGIN_CHECK_WAIT_SECONDS`."""
    folder = Path(settings.VAR_DIR) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    give_up_at = time.monotonic() + max(float(settings.LOGIN_CHECK_WAIT_SECONDS), 0.0)
    descriptor = _take_free_slot(folder)
    while descriptor is None and time.monotonic() < give_up_at:
        time.sleep(_SLOT_POLL_SECONDS)
        descriptor = _take_free_slot(folder)
    if descriptor is None:
        raise SignInBusy
    try:
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)
