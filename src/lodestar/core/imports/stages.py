"""Stages named in a file, matched to the organization's playbook.

Ready-made mappings cannot know an organization's stage keys, so they name stages by position:

- ``@first`` — the first working (non-terminal) stage, ``@last`` the last working one;
- ``@working:N`` — the N-th working stage (1-based; past the end: the last working stage);
- ``@progress:K/N`` — step K of a source process of N steps, placed at the same share of the
  organization's working stages (step 1 → the first, step N → the last);
- ``@won`` / ``@lost`` — the won / lost terminal stage.

Anything else is a stage key (or a stage's name) of the organization.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from lodestar.core.imports.values import compact_name, nearest_names
from lodestar.core.rules.results import Bilingual

__all__ = [
    "LOST_WORDS",
    "WON_WORDS",
    "StageInfo",
    "StageMatcher",
    "is_stage_ref",
    "resolve_stage_ref",
]

WON_WORDS = frozenset(
    compact_name(w)
    for w in ("won", "closed won", "win", "赢单", "成交", "已成交", "赢", "签约", "已签约", "中标")
)
LOST_WORDS = frozenset(
    compact_name(w)
    for w in (
        "lost",
        "closed lost",
        "lose",
        "输单",
        "丢单",
        "失败",
        "已丢单",
        "输",
        "未中标",
        "关闭-丢单",
    )
)
_REF = re.compile(r"^@(first|last|won|lost|working:(\d+)|progress:(\d+)/(\d+))$")


@dataclass(frozen=True, slots=True)
class StageInfo:
    key: str
    name: Bilingual
    terminal: Literal["won", "lost"] | None = None


def is_stage_ref(value: str) -> bool:
    return bool(_REF.match(value.strip()))


def resolve_stage_ref(ref: str, stages: Sequence[StageInfo]) -> str | None:
    """The stage key ``ref`` names among ``stages`` (in playbook order), or None."""
    match = _REF.match(ref.strip())
    if not match:
        return None
    working = [s for s in stages if s.terminal is None]
    word = match.group(1)
    if word in ("won", "lost"):
        for stage in stages:
            if stage.terminal == word:
                return stage.key
        return None
    if not working:
        return None
    if word == "first":
        return working[0].key
    if word == "last":
        return working[-1].key
    if match.group(2):
        position = max(1, int(match.group(2)))
        return working[min(position, len(working)) - 1].key
    step, steps = int(match.group(3)), int(match.group(4))
    if steps <= 1:
        return working[0].key
    step = min(max(step, 1), steps)
    index = round((step - 1) * (len(working) - 1) / (steps - 1))
    return working[index].key


class StageMatcher:
    """Reads a file's stage values as stage keys: through the mapping's value map (stage keys
    or ``@`` references), then by key or name in either language, then won/lost words."""

    def __init__(self, stages: Sequence[StageInfo], value_map: dict[str, str] | None = None):
        self.stages = list(stages)
        self.by_key = {s.key: s for s in stages}
        self._names: dict[str, str] = {}
        for stage in stages:
            for name in (stage.key, stage.name.zh, stage.name.en):
                if name:
                    self._names.setdefault(compact_name(name), stage.key)
        self._map: dict[str, str | None] = {}
        for source, target in (value_map or {}).items():
            self._map[compact_name(source)] = self._target(target)
        self._cache: dict[str, str | None] = {}

    def _target(self, target: str) -> str | None:
        if is_stage_ref(target):
            return resolve_stage_ref(target, self.stages)
        if target in self.by_key:
            return target
        return self._names.get(compact_name(target))

    def match(self, value: str) -> str | None:
        if value in self._cache:
            return self._cache[value]
        word = compact_name(value)
        found: str | None
        if is_stage_ref(value):
            found = resolve_stage_ref(value, self.stages)
        elif word in self._map:
            found = self._map[word]
        elif word in self._names:
            found = self._names[word]
        elif word in WON_WORDS:
            found = resolve_stage_ref("@won", self.stages)
        elif word in LOST_WORDS:
            found = resolve_stage_ref("@lost", self.stages)
        else:
            found = None
        self._cache[value] = found
        return found

    def terminal(self, key: str) -> Literal["won", "lost"] | None:
        stage = self.by_key.get(key)
        return stage.terminal if stage else None

    def names(self) -> list[str]:
        names: list[str] = []
        for stage in self.stages:
            names.extend(n for n in (stage.name.zh, stage.name.en) if n)
        return names

    def suggestions(self, value: str) -> list[str]:
        return nearest_names(value, self.names())

    def label(self, key: str) -> Bilingual:
        stage = self.by_key.get(key)
        return stage.name if stage else Bilingual(key, key)


def stage_keys(stages: Iterable[StageInfo]) -> list[str]:
    return [s.key for s in stages]
