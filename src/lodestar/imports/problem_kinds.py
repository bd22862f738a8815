"""A batch's problems counted by kind: the same problem on thousands of rows (an owner who is no
member, a product the catalogue lacks, an empty account) read as one line with its count, the
first row it is on, and one of its messages as an example.

The report of the page, the API and the command line starts with these lines; the problems
themselves stay listed row by row after them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Min, QuerySet

from lodestar.imports.models import ImportProblem

__all__ = ["ProblemKind", "problem_kinds"]


@dataclass(frozen=True)
class ProblemKind:
    severity: str
    code: str
    column: str
    count: int
    first_row: int | None
    example: ImportProblem  # the first of them in file order


def problem_kinds(problems: QuerySet[ImportProblem], limit: int = 20) -> list[ProblemKind]:
    """The kinds of `problems` (errors first, then the most frequent), at most `limit` of them;
    one grouped query and one small query per kind for its example."""
    groups = (
        problems.order_by()
        .values("severity", "code", "column")
        .annotate(count=Count("id"), first_row=Min("row"))
        .order_by("severity", "-count", "column", "code")[:limit]
    )
    kinds = []
    for group in groups:
        example = (
            problems.filter(severity=group["severity"], code=group["code"], column=group["column"])
            .order_by("row", "id")
            .first()
        )
        if example is None:  # removed since the count was taken
            continue
        kinds.append(
            ProblemKind(
                severity=group["severity"],
                code=group["code"],
                column=group["column"],
                count=group["count"],
                first_row=group["first_row"],
                example=example,
            )
        )
    return kinds
