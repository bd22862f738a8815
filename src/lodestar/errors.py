"""The application's one error hierarchy.

Services and selectors raise these; the API maps every one of them to the same body
`{"code": ..., "message": ..., "details": [{"field": ..., "message": ...}]}` and pages turn them
into form errors. `code` is stable and machine-readable; `message` is translated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

__all__ = [
    "ApplicationError",
    "Conflict",
    "FieldError",
    "NotFound",
    "PermissionDenied",
    "ValidationFailed",
]


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field; `field` is the input's name as the caller sent it."""

    field: str
    message: str | Promise  # translated lazily, rendered in the request's language

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": str(self.message)}


class ApplicationError(Exception):
    """Root of every error a service or selector raises on purpose."""

    code = "error"
    status = 400
    default_message: Any = _("The request could not be completed.")

    def __init__(self, message: Any = None, *, details: Iterable[FieldError] = ()) -> None:
        self.message = message if message is not None else self.default_message
        self.details = list(details)
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": str(self.message),
            "details": [detail.as_dict() for detail in self.details],
        }


class NotFound(ApplicationError):
    """The object does not exist *for this user*: outside their organization or scope."""

    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionDenied(ApplicationError):
    """The user may see the object but not do this to it."""

    code = "permission_denied"
    status = 403
    default_message = _("You do not have permission to do this.")


class ValidationFailed(ApplicationError):
    """The input is well-formed but not acceptable; `details` names the fields."""

    code = "invalid"
    status = 422
    default_message = _("Some fields are not valid.")

    @classmethod
    def on(cls, field: str, message: Any) -> ValidationFailed:
        """The common case: one field, one message."""
        return cls(details=[FieldError(field=field, message=message)])


class Conflict(ApplicationError):
    """The request clashes with the current state, e.g. deleting an account that has deals."""

    code = "conflict"
    status = 409
    default_message = _("This conflicts with the current state.")
