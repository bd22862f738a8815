"""Remember the language each signed-in user reads the site in, for the messages sent to them.

E-mails and robot messages are worded in the recipient's language when the worker sends them,
long after any request of theirs (`integrations.delivery`). The language a user last chose (or
their browser asked for) is kept per user; the session notes which one was kept, so a request
in the same language as the last costs no query.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from lodestar.integrations.services import language_remember

__all__ = ["RememberLanguageMiddleware"]

_SESSION_KEY = "lodestar_language"


class RememberLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        language = getattr(request, "LANGUAGE_CODE", "")
        session = getattr(request, "session", None)
        # Only sessions of signed-in people (the pages); API calls speak per request.
        if (
            user is None
            or not user.is_authenticated
            or not language
            or session is None
            or session.session_key is None
        ):
            return response
        if session.get(_SESSION_KEY) != language:
            language_remember(user=user, language=language)
            session[_SESSION_KEY] = language
        return response
