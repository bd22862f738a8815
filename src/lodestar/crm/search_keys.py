"""Search keys: a name as Chinese text, pinyin initials and full pinyin, in one string.

A rep types "华东机械", "hdjx" or "huadong jixie" for 华东机械有限公司. Each searchable row keeps
`search_key` = `<name>|<initials>|<full pinyin>` (lower case, without spaces or punctuation; a
contact adds the digits of their phone number),
so a search is one `LIKE '%…%'` on a column instead of pinyin computed for every row at every
keystroke; the query goes through `query_key` the same way.

Duplicate accounts are judged on the *core* of a company name, its legal form taken off
(有限公司, 股份有限公司, Co., Ltd. …): `looks_like` says why a typed name may be an existing one.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from pypinyin import Style, lazy_pinyin

__all__ = [
    "KEY_SEPARATOR",
    "NameForms",
    "Resemblance",
    "bigrams",
    "contact_search_key",
    "core_name",
    "full_pinyin",
    "has_chinese",
    "initials",
    "is_latin_query",
    "looks_like",
    "name_forms",
    "normalize",
    "query_key",
    "search_key",
]

KEY_SEPARATOR = "|"

# Legal forms taken off the end of a company name before names are compared, longest first
# (compared after `normalize`: lower case, no spaces or punctuation).
_LEGAL_FORMS = (
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "集团公司",
    "分公司",
    "集团",
    "公司",
    "corporation",
    "company",
    "limited",
    "coltd",
    "gmbh",
    "corp",
    "ltd",
    "llc",
    "inc",
)
# Anything that is not a letter or a digit of any script: spaces, punctuation, symbols.
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_CHINESE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ASCII_WORD = re.compile(r"[a-z0-9]+")


def normalize(text: str) -> str:
    """Lower case, full-width folded to half-width (NFKC), without spaces or punctuation."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def has_chinese(text: str) -> bool:
    return _CHINESE.search(text) is not None


# A run of Chinese characters: pypinyin reads each run on its own (phrases never cross other
# characters), so converting the runs one by one gives the same text as converting the whole.
_CHINESE_RUN = re.compile(r"([\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+)")


@functools.lru_cache(maxsize=65_536)
def _run_pinyin(run: str, style: Style) -> str:
    # Remembered: an import of 100,000 deals names the same companies and products again and
    # again, and pypinyin's phrase matching costs about a millisecond a name.
    return "".join(lazy_pinyin(run, style=style, errors="default"))


def _pinyin(text: str, style: Style) -> str:
    # Text without Chinese comes back as it is (a run of latin letters stays whole).
    parts = _CHINESE_RUN.split(text)
    return normalize(
        "".join(_run_pinyin(part, style) if index % 2 else part for index, part in enumerate(parts))
    )


def initials(text: str) -> str:
    """华东机械 → hdjx; latin words keep all their letters (ABC机械 → abcjx)."""
    return _pinyin(text, Style.FIRST_LETTER)


def full_pinyin(text: str) -> str:
    """华东机械 → huadongjixie (no tones, no spaces)."""
    return _pinyin(text, Style.NORMAL)


def search_key(*texts: str) -> str:
    """The stored key of a row: each text as itself, its initials and its full pinyin."""
    parts: list[str] = []
    for text in texts:
        plain = normalize(text)
        if not plain:
            continue
        parts.append(plain)
        if has_chinese(plain):
            parts += [initials(plain), full_pinyin(plain)]
    return KEY_SEPARATOR.join(parts)


def contact_search_key(name: str, phone: str) -> str:
    """A contact is found by their name and by the digits of their phone number."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return KEY_SEPARATOR.join(part for part in (search_key(name), digits) if part)


def query_key(text: str) -> str:
    """What a search for `text` looks for inside the stored keys ("" finds nothing)."""
    return normalize(text).replace(KEY_SEPARATOR, "")


def bigrams(text: str) -> list[str]:
    """The two-character windows of a name: a cheap first filter for similar Chinese names."""
    return [text[i : i + 2] for i in range(len(text) - 1)] or ([text] if text else [])


@dataclass(frozen=True)
class NameForms:
    """A company name's core (without its legal form) as text, initials and full pinyin."""

    core: str
    initials: str
    full: str


def core_name(text: str) -> str:
    core = normalize(text)
    stripped = True
    while stripped:
        stripped = False
        for form in _LEGAL_FORMS:
            if core.endswith(form) and len(core) > len(form):
                core = core[: -len(form)]
                stripped = True
                break
    return core


def name_forms(text: str) -> NameForms:
    core = core_name(text)
    if not has_chinese(core):
        return NameForms(core=core, initials=core, full=core)
    return NameForms(core=core, initials=initials(core), full=full_pinyin(core))


class Resemblance(StrEnum):
    """Why a typed name may be an existing account (the API reports it as `reason`)."""

    SAME_NAME = "same_name"
    CONTAINS = "contains"
    SAME_PINYIN = "same_pinyin"
    PINYIN_INITIALS = "pinyin_initials"
    PINYIN_PREFIX = "pinyin_prefix"


# Typed pinyin must be at least this long before a prefix counts ("hd" is half the market).
_MIN_INITIALS_PREFIX = 3
_MIN_FULL_PREFIX = 5


def looks_like(typed: NameForms, existing: NameForms) -> Resemblance | None:
    """Whether `typed` may name the same company as `existing`, and why (None: it does not)."""
    a, b = typed, existing
    if len(a.core) < 2 or not b.core:
        return None
    if a.core == b.core:
        return Resemblance.SAME_NAME
    if has_chinese(a.core) and (a.core in b.core or (len(b.core) >= 2 and b.core in a.core)):
        return Resemblance.CONTAINS
    if a.full == b.full:
        return Resemblance.SAME_PINYIN  # homophones: 华东机械 and 华东机协
    if has_chinese(a.core) or not has_chinese(b.core):
        return None
    if a.core == b.initials:
        return Resemblance.PINYIN_INITIALS
    if (len(a.core) >= _MIN_INITIALS_PREFIX and b.initials.startswith(a.core)) or (
        len(a.core) >= _MIN_FULL_PREFIX and b.full.startswith(a.core)
    ):
        return Resemblance.PINYIN_PREFIX
    return None


def is_latin_query(text: str) -> bool:
    return _ASCII_WORD.fullmatch(text) is not None
