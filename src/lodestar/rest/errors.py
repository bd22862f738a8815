"""One error body everywhere: `{"code", "message", "details": [{"field", "message"}]}`.

Application errors raised by services and selectors, ninja's request validation errors, and
authentication failures all leave the API in this shape.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from lodestar.errors import ApplicationError, FieldError, NotFound, ValidationFailed

__all__ = [
    "ERROR_RESPONSES",
    "WRITE_ERRORS",
    "ErrorDetailOut",
    "ErrorOut",
    "error_for_status",
    "install_error_handlers",
]


class ErrorDetailOut(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    code: str
    message: str
    details: list[ErrorDetailOut]


# Documented on every operation so clients see the error shape in the OpenAPI document: 400 an
# unreadable request, 401 no or a bad token, 403 not allowed, 404 not found (or not yours), 422
# a value out of its documented range or refused by a rule.
ERROR_RESPONSES: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
    # More than API_RATE_PER_MINUTE requests; the Retry-After header says when to go on.
    429: ErrorOut,
}
# Operations that change something may also answer 409 (clashes with the current state) and,
# taking a body, 413 (larger than DATA_UPLOAD_MAX_MEMORY_SIZE).
WRITE_ERRORS: dict[int, Any] = {**ERROR_RESPONSES, 409: ErrorOut, 413: ErrorOut}

# Where ninja says a value came from; the rest of `loc` is the field path the client sent.
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "throttled",
    500: "server_error",
}


def error_for_status(status: int, message: Any = None) -> ApplicationError:
    """The error body for a bare HTTP status (from Django or ninja rather than our code)."""
    if message is None:
        message = _status_message(status)
    error = ApplicationError(message)
    error.code = _HTTP_CODES.get(status, "error")
    error.status = status
    return error


def _status_message(status: int) -> Any:
    if status == 400:
        return _("The request could not be read; send JSON, or query parameters as documented.")
    if status == 404:
        return _("There is no such path in the API; the list is at /api/v1/docs.")
    if status == 405:
        return _("This path does not take this HTTP method; the Allow header lists those it takes.")
    if status == 413:
        return _("The request body is larger than %(size)d MB; send less data in one request.") % {
            "size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        }
    if status >= 500:
        return _("The server failed to answer this request; the error has been logged.")
    return ApplicationError.default_message


def _field_of(loc: list[Any] | tuple[Any, ...], body_params: set[str]) -> str:
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        # Body and query schemas are wrapped in the view's parameter name (`payload`, `filters`).
        if source in {"body", "query", "form"} and parts and parts[0] in body_params:
            parts.pop(0)
    return ".".join(str(part) for part in parts)


def _message_of(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return str(_("Unknown field."))
    if kind == "missing":
        return str(_("This field is required."))
    if kind == "json_invalid":
        return str(_("The body is not valid JSON."))
    # pydantic's own message for custom errors carries our translated text unchanged.
    return str(error.get("msg", _("Invalid value.")))


def details_from_ninja(exc: NinjaValidationError, *, wrappers: set[str]) -> list[FieldError]:
    return [
        FieldError(field=_field_of(error.get("loc", ()), wrappers), message=_message_of(error))
        for error in exc.errors
    ]


def install_error_handlers(api: NinjaAPI, *, wrappers: set[str]) -> None:
    """Register the handlers; `wrappers` are the view parameter names that wrap schemas."""

    def render(request: HttpRequest, error: ApplicationError) -> HttpResponse:
        return api.create_response(request, error.as_dict(), status=error.status)

    @api.exception_handler(ApplicationError)
    def application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
        return render(request, exc)

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return render(request, ValidationFailed(details=details_from_ninja(exc, wrappers=wrappers)))

    @api.exception_handler(AuthenticationError)
    def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        error = ApplicationError(_("Sign in, or send a valid token as “Authorization: Bearer …”."))
        error.code, error.status = "not_authenticated", 401
        return render(request, error)

    @api.exception_handler(Throttled)
    def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        error = ApplicationError(
            _("Too many requests; wait %(seconds)d seconds (Retry-After) and send again.")
            % {"seconds": math.ceil(exc.wait or 1)}
        )
        error.code, error.status = "throttled", 429
        return render(request, error)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        message: Any = exc.message
        if exc.status_code == 400:
            message = _("The request body could not be read; send JSON.")
        return render(request, error_for_status(exc.status_code, message))

    @api.exception_handler(RequestDataTooBig)
    def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return render(request, error_for_status(413))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return render(request, NotFound())
