"""Reading request bodies: JSON, with values nested absurdly deep cut off instead of failing.

Python's JSON reader recurses once per nesting level, so a body with one value nested a thousand
deep cannot be read at all — and a batch of a thousand good events would be refused for the
one bad item in it. When that happens the body is read again with every value nested deeper
than `MAX_BODY_DEPTH` replaced by `null`: far deeper than any limit an input schema allows
(an event payload may nest 20 levels), so the item holding it is still refused on its own, with
its own reason, and the rest of the batch is judged as sent.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser

__all__ = ["MAX_BODY_DEPTH", "JsonParser", "cut_deep_values"]

MAX_BODY_DEPTH = 100

# A JSON string (skipped whole, brackets inside it are text) or one bracket.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


class JsonParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        try:
            return json.loads(request.body)
        except RecursionError:
            return json.loads(cut_deep_values(request.body.decode("utf-8"), MAX_BODY_DEPTH))


def cut_deep_values(text: str, limit: int) -> str:
    """`text` with every object or array that starts below nesting level `limit` replaced by
    `null`. Unbalanced text is returned in a form the JSON reader still refuses."""
    parts, depth, copied, cut_from = [], 0, 0, -1
    for token in _TOKEN.finditer(text):
        bracket = token.group()
        if bracket[0] == '"':
            continue
        if bracket in "[{":
            depth += 1
            if depth == limit + 1:
                cut_from = token.start()
            continue
        if depth == limit + 1 and cut_from >= 0:
            parts += [text[copied:cut_from], "null"]
            copied, cut_from = token.end(), -1
        depth -= 1
    parts.append(text[copied:])
    return "".join(parts)
