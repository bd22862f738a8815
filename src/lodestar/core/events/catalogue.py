"""The built-in event catalogue, extensible per playbook.

Each type says whether the customer takes part (silence rules count only those events), which
payload keys it carries, and whether it is internal: written only by Lodestar itself as the
consequence of one of its own actions (a stage move), so no page or API client may post it.
Payload checks are deliberately light: required keys present with the right JSON type; anything
else in the payload is kept as sent, because outside systems add fields.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from lodestar.core.errors import LodestarError
from lodestar.core.limits import SUPPORTED_FROM, SUPPORTED_UNTIL, datetime_is_supported

__all__ = [
    "CATALOGUE",
    "EventCatalogue",
    "EventTypeSpec",
    "PayloadField",
    "PayloadProblem",
    "UnknownEventType",
]

PayloadType = Literal["text", "number", "boolean", "id_list", "text_list", "datetime", "object"]
EVENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


class UnknownEventType(LodestarError):
    """An event names a type that neither the catalogue nor the playbook declares."""


@dataclass(frozen=True)
class PayloadField:
    name: str
    type: PayloadType
    required: bool = False


@dataclass(frozen=True)
class PayloadProblem:
    """One problem with an event's payload; `path` is relative to the event (`payload.x`)."""

    path: str
    message: str


@dataclass(frozen=True)
class EventTypeSpec:
    key: str
    name_zh: str
    name_en: str
    with_customer: bool
    fields: tuple[PayloadField, ...] = ()
    internal: bool = False

    def check_payload(self, payload: Mapping[str, Any]) -> list[PayloadProblem]:
        problems = []
        for spec in self.fields:
            if spec.name not in payload or payload[spec.name] in (None, ""):
                if spec.required:
                    problems.append(
                        PayloadProblem(
                            f"payload.{spec.name}",
                            f"'{self.key}' events need '{spec.name}' ({spec.type})",
                        )
                    )
                continue
            value = payload[spec.name]
            if not _has_type(value, spec.type):
                got = type(value).__name__
                problems.append(
                    PayloadProblem(
                        f"payload.{spec.name}", f"expected {_TYPE_WORDS[spec.type]}, got {got}"
                    )
                )
            elif spec.type == "datetime" and not _is_supported_time(value):
                problems.append(
                    PayloadProblem(
                        f"payload.{spec.name}",
                        f"'{value[:40]}' is not an ISO-8601 date-time from "
                        f"{SUPPORTED_FROM:%Y-%m-%d} to {SUPPORTED_UNTIL:%Y-%m-%d} (UTC), "
                        "e.g. 2026-03-31T14:00:00+08:00",
                    )
                )
        return problems


_TYPE_WORDS: dict[str, str] = {
    "text": "text",
    "number": "a number",
    "boolean": "true or false",
    "id_list": "a list of integer ids",
    "text_list": "a list of texts",
    "datetime": "an ISO-8601 date-time text",
    "object": "an object",
}


def _has_type(value: Any, kind: PayloadType) -> bool:
    if kind == "text" or kind == "datetime":
        return isinstance(value, str)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "id_list":
        return isinstance(value, list) and all(
            isinstance(item, int) and not isinstance(item, bool) for item in value
        )
    if kind == "text_list":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, dict)


def _is_supported_time(text: str) -> bool:
    """Whether `text` reads as a date-time in the supported range (a time without an offset is
    taken as UTC): the engine reads these payload times, e.g. a follow-up's start."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return datetime_is_supported(moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))


@dataclass(frozen=True)
class EventCatalogue:
    types: Mapping[str, EventTypeSpec] = field(default_factory=dict)

    def get(self, key: str) -> EventTypeSpec:
        try:
            return self.types[key]
        except KeyError:
            known = ", ".join(sorted(self.types))
            raise UnknownEventType(
                f"unknown event type '{key}'; known types: {known}; "
                "a playbook can declare more under 'event_types'"
            ) from None

    def __contains__(self, key: object) -> bool:
        return key in self.types

    def extended(self, extra: Iterable[EventTypeSpec]) -> EventCatalogue:
        """This catalogue plus a playbook's own types (a playbook may not redefine built-ins)."""
        merged = dict(self.types)
        for spec in extra:
            if spec.key in merged:
                raise LodestarError(f"event type '{spec.key}' is built in and cannot be redefined")
            if not EVENT_TYPE_PATTERN.match(spec.key):
                raise LodestarError(
                    f"event type '{spec.key}' must be lower-case words joined by '.' or '_'"
                )
            merged[spec.key] = spec
        return EventCatalogue(merged)


def _spec(
    key: str,
    zh: str,
    en: str,
    *,
    customer: bool,
    fields: tuple[PayloadField, ...] = (),
    internal: bool = False,
) -> EventTypeSpec:
    return EventTypeSpec(key, zh, en, customer, fields, internal)


_TEXT = PayloadField("text", "text")
_ATTENDEES = PayloadField("attendee_contact_ids", "id_list")

CATALOGUE = EventCatalogue(
    {
        spec.key: spec
        for spec in (
            _spec("demo.booked", "客户预约演示", "Demo booked", customer=True,
                  fields=(PayloadField("scheduled_for", "datetime"),)),
            _spec("demo.held", "演示已完成", "Demo held", customer=True, fields=(_ATTENDEES,)),
            _spec("meeting.held", "会议", "Meeting held", customer=True,
                  fields=(_ATTENDEES, PayloadField("topic", "text"))),
            _spec("call", "电话沟通", "Call", customer=True,
                  fields=(PayloadField("minutes", "number"), PayloadField("summary", "text"))),
            _spec("email.sent", "发出邮件", "E-mail sent", customer=True,
                  fields=(PayloadField("subject", "text"),)),
            _spec("email.received", "收到客户邮件", "E-mail received", customer=True,
                  fields=(PayloadField("subject", "text"),)),
            _spec("chat.message", "聊天消息", "Chat message", customer=True,
                  fields=(PayloadField("text", "text", required=True),
                          PayloadField("platform", "text"),
                          PayloadField("from_customer", "boolean"))),
            _spec("minutes.uploaded", "上传会议纪要", "Minutes uploaded", customer=False,
                  fields=(PayloadField("attachment_id", "number"),
                          PayloadField("meeting_event_id", "number"))),
            _spec("quote.sent", "发送报价", "Quote sent", customer=True,
                  fields=(PayloadField("amount", "text"), PayloadField("valid_until", "text"))),
            _spec("proposal.sent", "发送方案", "Proposal sent", customer=True),
            _spec("document.updated", "资料已更新", "Document updated", customer=True,
                  fields=(_TEXT, PayloadField("products", "text_list"))),
            _spec("customer.confirmed", "客户确认", "Customer confirmed", customer=True,
                  fields=(_TEXT,)),
            _spec("erp.order", "ERP 订单", "ERP order", customer=True,
                  fields=(PayloadField("order_no", "text"), PayloadField("amount", "text"))),
            _spec("approval.sealed", "合同用印", "Contract sealed", customer=False,
                  fields=(PayloadField("approval_no", "text"),)),
            _spec("legal.review.started", "法务审核开始", "Legal review started", customer=False),
            _spec("legal.review.finished", "法务审核完成", "Legal review finished", customer=False),
            _spec("doc.downloaded", "客户下载资料", "Document downloaded", customer=True,
                  fields=(PayloadField("document", "text"),)),
            _spec("poc.feedback", "POC 测试反馈", "POC feedback", customer=True),
            _spec("stage.changed", "阶段变更", "Stage changed", customer=False,
                  fields=(PayloadField("from", "text", required=True),
                          PayloadField("to", "text", required=True),
                          PayloadField("direction", "text")),
                  internal=True),
            _spec("task.completed", "任务完成", "Task completed", customer=False,
                  fields=(PayloadField("task_id", "number"),)),
            _spec("followup.scheduled", "约定下次跟进", "Follow-up scheduled", customer=False,
                  fields=(PayloadField("starts_at", "datetime", required=True),
                          PayloadField("title", "text"))),
            _spec("knowledge.linked", "关联知识条目", "Knowledge entry linked", customer=False,
                  fields=(PayloadField("knowledge_keys", "text_list", required=True),)),
        )
    }
)  # fmt: skip
