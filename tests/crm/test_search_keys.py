"""Search keys and the resemblance of company names: Chinese text, pinyin initials, full pinyin."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lodestar.crm.search_keys import (
    Resemblance,
    full_pinyin,
    initials,
    looks_like,
    name_forms,
    normalize,
    query_key,
    search_key,
)

HUADONG = name_forms("华东机械有限公司")


def test_it_keeps_the_name_its_initials_and_its_full_pinyin() -> None:
    assert search_key("华东机械有限公司") == ("华东机械有限公司|hdjxyxgs|huadongjixieyouxiangongsi")


def test_it_reads_polyphonic_characters_in_their_words() -> None:
    assert full_pinyin("重庆长虹") == "chongqingchanghong"
    assert initials("重庆长虹") == "cqch"


def test_it_folds_case_width_spaces_and_punctuation() -> None:
    assert normalize(" ＡＢＣ（上海）Co., Ltd. ") == "abc上海coltd"
    assert query_key("Huadong  JIXIE") == "huadongjixie"


def test_it_keeps_latin_names_as_they_are() -> None:
    assert search_key("Siemens AG") == "siemensag"


@pytest.mark.parametrize("query", ["华东机械", "东机", "hdjx", "huadong jixie", "HuaDongJiXie"])
def test_it_finds_a_name_by_any_of_its_forms(query: str) -> None:
    assert query_key(query) in search_key("华东机械有限公司")


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("华东机械", Resemblance.SAME_NAME),
        ("华东机械股份有限公司", Resemblance.SAME_NAME),
        ("上海华东机械有限公司", Resemblance.CONTAINS),
        ("华东", Resemblance.CONTAINS),
        ("华东机协", Resemblance.SAME_PINYIN),
        ("huadong jixie", Resemblance.SAME_PINYIN),
        ("hdjx", Resemblance.PINYIN_INITIALS),
        ("hdj", Resemblance.PINYIN_PREFIX),
        ("huadong", Resemblance.PINYIN_PREFIX),
    ],
)
def test_it_says_why_a_typed_name_may_be_an_existing_account(
    typed: str, reason: Resemblance
) -> None:
    assert looks_like(name_forms(typed), HUADONG) is reason


@pytest.mark.parametrize("typed", ["华南重工", "hd", "hnzg", "苏州精工", "有限公司", "h"])
def test_it_does_not_call_other_names_duplicates(typed: str) -> None:
    assert looks_like(name_forms(typed), HUADONG) is None


# Common characters of company names, so that generated names read like real ones.
NAME_CHARACTERS = "华东南北机械电气重工精密模具科技贸易新材料汽车部件"
HANZI = st.text(alphabet=NAME_CHARACTERS, min_size=2, max_size=8)
LEGAL_FORMS = st.sampled_from(["有限公司", "股份有限公司", "有限责任公司", "集团有限公司", ""])


@settings(max_examples=200, deadline=None)
@given(core=HANZI, form=LEGAL_FORMS, other_form=LEGAL_FORMS)
def test_any_legal_form_of_a_name_is_a_duplicate_of_it(
    core: str, form: str, other_form: str
) -> None:
    existing = name_forms(core + form)
    assert looks_like(name_forms(core + other_form), existing) is Resemblance.SAME_NAME
    # … and so is its core typed as initials or as full pinyin, with spaces or without.
    assert looks_like(name_forms(existing.initials), existing) is not None
    spaced = " ".join(existing.full[i : i + 3] for i in range(0, len(existing.full), 3))
    assert looks_like(name_forms(spaced), existing) is not None


@settings(max_examples=200, deadline=None)
@given(name=HANZI, start=st.integers(0, 7), length=st.integers(1, 8))
def test_any_piece_of_a_name_finds_it(name: str, start: int, length: int) -> None:
    piece = name[start : start + length]
    key = search_key(name)
    if piece:
        assert query_key(piece) in key
    assert initials(name) in key
    assert full_pinyin(name) in key
