"""Stored things worded in the reader's language: task titles (`task_titles`).

`{% task_title task %}` shows a task's title in the request's language: the playbook's title in
Chinese or English for a task a trigger made. The published playbook versions are read once
per request and organization, however many tasks the page lists.
"""

from __future__ import annotations

from django import template

from lodestar.automation.models import Task
from lodestar.i18n import localized
from lodestar.insights.task_titles import task_titles

register = template.Library()

_CACHE = "_lodestar_task_titles"


@register.simple_tag(takes_context=True)
def task_title(context: template.Context, task: Task) -> str:
    """The task's title in the request's language."""
    request = context.get("request")
    cache: dict[int, str] | None = getattr(request, _CACHE, None) if request else None
    if cache is not None and task.pk in cache:
        return cache[task.pk]
    # The page's other tasks are worded with it: they are in the context, not yet shown.
    siblings = [task, *_listed_tasks(context, task)]
    titles = {pk: localized(text) for pk, text in task_titles(siblings).items()}
    if request is not None:
        cache = cache if cache is not None else {}
        cache.update(titles)
        setattr(request, _CACHE, cache)
    return titles[task.pk]


def _listed_tasks(context: template.Context, task: Task) -> list[Task]:
    """The tasks of the page's lists (`page.tasks`, `page.overdue` …) other than `task`."""
    page = context.get("page")
    found: list[Task] = []
    for name in ("tasks", "overdue", "due_today", "upcoming", "due_soon", "done"):
        items = getattr(page, name, None)
        if isinstance(items, list):
            found.extend(t for t in items if isinstance(t, Task) and t.pk != task.pk)
    return found
