"""What every command shares: consoles, Django start-up, and the one way to fail."""

from __future__ import annotations

import os
from typing import NoReturn

import typer
from rich.console import Console

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
