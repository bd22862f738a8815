"""Pick the Chinese or English half of the engine's bilingual texts for the active language."""

from __future__ import annotations

from typing import Protocol

from django.utils.translation import get_language


class BilingualText(Protocol):
    @property
    def zh(self) -> str: ...

    @property
    def en(self) -> str: ...


def speaks_chinese() -> bool:
    return (get_language() or "zh-hans").lower().startswith("zh")


def localized(text: BilingualText) -> str:
    return text.zh if speaks_chinese() or not text.en else text.en


def in_site_language(text: BilingualText) -> str:
    """The half in the site's language, for text stored once for everyone (task titles),
    whatever language the request that caused it happened to speak."""
    from django.conf import settings

    return text.zh if settings.LANGUAGE_CODE.lower().startswith("zh") or not text.en else text.en
