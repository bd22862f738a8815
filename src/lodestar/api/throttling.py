"""How often one caller may call the API: `API_RATE_PER_MINUTE` requests a minute.

The caller is the user behind the request — a personal token's owner or a signed-in session's
user — so all of a person's tokens and their browser share one allowance (making more tokens
does not raise it); the few operations open without signing in (the docs) count per address.
A request is one count whatever it carries: a batch of events is one request. Beyond the rate the
API answers 429 with `Retry-After` (seconds) in its usual error body.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from lodestar.throttling import Rate, client_ip, hit

__all__ = ["CallerThrottle"]


class CallerThrottle(BaseThrottle):
    def __init__(self) -> None:
        # ninja asks `wait()` right after `allow_request` on the same object, shared by every
        # request: the answer is kept per thread.
        self._last = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        user_id = getattr(getattr(request, "auth", None), "pk", None)
        caller = f"user:{user_id}" if user_id is not None else f"ip:{client_ip(request)}"
        self._last.wait = hit(
            scope="api", caller=caller, rate=Rate(settings.API_RATE_PER_MINUTE, 60)
        )
        return self._last.wait is None

    def wait(self) -> float | None:
        return getattr(self._last, "wait", None)
