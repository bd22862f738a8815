"""A task's title in both languages, for pages, alerts and stuck reasons in the reader's language.

A task stores its title once, in the site's language. A task a playbook trigger made has the
trigger's title in Chinese and English (`TaskTemplate.title`); an exemption's re-check task and
a coaching session are worded from what they are about (the exemption's reason, the manager).
Any other task (typed by a person) has one title, shown as it is in both languages: it is data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from lodestar.automation.models import Task
from lodestar.automation.titles import trigger_titles
from lodestar.core.scoring import Message
from lodestar.insights.models import RECHECK_TRIGGER_PREFIX, Exemption, ExemptionReason
from lodestar.org.models import User

__all__ = [
    "COACHING_TRIGGER_PREFIX",
    "coaching_title",
    "recheck_title",
    "task_title",
    "task_titles",
]

# The trigger key of a coaching session: this and the manager's id (no playbook trigger id
# has a colon).
COACHING_TRIGGER_PREFIX = "coaching:"

_RECHECK = _("Re-check the exemption (%(reason)s): %(deal)s")
_COACHING = _("Coaching session with %(manager)s")


def _both(template: object, values: dict[str, object]) -> Message:
    words = []
    for language in ("zh-hans", "en"):
        with override(language):
            shown = {k: str(v) for k, v in values.items()}  # lazy labels, in this language
            words.append(str(template) % shown)
    return Message(words[0], words[1])


def recheck_title(reason_code: str, deal_name: str) -> Message:
    """The title of an exemption's re-check task, in Chinese and English."""
    reason = ExemptionReason(reason_code).label if reason_code in ExemptionReason.values else ""
    return _both(_RECHECK, {"reason": reason, "deal": deal_name})


def coaching_title(manager_name: str) -> Message:
    """The title of a coaching session a manager planned, in Chinese and English."""
    return _both(_COACHING, {"manager": manager_name})


def _number_after(prefix: str, key: str) -> int | None:
    found = key.removeprefix(prefix).split(":")[0]
    return int(found) if found.isdigit() else None


def _worded_titles(
    rechecks: dict[int, list[Task]], coachings: dict[int, list[Task]], titles: dict[int, Message]
) -> None:
    if rechecks:
        reasons = Exemption.objects.filter(pk__in=list(rechecks)).values_list("pk", "reason_code")
        for exemption_id, reason_code in reasons:
            for task in rechecks[exemption_id]:
                name = task.opportunity.name if task.opportunity is not None else ""
                titles[task.pk] = recheck_title(reason_code, name)
    if coachings:
        for manager in User.objects.filter(pk__in=list(coachings)):
            for task in coachings[manager.pk]:
                titles[task.pk] = coaching_title(str(manager))


def task_titles(tasks: Iterable[Task]) -> dict[int, Message]:
    """Each task's title in Chinese and English, by task id (a few queries for the lot).

    Reads `task.opportunity` for the team and the deal's name: select it with the tasks.
    """
    tasks = list(tasks)
    titles = {task.pk: Message(task.title, task.title) for task in tasks}
    by_prefix: dict[str, defaultdict[int, list[Task]]] = {
        RECHECK_TRIGGER_PREFIX: defaultdict(list),
        COACHING_TRIGGER_PREFIX: defaultdict(list),
    }
    playbook_made: list[Task] = []
    for task in tasks:
        prefix = next((p for p in by_prefix if task.trigger_key.startswith(p)), None)
        if prefix is None:
            if task.trigger_key:
                playbook_made.append(task)
            continue
        number = _number_after(prefix, task.trigger_key)
        if number is not None:
            by_prefix[prefix][number].append(task)
    titles.update(trigger_titles(playbook_made))
    _worded_titles(by_prefix[RECHECK_TRIGGER_PREFIX], by_prefix[COACHING_TRIGGER_PREFIX], titles)
    return titles


def task_title(task: Task) -> Message:
    """One task's title in Chinese and English."""
    return task_titles([task])[task.pk]
