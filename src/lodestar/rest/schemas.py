"""Shared schema bases and the small reference objects nested in outputs."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from ninja import Schema
from pydantic import ConfigDict, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

__all__ = ["AccountRef", "StrictIn", "StrictQuery", "TeamRef", "UserRef"]


class StrictIn(Schema):
    """Base of every input body: unknown fields are refused, never silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StrictQuery(Schema):
    """Base of query-string filters: a misspelt filter is an error, not an unfiltered list.

    ninja hands a query schema only the parameters it declares, so the unknown ones are put back
    from the request here for `extra="forbid"` to report. A parameter given twice is refused
    too: every filter takes one value, and which of two would win is no contract. It must be the
    view's only query parameter.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _bring_back_unknown_parameters(cls, data: Any, info: ValidationInfo) -> Any:
        request = (info.context or {}).get("request")
        if request is None or not isinstance(data, dict):
            return data
        repeated = [key for key, values in request.GET.lists() if len(values) > 1]
        if repeated:
            raise PydanticCustomError(
                "repeated_parameter",
                str(_("Give each query parameter once; repeated: %(names)s."))
                % {"names": ", ".join(repeated)},
            )
        known = set(cls.model_fields) | {f.alias for f in cls.model_fields.values() if f.alias}
        unknown = {key: request.GET.get(key) for key in request.GET if key not in known}
        return {**data, **unknown}


class UserRef(Schema):
    id: int
    username: str
    display_name: str


class TeamRef(Schema):
    id: int
    name: str


class AccountRef(Schema):
    id: int
    name: str
