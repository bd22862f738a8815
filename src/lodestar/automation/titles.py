"""The title of a task a playbook trigger made, in Chinese and English.

A task stores its title once, in the site's language; the trigger that made it
(`Task.trigger_key`) has it in both (`TaskTemplate.title`), in the playbook its deal's team
follows. `lodestar.insights.task_titles` adds the tasks worded from what they are about.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from django.conf import settings
from django.utils.module_loading import import_string

from lodestar.automation.models import Task
from lodestar.core.scoring import Message
from lodestar.playbooks.selectors import compiled_for_version, published_versions

__all__ = ["trigger_titles", "worded_titles"]


def worded_titles(tasks: Iterable[Task]) -> dict[int, Message]:
    """Each task's title in Chinese and English, by task id, as the pages word it: through
    `LODESTAR_TASK_TITLES`, as the apps above this one word the tasks they make (coaching,
    exemption re-checks). Reads `task.opportunity`: select it with the tasks."""
    lookup: Callable[[Iterable[Task]], dict[int, Message]] = import_string(
        settings.LODESTAR_TASK_TITLES
    )
    return lookup(tasks)


def trigger_titles(tasks: Iterable[Task]) -> dict[int, Message]:
    """The playbook's title of each task a trigger made, by task id (one query per
    organization); tasks whose trigger the playbook no longer has are left out.

    Reads `task.opportunity` for the team: select it with the tasks."""
    by_org: defaultdict[int, list[Task]] = defaultdict(list)
    for task in tasks:
        if task.trigger_key:
            by_org[task.organization_id].append(task)
    titles: dict[int, Message] = {}
    for organization_id, found in by_org.items():
        versions = published_versions(organization_id=organization_id)
        for task in found:
            team_id = task.opportunity.team_id if task.opportunity is not None else None
            version = versions.of_team(team_id)
            if version is None:
                continue
            playbook = compiled_for_version(version).playbook
            trigger = next((t for t in playbook.triggers if t.id == task.trigger_key), None)
            if trigger is not None:
                title = trigger.task.title
                titles[task.pk] = Message(title.zh, title.en or title.zh)
    return titles
