"""Display filters of the record pages."""

from __future__ import annotations

import re

from django import template

register = template.Library()

# "转 808", "ext. 808", "x808": an extension after the number.
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x)\s*(\d+)\s*$", re.IGNORECASE)


@register.filter
def tel_href(phone: str | None) -> str:
    """A phone number as a `tel:` link's target (RFC 3966): digits, a leading +, an extension.

    "138-0013-8000" → "13800138000"; "+86 21 5555 1234 转 808" → "+862155551234;ext=808".
    """
    text = (phone or "").strip()
    extension = ""
    found = _EXTENSION.search(text)
    if found:
        extension = found.group(1)
        text = text[: found.start()]
    digits = "".join(ch for ch in text if ch.isdigit())
    number = ("+" if text.startswith("+") else "") + digits
    return f"{number};ext={extension}" if extension and digits else number
