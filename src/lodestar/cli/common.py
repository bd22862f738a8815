"""What every command shares: consoles, Django start-up, and the one way to fail."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from lodestar.org.models import Organization

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lodestar.settings")
    import django

    django.setup()


def fail(message: str) -> NoReturn:
    """Print `message` on stderr and exit with status 2 (bad input or state)."""
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code=2)


ProgressCallback = Callable[[str, int, int], None]


@contextmanager
def progress_bar() -> Iterator[ProgressCallback]:
    """A `progress(phase, done, total)` callback that draws one bar per phase while it runs."""
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        TextColumn("{task.completed:>9,}/{task.total:,}"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        phases: dict[str, TaskID] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in phases:
                phases[phase] = bar.add_task(phase, total=total)
            bar.update(phases[phase], completed=done, total=total)

        yield progress


def organization_by_slug(slug: str) -> Organization:
    """The organization called `slug`, or exit naming the ones that exist."""
    from lodestar.org.models import Organization

    found = Organization.objects.filter(slug=slug).first()
    if found is None:
        slugs = ", ".join(Organization.objects.order_by("slug").values_list("slug", flat=True)[:20])
        fail(f"no organization '{slug}'; known: {slugs or 'none'}")
    return found
