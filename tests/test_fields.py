"""Input field types shared by every API operation (`lodestar.fields`)."""

from lodestar.fields import _error


def test_a_translated_problem_keeps_the_braces_it_quotes() -> None:
    problem = _error("json_too_deep", "The key “{stage}” nests too deep; flatten it.")

    assert problem.message() == "The key “{stage}” nests too deep; flatten it."
    assert problem.type == "json_too_deep"
