"""Signing in with the model backend, with the signed-in user kept between requests.

Every page asks for the session's user and their membership (organization, role, team): two
queries that cost more than a kept page itself. `KeptUserBackend` keeps them in the process's
memory under the data version (`lodestar.web.caching`): any committed write to the users,
memberships or organizations — a new password, a deactivated account, a changed role, a
removed membership — changes the version, and the next request reads them again. Sign-in
itself (`authenticate`) is the model backend's, in one of the machine's few password-check
slots (`lodestar.throttling.password_check_slot`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

from lodestar.throttling import password_check_slot
from lodestar.web.caching import data_version, may_keep

__all__ = ["KeptUserBackend"]

# A user nobody asked for in this long is read again even if nothing was written.
USER_TTL = 300
_MISSING = "missing"


class KeptUserBackend(ModelBackend):
    def authenticate(
        self,
        request: Any,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        with password_check_slot():
            return super().authenticate(request, username, password, **kwargs)

    def get_user(self, user_id: Any) -> Any:
        keep = may_keep()
        key = f"web:user:{user_id}:{data_version()}" if keep else ""
        user = cache.get(key) if keep else None
        if user is None:
            model = get_user_model()
            try:
                # The membership comes along (None when there is none), so the pages'
                # `member_of` needs no query of its own.
                user = model._default_manager.select_related("membership__organization").get(
                    pk=user_id
                )
            except model.DoesNotExist:
                user = _MISSING
            if keep:
                cache.set(key, user, USER_TTL)
        if isinstance(user, str) or not self.user_can_authenticate(user):  # _MISSING
            return None
        return user
