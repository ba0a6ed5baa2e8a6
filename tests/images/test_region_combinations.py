"""Issue 17 item 7: negated or combined regions are understood ("everything except the top left"
-> the rest, "don't touch the left" -> the right, "top left and bottom right" -> both) or refused
with a clear reason -- never silently one of the places. English and Korean; property tests."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.errors import UserError
from assistant.images.regions import (EMPTY, UNCLEAR, _cells, describe, find_region, parse_region,
                                      region_mask)

CASES = [
    ("everything except the top left", "all~top-left"),
    ("don't touch the left", "right"),
    ("top left and bottom right", "top-left+bottom-right"),
    ("the left but not the top left", "bottom-left"),
    ("everything except the top left and the bottom right", "all~top-left~bottom-right"),
    ("leave the top left alone", "all~top-left"),
    ("keep the bottom untouched", "top"),
    ("make it blue but do not change the top right", "all~top-right"),
    ("everything but the center", "outside-center"),
    ("the top and the bottom", "all"),
    ("왼쪽 위 빼고", "all~top-left"),
    ("왼쪽 위만 빼고 바다로 바꿔줘", "all~top-left"),
    ("왼쪽 위와 오른쪽 아래", "top-left+bottom-right"),
    ("왼쪽 위랑 오른쪽 아래를 파랗게", "top-left+bottom-right"),
    ("위쪽에서 왼쪽 위 빼고", "top-right"),
    ("왼쪽은 건드리지 마", "right"),
    ("왼쪽은 그대로 두고 오른쪽을 바꿔줘", "right"),
    ("가운데 빼고", "outside-center"),
]
REFUSED = [
    ("don't touch the left and the right", EMPTY), ("left except left", EMPTY),
    ("the left, no, the right", UNCLEAR), ("top left or bottom right", UNCLEAR),
]


@pytest.mark.parametrize("text,expected", CASES + REFUSED)
def test_combinations(text, expected):
    assert find_region(text).name == expected


@pytest.mark.parametrize("text,_", REFUSED)
def test_refusals_are_one_clear_line(text, _):
    with pytest.raises(UserError) as err:
        parse_region(text)
    assert "\n" not in str(err.value) and ("nothing to edit" in str(err.value) or "several places" in str(err.value))


def test_masks_of_combinations_are_exact():
    m = np.asarray(region_mask("all~top-left", (100, 60))) > 0
    assert not m[:30, :50].any() and m[30:, :].all() and m[:30, 50:].all()
    m = np.asarray(region_mask("top-left+bottom-right", (101, 61))) > 0
    assert m[:30, :50].all() and m[30:, 50:].all() and not m[:30, 50:].any() and not m[30:, :50].any()
    with pytest.raises(UserError):
        region_mask(EMPTY, (10, 10))


def test_canonical_expressions_round_trip_and_describe():
    assert parse_region("all~top-left") == "all~top-left"
    assert parse_region("top-left+bottom-right") == "top-left+bottom-right"
    assert describe("all~top-left") == "everything but the top left"
    assert describe("top-left+bottom-right") == "the top left and the bottom right"
    assert describe("all~top-left", "ko") == "왼쪽 위만 빼고 전부"
    assert describe("left~top-left") == "the left half except the top left"


# ---------------------------------------------------------------- properties
EN = {"top-left": ["the top left", "the upper left corner"], "bottom-right": ["the bottom right", "the lower right"],
      "top-right": ["the top right"], "bottom-left": ["the bottom left corner"], "left": ["the left half", "the left"],
      "right": ["the right side"], "top": ["the top half"], "bottom": ["the bottom half"], "center": ["the centre"]}
KO = {"top-left": ["왼쪽 위", "좌상단"], "bottom-right": ["오른쪽 아래"], "top-right": ["오른쪽 위"],
      "bottom-left": ["왼쪽 아래"], "left": ["왼쪽"], "right": ["오른쪽"], "top": ["위쪽"], "bottom": ["아래쪽"],
      "center": ["가운데"]}


def _batchim(word: str) -> bool:
    code = ord(word[-1]) - 0xAC00
    return 0 <= code < 11172 and code % 28 != 0


def _cells_or_none(expr: str):
    cells = _cells(expr)
    return cells or None


place = st.sampled_from(sorted(EN))


@settings(max_examples=300, deadline=None)
@given(a=place, b=place, data=st.data(), form=st.sampled_from(["one", "except", "dont", "and", "but_not",
                                                                 "ko_one", "ko_except", "ko_and", "ko_from"]))
def test_phrases_mean_what_they_say(a, b, data, form):
    pa, pb = data.draw(st.sampled_from(EN[a])), data.draw(st.sampled_from(EN[b]))
    ka, kb = data.draw(st.sampled_from(KO[a])), data.draw(st.sampled_from(KO[b]))
    text, expected = {
        "one": (f"paint {pa} blue", a),
        "except": (f"everything except {pa}", f"all~{a}"),
        "dont": (f"make it night but don't touch {pa}", f"all~{a}"),
        "and": (f"{pa} and {pb}", f"{a}+{b}"),
        "but_not": (f"{pa} but not {pb}", f"{a}~{b}"),
        "ko_one": (f"{ka}를 파랗게", a),
        "ko_except": (f"{ka}만 빼고 바꿔줘", f"all~{a}"),
        "ko_and": (f"{ka}{'과' if _batchim(ka) else '와'} {kb}", f"{a}+{b}"),
        "ko_from": (f"{ka}에서 {kb} 빼고", f"{a}~{b}"),
    }[form]
    match = find_region(text)
    assert match is not None, text
    want = _cells_or_none(expected)
    if want is None:   # nothing left: refused, never a region
        assert match.name == EMPTY, (text, match)
        with pytest.raises(UserError):
            parse_region(text)
    else:
        assert not match.name.startswith("!"), (text, match)
        assert _cells(match.name) == want, (text, match.name, expected)
        assert parse_region(text) == match.name
        assert region_mask(match.name, (24, 24)).getbbox() is not None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["the top left", "the left", "and", "except", "but", "no", ",", "or", "the right",
                                 "don't touch", "everything", "왼쪽", "빼고", "와", "the centre", "maybe", "blue"]),
                min_size=1, max_size=8).map(" ".join))
def test_any_phrase_is_a_region_a_refusal_or_nothing(text):
    """Never an exception, and two or more places never come back as exactly one of them
    unless the combination really is that region."""
    match = find_region(text)
    if match is None:
        with pytest.raises(UserError):
            parse_region(text)
        return
    if match.name.startswith("!"):
        with pytest.raises(UserError):
            parse_region(text)
    else:
        assert _cells(match.name)
        region_mask(match.name, (12, 12))
