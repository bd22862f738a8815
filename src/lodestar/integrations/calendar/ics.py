"""A small RFC 5545 (iCalendar) writer: VCALENDAR with VEVENTs, written by hand.

Only what a subscribed feed needs: UTC date-times, TEXT escaping (§3.3.11), and content-line
folding at 75 octets (§3.1) without splitting a UTF-8 character. Plain Python, no Django.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "CalendarEvent",
    "escape_text",
    "fold_line",
    "format_utc",
    "render_calendar",
]

CRLF = "\r\n"
_MAX_OCTETS = 75


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One VEVENT. ``uid`` must stay the same for the same thing across fetches."""

    uid: str
    start: dt.datetime
    end: dt.datetime
    summary: str
    description: str = ""
    url: str = ""
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value: dt.datetime = getattr(self, name)
            if value.tzinfo is None:
                raise ValueError(f"{name} must be time-zone aware")
        if not self.end > self.start:
            # RFC 5545 §3.6.1: DTEND must be later than DTSTART.
            raise ValueError("an event must end after it starts")


def escape_text(value: str) -> str:
    """TEXT escaping: backslash, semicolon, comma and newlines (CR dropped)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )


def format_utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def fold_line(line: str) -> str:
    """Fold one content line into ≤ 75-octet physical lines joined by CRLF + space."""
    encoded = line.encode("utf-8")
    if len(encoded) <= _MAX_OCTETS:
        return line
    pieces: list[str] = []
    limit = _MAX_OCTETS  # the first line has all 75 octets; continuations lose one to the space
    current = bytearray()
    for char in line:
        octets = char.encode("utf-8")
        if len(current) + len(octets) > limit:
            pieces.append(current.decode("utf-8"))
            current = bytearray()
            limit = _MAX_OCTETS - 1
        current += octets
    pieces.append(current.decode("utf-8"))
    return (CRLF + " ").join(pieces)


def _event_lines(event: CalendarEvent, stamp: str) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(event.uid)}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{format_utc(event.start)}",
        f"DTEND:{format_utc(event.end)}",
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    if event.categories:
        lines.append("CATEGORIES:" + ",".join(escape_text(c) for c in event.categories))
    lines.append("END:VEVENT")
    return lines


def render_calendar(
    events: Iterable[CalendarEvent],
    *,
    name: str,
    now: dt.datetime,
    prodid: str = "-//Lodestar//Sales navigation//ZH",
    refresh: dt.timedelta = dt.timedelta(minutes=15),
) -> str:
    """The whole calendar as text with CRLF line endings, ready to serve as text/calendar."""
    minutes = max(int(refresh.total_seconds() // 60), 1)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{prodid}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        f"NAME:{escape_text(name)}",
        # Subscription clients poll at this pace (RFC 7986 and the Outlook/Apple extension).
        f"REFRESH-INTERVAL;VALUE=DURATION:PT{minutes}M",
        f"X-PUBLISHED-TTL:PT{minutes}M",
    ]
    stamp = format_utc(now)
    for event in events:
        lines.extend(_event_lines(event, stamp))
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + CRLF for line in lines)
