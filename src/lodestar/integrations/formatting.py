"""How a notification reads on each channel: shared text helpers, no I/O."""

from __future__ import annotations

from django.conf import settings

from lodestar.integrations.transport import Message

__all__ = ["absolute_link", "markdown_text", "plain_text", "truncate_utf8"]


def absolute_link(link: str) -> str:
    """Robots and mail clients need absolute URLs; in-app links are stored site-relative."""
    if not link or "://" in link:
        return link
    base = str(getattr(settings, "LODESTAR_BASE_URL", "")).rstrip("/")
    return f"{base}/{link.lstrip('/')}" if base else link


def truncate_utf8(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` UTF-8 bytes without splitting a character."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[: max(limit - 3, 0)].decode("utf-8", errors="ignore") + "…"


def markdown_text(message: Message) -> str:
    parts = [f"**{message.title}**"]
    if message.body:
        parts.append(message.body)
    link = absolute_link(message.link)
    if link:
        parts.append(f"[{link}]({link})")
    return "\n\n".join(parts)


def plain_text(message: Message) -> str:
    parts = [message.title]
    if message.body:
        parts.append(message.body)
    link = absolute_link(message.link)
    if link:
        parts.append(link)
    return "\n\n".join(parts)
