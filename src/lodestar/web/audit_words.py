"""The audit log as a reader reads it: actions, objects and the names of their details in the
reader's language; people, teams, deals, stages and fields by name; moments in local time.

The log stores codes and ids (what was done, to which row, with which details) so that it stays
true when names change; this is where they become words, for the audit page and a member's
history alike. A code nobody has named yet is shown as it is stored, never dropped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from lodestar.core.rules.results import TransitionKind
from lodestar.crm.models import Opportunity
from lodestar.i18n import localized
from lodestar.insights.models import ExemptionReason
from lodestar.org.models import AuditEntry, Membership, Team
from lodestar.playbooks.selectors import compiled_for_version, published_versions

__all__ = ["AUDIT_ACTIONS", "AUDIT_OBJECTS", "DATA_KEYS", "audit_rows"]

# What the audit log's action codes mean, in the reader's language; a code missing here is
# shown as it is stored.
AUDIT_ACTIONS = {
    "alert.acknowledge": gettext_lazy("Alert acknowledged"),
    "api_token.create": gettext_lazy("API token created"),
    "api_token.revoke": gettext_lazy("API token revoked"),
    "calendar_feed.rotate": gettext_lazy("Calendar feed address renewed"),
    "exemption.declare": gettext_lazy("Exemption declared"),
    "member.deactivate": gettext_lazy("Member deactivated, work handed over"),
    "member.invite": gettext_lazy("Member invited"),
    "member.invite_again": gettext_lazy("Invitation sent again"),
    "member.reactivate": gettext_lazy("Member reactivated"),
    "member.update": gettext_lazy("Role or team changed"),
    "notification.retry": gettext_lazy("Notification sent again"),
    "opportunity.create": gettext_lazy("Deal created"),
    "opportunity.delete": gettext_lazy("Deal deleted"),
    "opportunity.update": gettext_lazy("Deal edited"),
    "knowledge.created": gettext_lazy("Knowledge entry created"),
    "knowledge.updated": gettext_lazy("Knowledge entry edited"),
    "knowledge.deleted": gettext_lazy("Knowledge entry deleted"),
    "knowledge.file_added": gettext_lazy("File attached to a knowledge entry"),
    "knowledge.file_deleted": gettext_lazy("File removed from a knowledge entry"),
    "opportunity.stage_change": gettext_lazy("Deal moved to another stage"),
    "organization.create": gettext_lazy("Organization created"),
    "organization.daily_reports": gettext_lazy("Daily report due time or reminder changed"),
    "playbook.publish": gettext_lazy("Playbook published"),
    "task.coaching_planned": gettext_lazy("Coaching planned"),
    "task.complete": gettext_lazy("Task completed"),
    "task.create": gettext_lazy("Task added"),
    "task.reassign": gettext_lazy("Task reassigned"),
    "task.reschedule": gettext_lazy("Task rescheduled"),
    "team.create": gettext_lazy("Team created"),
    "team.update": gettext_lazy("Team renamed or given a manager"),
    "user.password_reset": gettext_lazy("Password set by e-mail link"),
    "user.sign_in_locked": gettext_lazy("Sign-in locked after failed attempts"),
    "webhook.create": gettext_lazy("Webhook created"),
    "webhook.update": gettext_lazy("Webhook changed"),
    "webhook.enable": gettext_lazy("Webhook switched on"),
    "webhook.disable": gettext_lazy("Webhook switched off"),
    "webhook.auto_disable": gettext_lazy("Webhook switched off after repeated failures"),
    "webhook.rotate_secret": gettext_lazy("Webhook secret rotated"),
    "webhook.test": gettext_lazy("Webhook test sent"),
    "webhook.delete": gettext_lazy("Webhook deleted"),
    "weekly_report.generate": gettext_lazy("Weekly report generated on request"),
    "weekly_report.regenerate": gettext_lazy("Weekly report generated again"),
    "weekly_report.schedule": gettext_lazy("Weekly report schedule changed"),
}
AUDIT_OBJECTS = {
    "alert": gettext_lazy("Alert"),
    "api_token": gettext_lazy("API token"),
    "calendar_feed": gettext_lazy("Calendar feed"),
    "knowledge_entry": gettext_lazy("Knowledge entry"),
    "notification": gettext_lazy("Notification"),
    "opportunity": gettext_lazy("Deal"),
    "organization": gettext_lazy("Organization"),
    "playbook_version": gettext_lazy("Playbook version"),
    "task": gettext_lazy("Task"),
    "team": gettext_lazy("Team"),
    "user": gettext_lazy("Person"),
    "webhook": gettext_lazy("Webhook"),
    "weekly_report": gettext_lazy("Weekly report"),
}


# Details whose values are people's or teams' ids, shown by name (task reassignments keep the
# people as "from" and "to").
_PERSON_KEYS = frozenset(
    {"successor_id", "rep_id", "owner_id", "manager_id", "assignee_id", "subject_user_id"}
    | {"from", "to"}
)
_TEAM_KEYS = frozenset({"team_id"})
_DEAL_KEYS = frozenset({"opportunity_id"})
# Details whose values are stage keys (a stage change's "from" and "to" are stage keys, a
# reassignment's are people's ids: the value's type tells them apart).
_STAGE_KEYS = frozenset({"from", "to", "stage_key"})
# Details that list or map a deal's fields by their keys.
_FIELD_LIST_KEYS = frozenset({"fields"})
_FIELD_MAP_KEYS = frozenset({"values", "custom_fields"})
# What the details are called on the page; a key missing here is shown as it is stored.
DATA_KEYS = {
    "successor_id": gettext_lazy("Successor"),
    "rep_id": gettext_lazy("Rep"),
    "owner_id": gettext_lazy("Owner"),
    "manager_id": gettext_lazy("Manager"),
    "assignee_id": gettext_lazy("Assignee"),
    "subject_user_id": gettext_lazy("About"),
    "team_id": gettext_lazy("Team"),
    "opportunity_id": gettext_lazy("Deal"),
    "account_id": gettext_lazy("Account"),
    "alert_id": gettext_lazy("Alert"),
    "exemption": gettext_lazy("Exemption"),
    "recheck_task": gettext_lazy("Re-check task"),
    "role": gettext_lazy("Role"),
    "email": gettext_lazy("E-mail"),
    "name": gettext_lazy("Name"),
    "title": gettext_lazy("Entry title"),
    "key": gettext_lazy("Key"),
    "file": gettext_lazy("File"),
    "type": gettext_lazy("Type"),
    "path": gettext_lazy("Address"),
    "channel": gettext_lazy("Channel"),
    "ip_address": gettext_lazy("IP address"),
    "last_error": gettext_lazy("Last error"),
    "until": gettext_lazy("Until"),
    "from": gettext_lazy("Changed from"),
    "to": gettext_lazy("Changed to"),
    "before": gettext_lazy("Before"),
    "after": gettext_lazy("After"),
    "kind": gettext_lazy("Kind of move"),
    "playbook_version": gettext_lazy("Playbook version"),
    "number": gettext_lazy("Version"),
    "replaces": gettext_lazy("Replaces version"),
    "changes": gettext_lazy("Changes"),
    "stage_key": gettext_lazy("Stage"),
    "reason_code": gettext_lazy("Reason"),
    "reason": gettext_lazy("Explanation"),
    "starts_at": gettext_lazy("Starts"),
    "ends_at": gettext_lazy("Ends"),
    "on_time": gettext_lazy("Done on time"),
    "fields": gettext_lazy("Fields"),
    "values": gettext_lazy("Set to"),
    "custom_fields": gettext_lazy("Playbook fields"),
    "moved": gettext_lazy("Handed over"),
    "deals": gettext_lazy("Open deals"),
    "accounts": gettext_lazy("Accounts"),
    "tasks": gettext_lazy("Open tasks"),
    "teams": gettext_lazy("Teams managed"),
    "tokens_revoked": gettext_lazy("API tokens revoked"),
    "due_minutes": gettext_lazy("Daily report due (minutes after the day starts)"),
    "reminder_minutes": gettext_lazy("Reminder (minutes before the due time)"),
    "weekday": gettext_lazy("Weekday (1 = Monday)"),
    "hour": gettext_lazy("Hour"),
    "enabled": gettext_lazy("Sent automatically"),
    "week": gettext_lazy("Week"),
}
_MOVE_KINDS = {
    TransitionKind.ADVANCE.value: gettext_lazy("forward"),
    TransitionKind.WON.value: gettext_lazy("won"),
    TransitionKind.LOST.value: gettext_lazy("lost"),
    TransitionKind.REGRESSION.value: gettext_lazy("backwards"),
    TransitionKind.REOPEN.value: gettext_lazy("reopened"),
    TransitionKind.NO_CHANGE.value: gettext_lazy("no change"),
}
# The deal's own fields by their (lazily translated) names, worded when shown.
_DEAL_FIELDS: dict[str, Any] = {
    field.name: field.verbose_name
    for field in Opportunity._meta.get_fields()
    if hasattr(field, "verbose_name")
}


@dataclass(frozen=True)
class _Names:
    """The names of the people, teams and deals a page of the log mentions by id, and the stage
    and field names of the organization's playbooks."""

    people: dict[int, str]
    teams: dict[int, str]
    deals: dict[int, str]
    stages: dict[str, str]
    fields: dict[str, str]


def _ids(value: Any) -> set[int]:
    return {value} if isinstance(value, int) and not isinstance(value, bool) else set()


def _walk(data: Any, keys: frozenset[str]) -> set[int]:
    found: set[int] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            found |= _ids(value) if key in keys else _walk(value, keys)
    return found


def _playbook_words(organization_id: int) -> tuple[dict[str, str], dict[str, str]]:
    """Stage and custom-field names of every published playbook of the organization, in the
    reader's language (one query; compiled playbooks are kept per version)."""
    stages: dict[str, str] = {}
    fields: dict[str, str] = {}
    for version in published_versions(organization_id=organization_id).all():
        playbook = compiled_for_version(version).playbook
        stages.update({stage.key: localized(stage.name) for stage in playbook.stages})
        fields.update({field.key: localized(field.name) for field in playbook.fields})
    return stages, fields


def _names(entries: list[AuditEntry], organization_id: int) -> _Names:
    """Four queries at most for the whole page, each held to the organization."""
    people: set[int] = set()
    teams: set[int] = set()
    deals: set[int] = set()
    for entry in entries:
        if entry.object_id.isdigit():
            target = {"user": people, "team": teams, "opportunity": deals}.get(entry.object_type)
            if target is not None:
                target.add(int(entry.object_id))
        people |= _walk(entry.data, _PERSON_KEYS)
        teams |= _walk(entry.data, _TEAM_KEYS)
        deals |= _walk(entry.data, _DEAL_KEYS)
    in_org = {"organization_id": organization_id}
    stages, fields = _playbook_words(organization_id) if entries else ({}, {})
    return _Names(
        people={
            member.user_id: str(member.user)
            for member in Membership.objects.filter(user_id__in=people, **in_org).select_related(
                "user"
            )
        }
        if people
        else {},
        teams=dict(Team.objects.filter(pk__in=teams, **in_org).values_list("pk", "name"))
        if teams
        else {},
        deals=dict(Opportunity.objects.filter(pk__in=deals, **in_org).values_list("pk", "name"))
        if deals
        else {},
        stages=stages,
        fields=fields,
    )


def audit_rows(
    entries: list[AuditEntry], *, organization_id: int, admin: bool
) -> list[dict[str, Any]]:
    names = _names(entries, organization_id)
    return [_audit_row(entry, names, admin=admin) for entry in entries]


def _audit_row(entry: AuditEntry, names: _Names, *, admin: bool) -> dict[str, Any]:
    """One line of the log as the page shows it: people, teams and deals by name; people link
    to their member page for admins (ops read the log but do not manage members)."""
    link = ""
    name = ""
    number = int(entry.object_id) if entry.object_id.isdigit() else None
    if entry.object_type == "user" and number is not None:
        name = names.people.get(number, "")
        link = reverse("web:team-member", args=[number]) if admin else ""
    elif entry.object_type == "opportunity" and number is not None:
        name = names.deals.get(number, "")
        link = reverse("web:deal", args=[number]) if name else ""
    elif entry.object_type == "team" and number is not None:
        name = names.teams.get(number, "")
        link = reverse("web:teams") if admin else ""
    return {
        "entry": entry,
        "action": AUDIT_ACTIONS.get(entry.action, entry.action),
        "object": AUDIT_OBJECTS.get(entry.object_type, entry.object_type),
        "name": name,
        "link": link,
        "data": _flat(entry.data, names),
    }


def _field_name(key: str, names: _Names) -> str:
    return names.fields.get(key) or str(_DEAL_FIELDS.get(key, key))


def _moment(value: str) -> str | None:
    """An ISO moment stored in the details, in local time; None for any other text."""
    if len(value) < 16 or value[4:5] != "-" or "T" not in value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        return date_format(moment, "SHORT_DATETIME_FORMAT")
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _value(key: str, value: Any, names: _Names) -> str:
    """One detail's value in words."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int):
        return _number(key, value, names)
    if isinstance(value, list):
        return _items(key, value, names)
    return _text(key, str(value), names)


def _number(key: str, value: int, names: _Names) -> str:
    for keys, named in (
        (_PERSON_KEYS, names.people),
        (_TEAM_KEYS, names.teams),
        (_DEAL_KEYS, names.deals),
    ):
        if key in keys:
            return named.get(value, f"#{value}")
    return str(value)


def _items(key: str, value: list[Any], names: _Names) -> str:
    if key in _FIELD_LIST_KEYS:
        return "、".join(_field_name(str(item), names) for item in value)
    if key == "changes":
        return ngettext("%(n)d change", "%(n)d changes", len(value)) % {"n": len(value)}
    return "、".join(_value(key, item, names) for item in value)


def _text(key: str, text: str, names: _Names) -> str:
    if key in _STAGE_KEYS and text in names.stages:
        return names.stages[text]
    if key == "kind" and text in _MOVE_KINDS:
        return str(_MOVE_KINDS[text])
    if key == "reason_code" and text in ExemptionReason.values:
        return str(ExemptionReason(text).label)
    return _moment(text) or text


def _flat(data: Any, names: _Names, label: str = "", key: str = "") -> list[tuple[str, str]]:
    """The entry's details as `label: value` pairs, nested labels joined with " › "; the keys
    of a map of deal fields are the fields' names."""
    if isinstance(data, dict):
        lines: list[tuple[str, str]] = []
        for inner_key, value in data.items():
            words = (
                _field_name(inner_key, names)
                if key in _FIELD_MAP_KEYS
                else str(DATA_KEYS.get(inner_key, inner_key))
            )
            inner = f"{label} › {words}" if label else words
            lines += _flat(value, names, inner, inner_key)
        return lines
    return [(label, _value(key, data, names))]
