"""Guarding the password checks: the sign-in lockout and the rate limit in front of it.

Every password check goes through `django.contrib.auth.authenticate` — the page login, the admin
login, and anything added later — and django-axes' backend stands first in
`AUTHENTICATION_BACKENDS`, so a locked-out client is refused before any password is hashed.

- **Lockout** (`SignInAttempts`, axes' database handler): an account is locked after
  `AXES_FAILURE_LIMIT` failed sign-ins from anywhere (guessing one person's password from many
  addresses); an address after `LOGIN_ADDRESS_FAILURE_LIMIT` failures for any accounts
  (trying one password on many accounts). The address limit is the higher one because an office
  often reaches us through one public address. A lock ends by itself `AXES_COOLOFF_TIME` after
  the last failure that counted; attempts while locked are refused without being counted, so
  they neither extend it nor cost a write. A successful sign-in forgets that account's
  failures (only its own: another account's sign-in from the same address must not wipe the
  failures counted against a guessed one). When a lock begins it is written to the log and,
  when the account exists, to its organization's audit trail.
- **Rate limit** (`SignInThrottleMiddleware`): each address may post to the sign-in and
  password-reset forms only so often (`LOGIN_RATE_PER_MINUTE`, `PASSWORD_RESET_RATE_PER_HOUR`),
  counted in a cache before the form is read. Hashing a password is deliberately slow; without
  this, a few clients sending wrong passwords as fast as they can keep every web process busy
  hashing until the lock starts, and again after each lock ends.
- **Concurrent checks**: at most `LOGIN_CONCURRENT_CHECKS` password checks hash at once on a
  machine (`lodestar.throttling.password_check_slot`, taken by `KeptUserBackend`); a sign-in
  finding them all taken is refused at once (429, uncounted) rather than holding a process.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from lodestar.org.models import User
from lodestar.org.services import audit_record_about_user
from lodestar.throttling import Rate, SignInBusy, client_ip, hit

__all__ = [
    "SignInAttempts",
    "SignInThrottleMiddleware",
    "lockout_response",
    "sign_in_failures_forget",
    "throttled_response",
]

logger = logging.getLogger(__name__)


def _recent_failures(request: Any, username: str | None) -> tuple[Q, Q, Any]:
    """Who the request's failures are counted against — its account and its address — and the
    failures of either that still count (the newer ones within the cool-off)."""
    cool_off = get_cool_off(request) or dt.timedelta(0)
    account = Q(username=username) if username else Q(pk__in=[])
    address = Q(ip_address=request.axes_ip_address)
    recent = AccessAttempt.objects.filter(
        account | address, attempt_time__gte=request.axes_attempt_time - cool_off
    )
    return account, address, recent


# django-axes ships no type information: its handler is `Any` to mypy.
class SignInAttempts(AxesDatabaseHandler):  # type: ignore[misc]
    """Axes' database handler with a limit per account and a higher one per address."""

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        # Axes compares this one number with AXES_FAILURE_LIMIT: the account's failures, or the
        # account limit itself once the address has reached its own (higher) limit.
        account, address, recent = _recent_failures(
            request, get_client_username(request, credentials)
        )
        counts = recent.aggregate(
            account=Sum("failures_since_start", filter=account),
            address=Sum("failures_since_start", filter=address),
        )
        if (counts["address"] or 0) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            account_limit: int = get_failure_limit(request, credentials)
            return max(counts["account"] or 0, account_limit)
        return int(counts["account"] or 0)

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        forgotten: int = self.reset_attempts(username=username)
        return forgotten

    def user_login_failed(
        self,
        sender: Any,
        credentials: dict[str, Any],
        request: Any = None,
        **kwargs: Any,
    ) -> None:
        # A request refused because it was already locked arrives flagged by axes' backend; a
        # lock that begins now is flagged by the handler.
        already_locked = request is not None and getattr(request, "axes_locked_out", False)
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is not None and request.axes_locked_out and not already_locked:
            _record_lockout(request, get_client_username(request, credentials))


def _lock_ends(request: Any, username: str | None) -> dt.datetime:
    """When the lock ends at the latest: the cool-off after the newest counted failure."""
    cool_off = get_cool_off(request) or dt.timedelta(0)
    newest = _recent_failures(request, username)[2].aggregate(newest=Max("attempt_time"))
    last_counted: dt.datetime = newest["newest"] or request.axes_attempt_time
    return last_counted + cool_off


def _record_lockout(request: Any, username: str | None) -> None:
    ip_address = request.axes_ip_address
    ends = _lock_ends(request, username)
    logger.warning(
        "Sign-in locked after repeated failures: account %r, address %s, path %s, until %s.",
        username,
        ip_address,
        request.path,
        ends.isoformat(),
    )
    if not username:
        return
    user = User.objects.select_related("membership").filter(username=username).first()
    if user is None:
        return
    audit_record_about_user(
        user=user,
        actor=None,
        action="user.sign_in_locked",
        object_type="user",
        object_id=user.pk,
        data={"ip_address": ip_address, "path": request.path, "until": ends.isoformat()},
    )


def sign_in_failures_forget(*, username: str) -> int:
    """Forget the failed sign-ins counted against `username` (its lock, if any, ends now)."""
    forgotten: int = AxesProxyHandler.reset_attempts(username=username)
    return forgotten


def _refusal(
    request: HttpRequest, *, template: str, ends: dt.datetime, busy: bool = False
) -> HttpResponse:
    wait = max(math.ceil((ends - timezone.now()).total_seconds()), 1)
    context = {"ends": ends, "wait_minutes": math.ceil(wait / 60), "busy": busy}
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(wait)
    return response


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page a locked-out client sees (axes' AXES_LOCKOUT_CALLABLE): 429, and when to retry."""
    ends = _lock_ends(request, get_client_username(request, credentials))
    return _refusal(request, template="web/locked_out.html", ends=ends)


def throttled_response(request: HttpRequest, wait: float, *, busy: bool = False) -> HttpResponse:
    """The page a client sees when it posts a form too often (or, `busy`, when every password
    check of the machine is taken): 429, and when to retry."""
    ends = timezone.now() + dt.timedelta(seconds=wait)
    return _refusal(request, template="web/throttled.html", ends=ends, busy=busy)


def _limit_of(view_name: str) -> tuple[str, Rate] | None:
    """The counter and rate of posts to `view_name`; the two sign-in forms share theirs."""
    if view_name in {"web:login", "admin:login"}:
        return "sign-in", Rate(settings.LOGIN_RATE_PER_MINUTE, 60)
    if view_name == "web:password-reset":
        return "password-reset", Rate(settings.PASSWORD_RESET_RATE_PER_HOUR, 3600)
    return None


class SignInThrottleMiddleware:
    """Refuse an address's posts to the sign-in and password-reset forms beyond their rate."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if request.method != "POST" or request.resolver_match is None:
            return None
        view_name = request.resolver_match.view_name
        limit = _limit_of(view_name)
        if limit is None:
            return None
        address = client_ip(request)
        wait = hit(scope=f"form:{limit[0]}", caller=address, rate=limit[1])
        return None if wait is None else throttled_response(request, wait)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, SignInBusy):
            return None
        logger.info("Every password-check slot busy; a sign-in at %s refused.", request.path)
        return throttled_response(request, SignInBusy.retry_after, busy=True)
