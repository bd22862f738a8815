"""Cross-reference checks on a shape-valid playbook (rules are checked by their compiler)."""

from __future__ import annotations

from collections.abc import Iterable

from lodestar.core.events.catalogue import CATALOGUE
from lodestar.core.playbook.errors import Issue, Path, did_you_mean
from lodestar.core.playbook.model import Playbook

__all__ = ["check_references"]


def _duplicates(keys: Iterable[str], base: Path, what: str, attr: str = "key") -> list[Issue]:
    seen: set[str] = set()
    issues: list[Issue] = []
    for index, key in enumerate(keys):
        if key in seen:
            issues.append(
                Issue((*base, index, attr), f"duplicate {what} '{key}'", "each key must be unique")
            )
        seen.add(key)
    return issues


def _refs(
    values: Iterable[str], known: Iterable[str], base: Path, what: str, *, indexed: bool = True
) -> list[Issue]:
    """An issue for each value that is not ``known``, at ``base`` plus its index in ``values``
    (``indexed=False`` for a single value named by ``base`` itself)."""
    pool = list(known)
    return [
        Issue(
            (*base, index) if indexed else base,
            f"unknown {what} '{value}'",
            did_you_mean(value, pool),
        )
        for index, value in enumerate(values)
        if value not in pool
    ]


def check_references(playbook: Playbook) -> list[Issue]:
    """Duplicate keys, terminal stages, and names that must refer to declared things."""
    stage_keys = [stage.key for stage in playbook.stages]
    open_stages = [stage.key for stage in playbook.stages if stage.terminal is None]
    event_types = [*CATALOGUE.types, *(kind.key for kind in playbook.event_types)]
    attachment_kinds = [kind.key for kind in playbook.attachment_kinds]
    return [
        *_duplicate_keys(playbook),
        *_stage_issues(playbook, open_stages),
        *_field_issues(playbook, open_stages),
        *_trigger_issues(playbook, stage_keys, event_types),
        *_required_action_issues(playbook, event_types, attachment_kinds),
        *_refs(
            playbook.risks.silence.interaction_events,
            event_types,
            ("risks", "silence", "interaction_events"),
            "event type",
        ),
        *_scorecard_issues(playbook, attachment_kinds),
    ]


def _duplicate_keys(playbook: Playbook) -> list[Issue]:
    issues: list[Issue] = []
    issues += _duplicates((s.key for s in playbook.stages), ("stages",), "stage")
    issues += _duplicates((f.key for f in playbook.fields), ("fields",), "field")
    issues += _duplicates((c.key for c in playbook.contact_roles), ("contact_roles",), "role")
    issues += _duplicates(
        (k.key for k in playbook.attachment_kinds), ("attachment_kinds",), "attachment kind"
    )
    issues += _duplicates((k.key for k in playbook.event_types), ("event_types",), "event type")
    issues += [
        Issue(
            ("event_types", index, "key"),
            f"event type '{kind.key}' is built in",
            "remove it from event_types; built-in types need no declaration",
        )
        for index, kind in enumerate(playbook.event_types)
        if kind.key in CATALOGUE
    ]
    issues += _duplicates((t.id for t in playbook.triggers), ("triggers",), "trigger", "id")
    issues += _duplicates(
        (r.id for r in playbook.required_actions), ("required_actions",), "action set", "id"
    )
    return issues


def _stage_issues(playbook: Playbook, open_stages: list[str]) -> list[Issue]:
    issues: list[Issue] = []
    if not open_stages:
        issues.append(Issue(("stages",), "every stage is terminal", "add the working stages"))
    if not any(stage.terminal == "won" for stage in playbook.stages):
        issues.append(
            Issue(("stages",), "no stage is marked 'terminal: won'", "add a won stage at the end")
        )
    for index, stage in enumerate(playbook.stages):
        if stage.terminal is not None and stage.exit:
            issues.append(
                Issue(
                    ("stages", index, "exit"),
                    f"the {stage.terminal} stage '{stage.key}' cannot have exit criteria",
                    "a deal never leaves a terminal stage through a gate; remove 'exit'",
                )
            )
    return issues


def _field_issues(playbook: Playbook, open_stages: list[str]) -> list[Issue]:
    issues: list[Issue] = []
    for index, field in enumerate(playbook.fields):
        base: Path = ("fields", index)
        issues += _duplicates((c.key for c in field.choices), (*base, "choices"), "choice")
        issues += _refs(field.required_to_exit, open_stages, (*base, "required_to_exit"), "stage")
        if field.type == "contact_role" and not field.choices and not playbook.contact_roles:
            issues.append(
                Issue(
                    (*base, "type"),
                    "a contact_role field needs 'choices' or the playbook's 'contact_roles'",
                    "list the roles under contact_roles: at the top of the file",
                )
            )
    return issues


def _trigger_issues(
    playbook: Playbook, stage_keys: list[str], event_types: list[str]
) -> list[Issue]:
    issues: list[Issue] = []
    for index, trigger in enumerate(playbook.triggers):
        base: Path = ("triggers", index)
        issues += _refs([trigger.on], event_types, (*base, "on"), "event type", indexed=False)
        issues += _refs(trigger.stages, stage_keys, (*base, "stages"), "stage")
        issues += _refs(
            trigger.task.closes_on, event_types, (*base, "task", "closes_on"), "event type"
        )
    return issues


def _required_action_issues(
    playbook: Playbook, event_types: list[str], attachment_kinds: list[str]
) -> list[Issue]:
    issues: list[Issue] = []
    for index, action_set in enumerate(playbook.required_actions):
        for position, action in enumerate(action_set.actions):
            base: Path = ("required_actions", index, "actions", position)
            if action.event is not None:
                issues += _refs(
                    [action.event], event_types, (*base, "event"), "event type", indexed=False
                )
            if action.attachment is not None:
                issues += _refs(
                    [action.attachment],
                    attachment_kinds,
                    (*base, "attachment"),
                    "attachment kind",
                    indexed=False,
                )
    return issues


def _scorecard_issues(playbook: Playbook, attachment_kinds: list[str]) -> list[Issue]:
    # The scorecard names an attachment kind by default; only check it when written out.
    scorecard = playbook.scorecard
    if "minutes_kind" not in scorecard.model_fields_set:
        return []
    return _refs(
        [scorecard.minutes_kind],
        attachment_kinds,
        ("scorecard", "minutes_kind"),
        "attachment kind",
        indexed=False,
    )
