"""Ready-made mappings for well-known exports (the Maven CRM sample files, a Salesforce data
export), picked by the file's column names. They name stages by position (``@first``,
``@working:2``, ``@progress:3/8``, ``@won`` …) so they fit any organization's playbook."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from ruamel.yaml import YAML

from lodestar.core.imports.mapping import (
    CUSTOM_PREFIX,
    IGNORE,
    ColumnMapping,
    ColumnRule,
    CustomField,
    CustomType,
    infer_custom,
)
from lodestar.core.imports.values import compact_name
from lodestar.core.rules.results import Bilingual

__all__ = ["READY_MAPPINGS", "ReadyMapping", "ready_mapping"]


@dataclass(frozen=True, slots=True)
class ReadyMapping:
    name: str
    kind: str
    title: Bilingual
    match: tuple[str, ...]
    data: Mapping[str, Any]

    def matches(self, kind: str, headers: Sequence[str]) -> bool:
        present = {compact_name(h) for h in headers}
        return kind == self.kind and all(compact_name(m) in present for m in self.match)

    def mapping_for(
        self, headers: Sequence[str], sample_rows: Sequence[Sequence[str]] = ()
    ) -> ColumnMapping:
        """The mapping for a file with ``headers``: the columns it names, the rest ignored.
        Choice fields take their choices from ``sample_rows`` (text when there are none)."""
        rules_by_name = {compact_name(str(c)): (str(c), v) for c, v in self.data["columns"].items()}
        columns: list[ColumnRule] = []
        for index, header in enumerate(headers):
            found = rules_by_name.get(compact_name(header))
            if found is None:
                columns.append(ColumnRule(header, IGNORE))
                continue
            _, spec = found
            if isinstance(spec, str):
                columns.append(ColumnRule(header, spec))
                continue
            values = [row[index] for row in sample_rows if index < len(row)]
            columns.append(
                ColumnRule(header, CUSTOM_PREFIX + spec["custom"], _custom(spec, values))
            )
        key_column = None
        wanted = self.data.get("key_column")
        if wanted is not None:
            for header in headers:
                if compact_name(header) == compact_name(str(wanted)):
                    key_column = header
        return ColumnMapping(
            kind=self.kind,
            columns=columns,
            key_column=key_column,
            value_maps={
                str(t): {str(k): str(v) for k, v in m.items()}
                for t, m in (self.data.get("value_maps") or {}).items()
            },
            options=dict(self.data.get("options") or {}),
            source=f"ready:{self.name}",
        )


def _custom(spec: Mapping[str, Any], values: list[str]) -> CustomField:
    label_data = spec.get("label") or {}
    label = Bilingual(str(label_data.get("zh", spec["custom"])), str(label_data.get("en", "")))
    type_: CustomType = spec.get("type", "text")
    if type_ == "choice":
        choices = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
        if not choices:
            return CustomField(spec["custom"], label, "text")
        return CustomField(spec["custom"], label, "choice", choices)
    if type_ == "infer":  # type: ignore[comparison-overlap]
        inferred = infer_custom(spec["custom"], values)
        return CustomField(spec["custom"], label, inferred.type, inferred.choices)
    return CustomField(spec["custom"], label, type_)


@lru_cache(maxsize=1)
def _load() -> tuple[ReadyMapping, ...]:
    yaml = YAML(typ="safe", pure=True)
    folder = resources.files("lodestar.core.imports").joinpath("mappings")
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.load(entry.read_text(encoding="utf-8"))
        title = data.get("title") or {}
        found.append(
            ReadyMapping(
                name=str(data["name"]),
                kind=str(data["kind"]),
                title=Bilingual(str(title.get("zh", data["name"])), str(title.get("en", ""))),
                match=tuple(str(m) for m in data["match"]),
                data=data,
            )
        )
    return tuple(found)


def ready_mappings() -> tuple[ReadyMapping, ...]:
    return _load()


READY_MAPPINGS = ready_mappings


def ready_mapping(
    kind: str, headers: Sequence[str], sample_rows: Sequence[Sequence[str]] = ()
) -> ColumnMapping | None:
    """The ready-made mapping whose columns the file has (the most specific one), or None."""
    candidates = [m for m in _load() if m.matches(kind, headers)]
    if not candidates:
        return None
    best = max(candidates, key=lambda m: len(m.match))
    return best.mapping_for(headers, sample_rows)
