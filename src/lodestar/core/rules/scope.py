"""What a playbook declares that criteria may refer to: fields, kinds, event types, roles."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Any

from lodestar.core.events.catalogue import CATALOGUE
from lodestar.core.playbook.errors import did_you_mean
from lodestar.core.playbook.model import Choice, Playbook
from lodestar.core.rules.context import DealContext
from lodestar.core.rules.results import Bilingual

__all__ = [
    "BUILTIN_FIELDS",
    "CONTENT_TYPES",
    "FieldRef",
    "RuleScope",
    "did_you_mean",
    "event_type_names",
    "render_value",
]


#: Short names sales ops write in ``types:`` → sniffed MIME content types.
CONTENT_TYPES: Mapping[str, str] = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "heic": "image/heic",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "bmp": "image/bmp",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "txt": "text/plain",
    "csv": "text/csv",
    "zip": "application/zip",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "wav": "audio/x-wav",
    "mp4": "video/mp4",
}


@dataclass(frozen=True, slots=True)
class FieldRef:
    """A field a criterion can compare: its type, display name, choices and a fast getter."""

    path: str
    type: str
    name: Bilingual
    getter: Callable[[DealContext], Any]
    custom_key: str | None = None
    choices: Mapping[str, Bilingual] | None = None


def _builtin(path: str, type_: str, zh: str, en: str) -> FieldRef:
    return FieldRef(path, type_, Bilingual(zh, en), attrgetter(path))


BUILTIN_FIELDS: Mapping[str, FieldRef] = {
    ref.path: ref
    for ref in (
        _builtin("deal.stage", "text", "阶段", "Stage"),
        _builtin("deal.amount", "money", "金额", "Amount"),
        _builtin("deal.currency", "text", "币种", "Currency"),
        _builtin("deal.status", "text", "状态", "Status"),
        _builtin("deal.expected_close_date", "date", "预计成交日期", "Expected close date"),
        _builtin("account.industry", "text", "客户行业", "Account industry"),
        _builtin("account.tier", "text", "客户等级", "Account tier"),
        _builtin("account.repurchase_rate", "number", "客户复购率", "Repurchase rate"),
    )
}


def event_type_names(playbook: Playbook) -> dict[str, Bilingual]:
    """Every event type a playbook may name: the built-in catalogue plus its own."""
    names = {key: Bilingual(spec.name_zh, spec.name_en) for key, spec in CATALOGUE.types.items()}
    for kind in playbook.event_types:
        names.setdefault(kind.key, Bilingual(kind.name.zh, kind.name.en))
    return names


def _choice_map(choices: Iterable[Choice]) -> dict[str, Bilingual]:
    return {choice.key: Bilingual(choice.name.zh, choice.name.en) for choice in choices}


class RuleScope:
    """Names a playbook's rules may use, resolved once per compile."""

    def __init__(self, playbook: Playbook) -> None:
        self.playbook = playbook
        self.contact_roles = _choice_map(playbook.contact_roles)
        self.attachment_kinds = {
            kind.key: Bilingual(kind.name.zh, kind.name.en) for kind in playbook.attachment_kinds
        }
        self.event_types = event_type_names(playbook)
        self.stage_names = {
            stage.key: Bilingual(stage.name.zh, stage.name.en) for stage in playbook.stages
        }
        self.fields: dict[str, FieldRef] = dict(BUILTIN_FIELDS)
        for field in playbook.fields:
            choices: dict[str, Bilingual] | None = None
            if field.type in ("choice", "multi_choice"):
                choices = _choice_map(field.choices)
            elif field.type == "contact_role":
                choices = _choice_map(field.choices) if field.choices else self.contact_roles
            self.fields.setdefault(
                field.key,
                FieldRef(
                    path=field.key,
                    type=field.type,
                    name=Bilingual(field.name.zh, field.name.en),
                    getter=_custom_getter(field.key),
                    custom_key=field.key,
                    choices=choices,
                ),
            )

    def field(self, name: str) -> FieldRef | None:
        """Resolve ``budget`` / ``fields.budget`` / ``deal.amount``."""
        if name.startswith("fields."):
            name = name.removeprefix("fields.")
            ref = self.fields.get(name)
            return ref if ref is not None and ref.custom_key is not None else None
        return self.fields.get(name)

    def field_names(self) -> list[str]:
        return list(self.fields)


def _custom_getter(key: str) -> Callable[[DealContext], Any]:
    def get(ctx: DealContext) -> Any:
        return ctx.deal.fields.get(key)

    return get


def render_value(value: Any, ref_type: str, choices: Mapping[str, Bilingual] | None) -> Bilingual:
    """A field value as a person reads it, in both languages."""
    if isinstance(value, bool):
        return Bilingual("是", "yes") if value else Bilingual("否", "no")
    if choices is not None:
        if isinstance(value, str):
            name = choices.get(value)
            return name if name is not None else Bilingual(value, value)
        if isinstance(value, tuple | frozenset | list | set):
            names = [choices.get(v, Bilingual(str(v), str(v))) for v in sorted(value, key=str)]
            return Bilingual("、".join(n.zh for n in names), ", ".join(n.en for n in names))
    if ref_type == "money" and isinstance(value, int | float | Decimal):
        text = f"{Decimal(str(value)):,}"
        return Bilingual(text, text)
    if isinstance(value, float):
        text = f"{value:g}"
        return Bilingual(text, text)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return Bilingual(text, text)
