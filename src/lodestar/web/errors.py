"""The page for a form refused by the CSRF check, styled and translated like the other errors."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.template import loader


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """`CSRF_FAILURE_VIEW`: Django's own page is English and styled inline (blocked by the CSP).

    The reason is for developers and stays out of the page (Django logs it).
    """
    return HttpResponseForbidden(loader.render_to_string("403_csrf.html", request=request))
