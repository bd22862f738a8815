"""The request of a signed-in user, as the pages and the API operations receive it.

Django types `request.user` as "a user or an anonymous visitor". Behind `member_view` (pages),
`default_auth` (the API: the token auth sets `request.user` to the token's owner, the session
auth answers only for a signed-in user) and the admin site (its actions run for a signed-in
admin) it is always one of ours, so those views take an `AuthenticatedHttpRequest` and pass
`request.user` to the selectors and services as it is.
"""

from __future__ import annotations

from typing import TypeGuard

from django.http import HttpRequest

from lodestar.org.models import User

__all__ = ["AuthenticatedHttpRequest", "is_signed_in"]


class AuthenticatedHttpRequest(HttpRequest):
    user: User


def is_signed_in(request: HttpRequest) -> TypeGuard[AuthenticatedHttpRequest]:
    return request.user.is_authenticated
