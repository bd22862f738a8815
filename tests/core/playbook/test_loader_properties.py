"""Property tests: no text makes the loader crash; every problem it reports is located."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lodestar.core.playbook import LocatedError, check_playbook
from tests.core.samples import SEED_PLAYBOOK

LINES = SEED_PLAYBOOK.splitlines()
YAML_BITS = st.sampled_from(
    [
        ":",
        "- ",
        "  ",
        "\t",
        "{",
        "}",
        "[",
        "]",
        '"',
        "'",
        "|",
        ">",
        "&a",
        "*a",
        "!!str",
        "#",
        "\n",
        "？",
        "已确认",
        "~",
        "null",
        "@",
        "%",
    ]
)
_settings = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _assert_located(errors: list[LocatedError], text: str) -> None:
    for error in errors:
        assert error.file == "fuzz.yaml"
        assert 1 <= error.line <= max(len(text.splitlines()), 1) + 1
        assert error.column >= 1
        assert error.path
        assert error.message


@_settings
@given(text=st.text(max_size=300))
def test_any_text_gives_a_playbook_or_located_errors(text: str) -> None:
    errors = check_playbook(text, "fuzz.yaml")

    assert errors  # random text is never a valid playbook
    _assert_located(errors, text)


@_settings
@given(
    line=st.integers(0, len(LINES) - 1),
    column=st.integers(0, 40),
    bits=st.lists(YAML_BITS, min_size=1, max_size=4),
)
def test_a_damaged_seed_playbook_gives_located_errors(
    line: int, column: int, bits: list[str]
) -> None:
    damaged = list(LINES)
    target = damaged[line]
    damaged[line] = target[:column] + "".join(bits) + target[column:]
    text = "\n".join(damaged) + "\n"

    _assert_located(check_playbook(text, "fuzz.yaml"), text)


@_settings
@given(drop=st.sets(st.integers(0, len(LINES) - 1), min_size=1, max_size=3))
def test_a_seed_playbook_with_lines_missing_gives_located_errors(drop: set[int]) -> None:
    text = "\n".join(line for i, line in enumerate(LINES) if i not in drop) + "\n"

    _assert_located(check_playbook(text, "fuzz.yaml"), text)


CEL_BITS = st.sampled_from(
    [
        "deal.amount",
        "fields.budget_confirmed",
        "contacts",
        "c",
        ".",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        ",",
        "&&",
        "||",
        "!",
        "==",
        ">=",
        "+",
        "-",
        "*",
        "/",
        "%",
        "?",
        ":",
        "1",
        "1.0",
        "'x'",
        '"已确认"',
        "true",
        "null",
        "size",
        "exists",
        "filter",
        "has",
        "in",
        " ",
        "\n",
        "c.is_decision_maker",
        "now",
        "duration('1h')",
        "timestamp(",
        "\\",
        "'",
        '"',
        "r'",
        "b'",
        "0x1F",
        "1u",
        "1e9",
        "'''",
    ]
)


@_settings
@given(pieces=st.lists(CEL_BITS, max_size=12) | st.lists(st.text(max_size=5), max_size=6))
def test_any_cel_text_gives_a_valid_rule_or_errors_inside_the_expression(pieces: list[str]) -> None:
    expression = "".join(pieces)
    text = SEED_PLAYBOOK.replace('"deal.amount >= 10000.0"', json.dumps(expression))

    errors = check_playbook(text, "fuzz.yaml")

    _assert_located(errors, text)
    cel_line = next(i for i, line in enumerate(text.splitlines(), 1) if "cel:" in line)
    for error in errors:
        if error.path == "stages[3].exit[1].cel":
            assert error.line >= cel_line
