"""Messages stored as a key and its parameters, worded in the reader's language when read.

A notification or an alert is stored once for every reader, so it cannot be stored as a
sentence in one language. It is stored as a message key of `MESSAGES` (a title and a body,
each an English msgid with named placeholders, translated through Django i18n) and a JSON
object of parameters; `render` words it in the active language: the page's, the API
request's, or the recipient's when the worker sends it.

A parameter is data or a value worded for the reader:

- a string or a number is data (a deal's name, a count) and is shown as it is;
- ``{"zh": "…", "en": "…"}`` (`text`) is a text given in both languages: a stage's or a task's
  name from the playbook, a sentence the insights engine worded in both;
- ``{"at": "<ISO 8601 with offset>"}`` (`moment`) is a moment, shown at its offset (the
  organization's zone when written);
- ``{"hours": 36.0}`` (`span`) is a duration, shown as people say it ("36 小时", "4 days");
- ``{"choice": "<name>", "value": "…"}`` (`choice`) is the value of one of `CHOICES`, shown
  by its translated label.

The key ``legacy`` shows the text stored with the row (rows written before message keys, and
producers that give a title of their own); an unknown key or parameters that no longer fit the
sentence fall back to that text too, so nothing stored is ever unreadable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext, override
from django.utils.translation import gettext_lazy as _

from lodestar.core.scoring import Message, format_span
from lodestar.i18n import localized

__all__ = [
    "CHOICES",
    "LEGACY",
    "MESSAGES",
    "Msg",
    "Rendered",
    "choice",
    "moment",
    "render",
    "render_both",
    "render_in",
    "span",
    "text",
]

LEGACY = "legacy"

Params = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Template:
    """The wording of one message key: a title and an optional body (English msgids)."""

    title: str | Promise
    body: str | Promise = ""


# Every message a notification or an alert can carry. Keys are stable: they are stored.
MESSAGES: dict[str, Template] = {
    # A sentence given in both languages (an alert the insights engine worded).
    "text": Template("%(text)s"),
    "alert.raised": Template("%(text)s"),
    "task.created": Template(_("New task: %(task)s"), _("%(deal)s · due %(due)s")),
    "task.due_soon": Template(_("Due soon: %(task)s"), _("%(deal)s · due %(due)s")),
    "task.still_open": Template(_("Still not done: %(task)s"), _("%(deal)s · overdue by %(late)s")),
    "task.overdue": Template(_("Task overdue: %(task)s (%(deal)s, due %(due)s)")),
    "task.escalated": Template(_("%(assignee)s's task is overdue: %(task)s (%(deal)s)")),
    "daily_report.due_soon": Template(
        _("Daily report due at %(due)s"),
        _("Your daily report of %(day)s is not in yet; the day's logged work is filled in."),
    ),
    "webhook.disabled": Template(
        _("Webhook switched off: %(url)s"),
        _(
            "%(count)s deliveries in a row failed (the last: %(error)s). Fix the receiver, "
            "send a test, then switch the webhook back on."
        ),
    ),
    "handbook.pushed": Template(
        _("Please read “%(title)s”"),
        _("Your last %(count)d customer communications scored %(scores)s, under %(threshold)s."),
    ),
    "report.weekly": Template(
        _("Weekly report of %(team)s, %(week)s"),
        _(
            "Team health %(health)s (last week %(health_before)s) · %(below)s below "
            "%(threshold)s · %(stuck)s stuck and %(silent)s silent deals · weighted pipeline "
            "%(pipeline)s (last week %(pipeline_before)s)"
        ),
    ),
}

# Values of choices a parameter may name, with their translated labels.
CHOICES: dict[str, Mapping[str, str | Promise]] = {
    "exemption_reason": {
        "customer_unreachable": _("Customer temporarily unreachable"),
        "customer_on_leave": _("Customer on leave / holiday"),
        "other": _("Other"),
    },
}


@dataclass(frozen=True, slots=True)
class Msg:
    """A message to store: its key and its parameters (JSON values, see the module's doc)."""

    key: str
    params: Params = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rendered:
    title: str
    body: str = ""


def text(zh: str, en: str = "") -> dict[str, str]:
    """A parameter given in both languages (the Chinese stands in for a missing English)."""
    return {"zh": zh, "en": en or zh}


def moment(at: dt.datetime, tz: dt.tzinfo) -> dict[str, str]:
    """A moment, to be shown in the zone `tz` (the organization's)."""
    return {"at": at.astimezone(tz).isoformat()}


def span(length: dt.timedelta) -> dict[str, float]:
    """A duration, to be worded in the reader's language."""
    return {"hours": round(length / dt.timedelta(hours=1), 4)}


def choice(name: str, value: str) -> dict[str, str]:
    """The value of the choice list `name` of `CHOICES`, shown by its label."""
    return {"choice": name, "value": value}


def _value(value: Any) -> Any:
    """One parameter worded for the active language."""
    if isinstance(value, dict):
        if "zh" in value:
            return localized(Message(str(value["zh"]), str(value.get("en") or "")))
        if "at" in value:
            return f"{dt.datetime.fromisoformat(str(value['at'])):%Y-%m-%d %H:%M}"
        if "hours" in value:
            return localized(format_span(dt.timedelta(hours=float(value["hours"]))))
        if "choice" in value:
            label = CHOICES[str(value["choice"])].get(str(value["value"]))
            return str(label) if label is not None else str(value["value"])
        raise ValueError("unknown parameter")
    if isinstance(value, list):
        return gettext(", ").join(str(_value(item)) for item in value)
    return value


_Fallback = Callable[[], Rendered]


def render(key: str, params: Mapping[str, Any], *, stored: Rendered | _Fallback) -> Rendered:
    """The message worded in the active language; the `stored` text for `legacy`, an unknown
    key or parameters that do not fit the sentence."""
    template = MESSAGES.get(key)
    if template is None:
        return stored() if callable(stored) else stored
    try:
        values = {name: _value(value) for name, value in params.items()}
        title = str(template.title) % values
        body = str(template.body) % values if template.body else ""
    except (KeyError, TypeError, ValueError):
        return stored() if callable(stored) else stored
    return Rendered(title, body)


def render_in(
    language: str, key: str, params: Mapping[str, Any], *, stored: Rendered | _Fallback
) -> Rendered:
    """`render` in `language` (a recipient's, whatever the current request speaks)."""
    with override(language):
        return render(key, params, stored=stored)


def render_both(key: str, params: Mapping[str, Any], *, stored: Rendered) -> Message:
    """The message's title in Chinese and in English (kept with the row for search and admin)."""
    return Message(
        render_in("zh-hans", key, params, stored=stored).title,
        render_in("en", key, params, stored=stored).title,
    )
