"""`lodestar import …`: take a spreadsheet or CRM export into an organization, list the imports,
show their problems, undo one.

    lodestar import deals pipeline.csv --org acme [--mapping map.yaml] [--dry-run]
    lodestar import list --org acme
    lodestar import problems 12 --org acme [--severity error]
    lodestar import undo 12 --org acme

Each kind of rows is a command of its own (`accounts`, `contacts`, `products`, `deals`,
`stage_history`, `activities`), all running `import_file`. The work is the
imports app's services, run in this process (`import_run_now`) so the bar shows real progress.
Exit codes: 0 done (rows with errors are skipped and reported; `--strict` makes them fail),
1 the run failed or, with `--strict`, some row has an error, 2 the file, the mapping or the
command was refused before anything was written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lodestar.cli.common import console, err_console, fail, organization_by_slug, setup_django

if TYPE_CHECKING:  # the models load after `setup_django`
    from lodestar.imports.models import ImportBatch
    from lodestar.org.models import Organization, User

KINDS = ("accounts", "contacts", "products", "deals", "stage_history", "activities")
# Problems printed after a run; the rest are listed by `lodestar import problems`.
SHOWN_PROBLEMS = 20


app = typer.Typer(
    help=(
        "Import accounts, contacts, products, deals, stage history or activities from CSV, "
        "XLSX or XLS: `lodestar import KIND FILE --org SLUG`; list, show problems, undo."
    ),
    no_args_is_help=True,
)

OrgOption = Annotated[str, typer.Option("--org", help="Organization slug.")]
ActingOption = Annotated[
    str | None,
    typer.Option(
        "--as", help="Ops or admin user the import is recorded as (default: the first ops user)."
    ),
]
ChineseOption = Annotated[bool, typer.Option("--zh", help="Messages in Chinese.")]


def _organization_and_user(org: str, username: str | None) -> tuple[Organization, User]:
    from lodestar.org.models import Membership, Role

    organization = organization_by_slug(org)
    members = Membership.objects.filter(organization=organization).select_related("user")
    if username:
        member = members.filter(user__username=username).first()
        if member is None:
            fail(f"'{username}' is not a member of '{org}'")
        if member.role not in (Role.OPS, Role.ADMIN):
            fail(f"'{username}' is a {member.role}; only ops and admin users import")
    else:
        member = (
            members.filter(role=Role.OPS).order_by("id").first()
            or members.filter(role=Role.ADMIN).order_by("id").first()
        )
        if member is None:
            fail(f"'{org}' has no ops or admin user to act as; pass --as USERNAME")
    return organization, member.user


def _refused(exc: Any) -> str:
    """An application error as lines: its message, then each located detail."""
    lines = [str(exc.message)]
    lines += [
        f"  {detail.field}: {detail.message}" if detail.field else f"  {detail.message}"
        for detail in getattr(exc, "details", [])
    ]
    return "\n".join(lines)


def _batch_of(user: User, batch_id: int) -> ImportBatch:
    from lodestar.errors import ApplicationError
    from lodestar.imports.selectors import import_batch

    try:
        return import_batch(user=user, batch_id=batch_id)
    except ApplicationError:
        fail(f"no import #{batch_id} in this organization; `lodestar import list` shows them")


def _read_mapping(path: Path) -> dict[str, Any]:
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"{path}: no such file")
    except UnicodeDecodeError as exc:
        fail(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8")
    except yaml.YAMLError as exc:
        fail(f"{path}: not a YAML mapping file: {exc}")
    if not isinstance(loaded, dict):
        fail(f"{path}: a mapping file holds a YAML mapping with `columns:` at its top")
    # A file written by --save-mapping names its kind; the mapping is under `mapping:`.
    inner = loaded.get("mapping")
    return inner if isinstance(inner, dict) else loaded


def _language(chinese: bool) -> str:
    return "zh-hans" if chinese else "en"


def print_mapping(batch: ImportBatch) -> None:
    from rich.table import Table

    mapping = batch.mapping or {}
    table = Table("column", "field", title=f"mapping ({batch.mapping_source or 'given'})")
    for column in table.columns:
        column.overflow = "fold"
    for rule in mapping.get("columns", []):
        target = str(rule.get("target", ""))
        custom = rule.get("custom") or {}
        if target.startswith("custom:") and custom:
            choices = custom.get("choices") or []
            shown = f" [{', '.join(map(str, choices[:5]))}{'…' if len(choices) > 5 else ''}]"
            target += f" ({custom.get('type', 'text')}{shown if choices else ''})"
        table.add_row(str(rule.get("column", "")), target)
    console.print(table)
    key = mapping.get("key_column")
    console.print(
        f"key column: {key}" if key else "key: a hash of each row's values (no key column)",
        markup=False,
        highlight=False,
    )


def print_report(
    batch: ImportBatch, user: User, *, chinese: bool, shown: int = SHOWN_PROBLEMS
) -> None:
    """The counts, the problems by kind (how many rows each), then the first problems by row
    and column, and where the rest are."""
    from rich.table import Table

    from lodestar.imports.selectors import import_problems

    counts = batch.counts or {}
    what = "checked (dry run, nothing written)" if batch.dry_run else "imported"
    table = Table("rows", "count", title=f"import #{batch.pk} {batch.original_name}: {what}")
    for name in ("imported", "updated", "unchanged", "skipped", "errors", "warnings"):
        table.add_row(name, f"{counts.get(name, 0):,}")
    console.print(table)
    if batch.error:
        err_console.print(f"[red]failed:[/red] {batch.error}", highlight=False)
    problems = import_problems(user=user, batch=batch)
    total = problems.count()
    if not total:
        return
    print_kinds(problems, chinese=chinese)
    listing = Table("row", "column", "", "problem", "how to fix", title="first problems")
    for column in listing.columns:
        column.overflow = "fold"
    for problem in problems[:shown]:
        listing.add_row(
            str(problem.row) if problem.row is not None else "-",
            problem.column or "-",
            problem.severity,
            problem.message_zh if chinese else problem.message_en,
            (problem.hint_zh if chinese else problem.hint_en) or "",
        )
    console.print(listing)
    if total > shown:
        console.print(
            f"{total - shown:,} more problem(s): `lodestar import problems {batch.pk} "
            f"--org {batch.organization.slug}` lists them all; the import page and "
            f"GET /api/v1/imports/{batch.pk}/problems show them too.",
            markup=False,
            highlight=False,
        )


def print_kinds(problems: Any, *, chinese: bool) -> None:
    """One line per kind of problem: how many, in which column, from which row, an example."""
    from rich.table import Table

    from lodestar.imports.problem_kinds import problem_kinds

    table = Table("", "column", "count", "first row", "for example", title="problems by kind")
    for column in table.columns:
        column.overflow = "fold"
    for kind in problem_kinds(problems):
        example = kind.example.message_zh if chinese else kind.example.message_en
        table.add_row(
            kind.severity,
            kind.column or "-",
            f"{kind.count:,}",
            str(kind.first_row) if kind.first_row is not None else "-",
            example,
        )
    console.print(table)


FileArgument = Annotated[Path, typer.Argument(help="The CSV, XLSX or XLS file.")]
MappingOption = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        help="A mapping YAML file (as --save-mapping writes) instead of the suggested one.",
    ),
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Check every row and report; write nothing.")
]
SaveMappingOption = Annotated[
    Path | None,
    typer.Option("--save-mapping", help="Write the mapping used to this YAML file."),
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Exit with 1 when any row has an error.")
]
# What each command's help calls its rows.
KIND_WORDS = {
    "accounts": "accounts",
    "contacts": "contacts (a Salesforce Lead.csv too: its Company becomes the account)",
    "products": "products",
    "deals": "deals (with their stage history when the file has it)",
    "stage_history": "deals' stage history (e.g. Salesforce OpportunityHistory.csv)",
    "activities": "activities (calls, meetings, e-mails …)",
}


def _kind_command(kind: str) -> Callable[..., None]:
    def command(
        file: FileArgument,
        org: OrgOption,
        mapping: MappingOption = None,
        dry_run: DryRunOption = False,
        acting: ActingOption = None,
        save_mapping: SaveMappingOption = None,
        strict: StrictOption = False,
        chinese: ChineseOption = False,
    ) -> None:
        import_file(
            kind,
            file,
            org=org,
            mapping=mapping,
            dry_run=dry_run,
            acting=acting,
            save_mapping=save_mapping,
            strict=strict,
            chinese=chinese,
        )

    command.__doc__ = (
        f"Import {KIND_WORDS[kind]} from FILE (CSV, XLSX or XLS), with a progress bar and a report."
    )
    command.__name__ = f"import_{kind}"
    return command


for _kind in KINDS:
    app.command(_kind)(_kind_command(_kind))


def import_file(
    kind: str,
    file: Path,
    *,
    org: str,
    mapping: Path | None = None,
    dry_run: bool = False,
    acting: str | None = None,
    save_mapping: Path | None = None,
    strict: bool = False,
    chinese: bool = False,
) -> None:
    """Import FILE as `kind` rows into the organization, with a progress bar and a report."""
    data = _file_bytes(file)
    given = _read_mapping(mapping) if mapping is not None else None
    setup_django()
    from django.utils import translation

    _, user = _organization_and_user(org, acting)
    with translation.override(_language(chinese)):
        batch = _upload(user, kind, file, data)
        if given is not None:
            batch = _set_mapping(user, batch, given, mapping)
        print_mapping(batch)
        batch = _run_with_bar(user, batch, file, dry_run=dry_run)
        print_report(batch, user, chinese=chinese)
    if save_mapping is not None:
        _write_mapping(save_mapping, batch)
    if batch.status == "failed" or (strict and (batch.counts or {}).get("errors", 0)):
        raise typer.Exit(code=1)


def _file_bytes(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except FileNotFoundError:
        fail(f"{file}: no such file")
    except IsADirectoryError:
        fail(f"{file}: is a folder, not a file")


def _upload(user: User, kind: str, file: Path, data: bytes) -> ImportBatch:
    from lodestar.errors import ApplicationError
    from lodestar.imports import services

    try:
        batch = services.import_upload(user=user, kind=kind, file=data, filename=file.name)
    except ApplicationError as exc:
        fail(f"{file}: refused, nothing was imported:\n{_refused(exc)}")
    console.print(
        f"import #{batch.pk}: {file.name}, {batch.format}"
        + (f" ({batch.encoding})" if batch.encoding else "")
        + f", {len(batch.headers)} columns",
        markup=False,
        highlight=False,
    )
    return batch


def _set_mapping(
    user: User, batch: ImportBatch, given: dict[str, Any], path: Path | None
) -> ImportBatch:
    from lodestar.errors import ApplicationError
    from lodestar.imports import services

    try:
        return services.import_set_mapping(user=user, batch=batch, mapping=given)
    except ApplicationError as exc:
        fail(f"{path}: the mapping is refused, nothing was imported:\n{_refused(exc)}")


def _run_with_bar(user: User, batch: ImportBatch, file: Path, *, dry_run: bool) -> ImportBatch:
    from lodestar.cli.common import progress_bar
    from lodestar.errors import ApplicationError
    from lodestar.imports import services

    phase = "checking" if dry_run else "importing"
    with progress_bar() as progress:
        try:
            return services.import_run_now(
                user=user,
                batch=batch,
                dry_run=dry_run,
                progress=lambda done, total: progress(phase, done, total),
            )
        except ApplicationError as exc:
            fail(f"{file}: refused, nothing was imported:\n{_refused(exc)}")


def _write_mapping(path: Path, batch: ImportBatch) -> None:
    import yaml

    text = yaml.safe_dump(
        {"kind": batch.kind, "headers": list(batch.headers), "mapping": batch.mapping},
        allow_unicode=True,
        sort_keys=False,
    )
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"{path}: cannot write the mapping: {exc.strerror}")
    console.print(f"mapping written to {path}", markup=False, highlight=False)


@app.command("list")
def import_list(
    org: OrgOption,
    acting: ActingOption = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 50,
) -> None:
    """The organization's imports, newest first: status, counts, who and when."""
    setup_django()
    from rich.table import Table

    from lodestar.imports.selectors import import_batches

    organization, user = _organization_and_user(org, acting)
    table = Table("id", "file", "kind", "status", "new/updated/unchanged/skipped", "by, when")
    for column in table.columns:
        column.overflow = "fold"
    zone = organization.tz
    for batch in import_batches(user=user)[:limit]:
        counts = batch.counts or {}
        status = batch.status + (
            " (dry run)" if batch.dry_run and batch.status == "checked" else ""
        )
        table.add_row(
            str(batch.pk),
            batch.original_name,
            batch.kind,
            status,
            "/".join(
                f"{counts.get(name, 0):,}"
                for name in ("imported", "updated", "unchanged", "skipped")
            ),
            f"{batch.created_by.username if batch.created_by else '-'}, "
            f"{batch.created_at.astimezone(zone):%Y-%m-%d %H:%M}",
        )
    console.print(table)


@app.command("problems")
def import_problems(
    batch_id: Annotated[int, typer.Argument(help="The import's id (`lodestar import list`).")],
    org: OrgOption,
    severity: Annotated[str | None, typer.Option(help="Only `error` or only `warning`.")] = None,
    acting: ActingOption = None,
    chinese: ChineseOption = False,
) -> None:
    """Every problem the last run of an import found, by row and column."""
    if severity not in (None, "error", "warning"):
        fail("--severity takes error or warning")
    setup_django()
    from lodestar.imports.selectors import import_problems as problems_of

    _, user = _organization_and_user(org, acting)
    batch = _batch_of(user, batch_id)
    for problem in problems_of(user=user, batch=batch, severity=severity):
        where = f"row {problem.row}" if problem.row is not None else "file"
        if problem.column:
            where += f", {problem.column}"
        message = problem.message_zh if chinese else problem.message_en
        hint = problem.hint_zh if chinese else problem.hint_en
        console.print(
            f"{where}: {problem.severity}: {message}" + (f" — {hint}" if hint else ""),
            markup=False,
            highlight=False,
        )


@app.command("undo")
def import_undo(
    batch_id: Annotated[int, typer.Argument(help="The import's id (`lodestar import list`).")],
    org: OrgOption,
    acting: ActingOption = None,
) -> None:
    """Undo an import as a whole: what it created is removed, what it changed is put back, the
    events it logged are removed."""
    setup_django()
    from lodestar.errors import ApplicationError
    from lodestar.imports import services

    _, user = _organization_and_user(org, acting)
    batch = _batch_of(user, batch_id)
    try:
        batch = services.import_undo(user=user, batch=batch)
    except ApplicationError as exc:
        fail(f"import #{batch_id} cannot be undone: {_refused(exc)}")
    counts = batch.counts or {}
    console.print(
        f"import #{batch.pk} undone: {counts.get('imported', 0):,} created record(s) removed, "
        f"{counts.get('updated', 0):,} updated record(s) restored",
        markup=False,
        highlight=False,
    )
