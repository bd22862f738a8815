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


def _refs(values: Iterable[str], known: Iterable[str], base: Path, what: str) -> list[Issue]:
    pool = list(known)
    return [
        Issue((*base, index), f"unknown {what} '{value}'", did_you_mean(value, pool))
        for index, value in enumerate(values)
        if value not in pool
    ]


def check_references(playbook: Playbook) -> list[Issue]:
    """Duplicate keys, terminal stages, and names that must refer to declared things."""
    issues: list[Issue] = []
    stage_keys = [stage.key for stage in playbook.stages]
    open_stages = [stage.key for stage in playbook.stages if stage.terminal is None]
    event_types = [*CATALOGUE.types, *(kind.key for kind in playbook.event_types)]
    attachment_kinds = [kind.key for kind in playbook.attachment_kinds]
    issues += _duplicates(stage_keys, ("stages",), "stage")
    issues += _duplicates((f.key for f in playbook.fields), ("fields",), "field")
    issues += _duplicates((c.key for c in playbook.contact_roles), ("contact_roles",), "role")
    issues += _duplicates(attachment_kinds, ("attachment_kinds",), "attachment kind")
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

    for index, trigger in enumerate(playbook.triggers):
        base = ("triggers", index)
        if trigger.on not in event_types:
            issues.append(
                Issue(
                    (*base, "on"),
                    f"unknown event type '{trigger.on}'",
                    did_you_mean(trigger.on, event_types),
                )
            )
        issues += _refs(trigger.stages, stage_keys, (*base, "stages"), "stage")
        for position, closing in enumerate(trigger.task.closes_on):
            if closing not in event_types:
                issues.append(
                    Issue(
                        (*base, "task", "closes_on", position),
                        f"unknown event type '{closing}'",
                        did_you_mean(closing, event_types),
                    )
                )

    for index, action_set in enumerate(playbook.required_actions):
        for position, action in enumerate(action_set.actions):
            base = ("required_actions", index, "actions", position)
            if action.event is not None and action.event not in event_types:
                issues.append(
                    Issue(
                        (*base, "event"),
                        f"unknown event type '{action.event}'",
                        did_you_mean(action.event, event_types),
                    )
                )
            if action.attachment is not None and action.attachment not in attachment_kinds:
                issues.append(
                    Issue(
                        (*base, "attachment"),
                        f"unknown attachment kind '{action.attachment}'",
                        did_you_mean(action.attachment, attachment_kinds),
                    )
                )

    issues += _refs(
        playbook.risks.silence.interaction_events,
        event_types,
        ("risks", "silence", "interaction_events"),
        "event type",
    )
    # The scorecard names an attachment kind by default; only check it when written out.
    scorecard = playbook.scorecard
    if (
        "minutes_kind" in scorecard.model_fields_set
        and scorecard.minutes_kind not in attachment_kinds
    ):
        issues.append(
            Issue(
                ("scorecard", "minutes_kind"),
                f"unknown attachment kind '{scorecard.minutes_kind}'",
                did_you_mean(scorecard.minutes_kind, attachment_kinds),
            )
        )
    return issues
