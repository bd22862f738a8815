"""`lodestar export LIST --as USERNAME`: a list written to a CSV or Excel file, exactly as that
person's page would export it (`lodestar.web.exports`: the same filters, scope and words)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lodestar.cli.common import console, fail, setup_django

if TYPE_CHECKING:
    from lodestar.exporting import Table
    from lodestar.org.models import User

FORMATS = ("csv", "xlsx")
LANGUAGES = ("zh-hans", "en")


def _counted(rows: Iterable[Any], tick: Callable[[int], None]) -> Iterator[Any]:
    for number, row in enumerate(rows, start=1):
        tick(number)
        yield row


def _member(username: str) -> User:
    from lodestar.org.models import User
    from lodestar.org.selectors import membership_of

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None or membership_of(user=user) is None:
        fail(f"No active member called {username!r}.")
    return user


def _table(name: str, user: User, query: str, language: str) -> Table[Any]:
    """The list as the page builds it for `user`, with the page's query string."""
    from django.http import Http404, HttpRequest, QueryDict
    from django.utils import translation

    from lodestar.errors import ApplicationError
    from lodestar.web.exports import EXPORTS

    build = EXPORTS.get(name)
    if build is None:
        fail(f"No list called {name!r}; lists: {', '.join(EXPORTS)}.")
    request = HttpRequest()
    request.method = "GET"
    request.GET = QueryDict(query)
    request.user = user
    with translation.override(language):
        try:
            return build(request)  # type: ignore[arg-type]
        except Http404:
            fail(f"{user.username} cannot see what --query {query!r} names, or it does not exist.")
        except ApplicationError as exc:
            fail(str(exc.message))


def _write(table: Table[Any], target: Path, fmt: str) -> int:
    """Write the file with a running count of rows; the number of rows written."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from lodestar.exporting import csv_chunks, write_xlsx

    written = 0
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console) as bar:
        task = bar.add_task("rows written: 0")

        def tick(number: int) -> None:
            nonlocal written
            written = number
            if number % 1000 == 0:
                bar.update(task, description=f"rows written: {number:,}")

        counted = dataclasses.replace(table, rows=_counted(table.rows, tick))
        with target.open("wb") as file:
            if fmt == "csv":
                for chunk in csv_chunks(counted):
                    file.write(chunk)
            else:
                write_xlsx(counted, file)
    return written


def export_list(
    name: Annotated[
        str,
        typer.Argument(
            help="deals, accounts, contacts, tasks, alerts, metric, scorecards, audit or members.",
            show_default=False,
        ),
    ],
    username: Annotated[str, typer.Option("--as", help="Whose view: the rows this person sees.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    query: Annotated[
        str,
        typer.Option(
            "--query",
            help="The page's filters as in its address, e.g. 'q=华东&team=3' "
            "(a metric: 'metric=win_rate'; an account's contacts: 'account=12').",
        ),
    ] = "",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write; default: the list's name and date."),
    ] = None,
    language: Annotated[
        str, typer.Option("--language", help="Headers and words: zh-hans or en.")
    ] = "zh-hans",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a list as CSV (UTF-8 with BOM) or Excel, as USERNAME's page would export it."""
    if fmt not in FORMATS:
        fail(f"--format takes csv or xlsx, not {fmt!r}.")
    if language not in LANGUAGES:
        fail(f"--language takes zh-hans or en, not {language!r}.")
    setup_django()
    table = _table(name, _member(username), query, language)
    target = output or Path(f"{table.name}.{fmt}")
    if target.exists() and not force:
        fail(f"{target} exists; add --force to overwrite it.")
    written = _write(table, target, fmt)
    console.print(f"{written:,} rows written to {target}", markup=False, highlight=False)
