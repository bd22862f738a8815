"""What every page needs before it runs: a signed-in member, in their organization's time zone.

`member_view` wraps a view so that

- anonymous visitors go to the login page;
- a signed-in user without a membership gets 403 (platform operators use the admin);
- dates render in the organization's time zone for the whole request;
- a request that only reads (GET, HEAD) works out the user's permission view once
  (`actors_kept`), however many selectors ask for it;
- the application's `NotFound` becomes 404 and `PermissionDenied` 403, so views can call
  `access_*` selectors without catching.

The view itself takes an `AuthenticatedHttpRequest`: its `request.user` is the signed-in user.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import nullcontext
from typing import Concatenate, ParamSpec, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils import timezone

from lodestar.errors import NotFound, PermissionDenied
from lodestar.org.models import Membership
from lodestar.org.requests import AuthenticatedHttpRequest, is_signed_in
from lodestar.org.selectors import actors_kept, membership_of

__all__ = ["member_of", "member_view"]

P = ParamSpec("P")
# A page, a fragment or a streamed file.
R = TypeVar("R", bound=HttpResponseBase)


def member_of(request: AuthenticatedHttpRequest) -> Membership:
    """The membership `member_view` checked (with its organization loaded)."""
    user = request.user
    if "membership" not in user._state.fields_cache:
        # Membership and organization in one query; the user keeps it for every later
        # `membership_of` of this request (navigation, selectors).
        found = Membership.objects.select_related("organization").filter(user_id=user.pk).first()
        if found is not None:
            user.membership = found
    membership = membership_of(user=user)
    if membership is None:
        raise DjangoPermissionDenied
    return membership


def member_view(
    view: Callable[Concatenate[AuthenticatedHttpRequest, P], R],
) -> Callable[Concatenate[HttpRequest, P], R]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if not is_signed_in(request):  # `login_required` sent the visitor to sign in
            raise DjangoPermissionDenied
        membership = member_of(request)
        reads_only = request.method in ("GET", "HEAD")
        with (
            timezone.override(membership.organization.tz),
            actors_kept() if reads_only else nullcontext(),
        ):
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(str(exc.message)) from exc
            except PermissionDenied as exc:
                raise DjangoPermissionDenied(str(exc.message)) from exc

    return login_required(wrapper)
