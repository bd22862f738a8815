"""Under /api/, every error answer has the API's one JSON shape, whoever produced it.

Most errors leave the API through its exception handlers (`lodestar.rest.errors`). A few are
answered before or around the API's views, by Django or ninja, as HTML or plain text: a path
that resolves to no view (404), a method a path does not take (405), a request Django refuses
to read (400) and an unhandled server error (500). This middleware rewrites those bodies and keeps
the status and headers (a 405 keeps its `Allow`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase, JsonResponse

from lodestar.rest.errors import error_for_status

__all__ = ["ApiErrorShapeMiddleware"]

API_PREFIX = "/api/"
# Headers of the original answer that still describe the rewritten one.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class ApiErrorShapeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith(API_PREFIX)
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        error = error_for_status(response.status_code)
        shaped = JsonResponse(error.as_dict(), status=response.status_code)
        for header in _KEPT_HEADERS:
            if header in response:
                shaped[header] = response[header]
        return shaped
