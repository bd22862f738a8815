"""Who is calling: a personal API token (`Authorization: Bearer lsk_…`) or the browser session.

Tokens are tried first. Session auth checks CSRF only for a signed-in browser, so a script with a
wrong or revoked token gets a plain 401 rather than a CSRF complaint.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from ninja.security import APIKeyCookie, HttpBearer

from lodestar.integrations.selectors import recipient_language
from lodestar.org.models import User
from lodestar.org.services import api_token_authenticate

__all__ = ["SessionAuth", "TokenAuth", "default_auth"]


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = api_token_authenticate(raw=token.strip())
        if user is not None:
            # Code below the API (selectors, audit) reads request.user like a page view does.
            request.user = user
            _speak_their_language(request, user)
        return user


def _speak_their_language(request: HttpRequest, user: User) -> None:
    """A script that names no language (no Accept-Language) is answered in the language the
    token's user last read the site in."""
    if request.META.get("HTTP_ACCEPT_LANGUAGE"):
        return
    language = recipient_language(user_id=user.pk)
    translation.activate(language)
    request.LANGUAGE_CODE = language


class SessionAuth(APIKeyCookie):
    """Django's session login, for the pages and the docs page; unsafe methods need CSRF."""

    def __init__(self) -> None:
        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if key is None or not request.user.is_authenticated:
            return None
        return request.user


def default_auth() -> list[Any]:
    return [TokenAuth(), SessionAuth()]
