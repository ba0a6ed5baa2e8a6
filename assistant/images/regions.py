"""Spoken regions ("the top left", "왼쪽 위", "everything but the centre") -> canonical names -> masks.

Pure: text matching and mask geometry only. A region is a union of boxes given as fractions of
the image (x0, y0, x1, y1); pixel edges are ``floor(size * fraction)``, so complementary regions
(left/right, center/outside-center) tile the image exactly with no gap or overlap.

Several places in one phrase combine, never silently reduce to one: "A and B" / "A와 B" is the
union ("top-left+bottom-right"), "everything except A", "don't touch A", "A 빼고" the rest
("all~top-left"), "A but not B" / "A에서 B 빼고" the difference ("left~top-left"). A phrase that
leaves nothing to edit, or places joined by anything else ("the left, no, the right"), is refused
with a clear reason (a name starting with "!": parse_region raises UserError).
"""
from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass
from fractions import Fraction as F
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter

from ..errors import UserError

REGION_NAMES: tuple[str, ...] = (
    "left", "right", "top", "bottom",
    "top-left", "top-right", "bottom-left", "bottom-right",
    "left-third", "center-third", "right-third",
    "top-third", "middle-third", "bottom-third",
    "center", "outside-center", "all",
)

_0, _1, _H, _T, _2T, _Q, _3Q = F(0), F(1), F(1, 2), F(1, 3), F(2, 3), F(1, 4), F(3, 4)

# name -> (box, inverted): the edit area is the box, or everything outside it when inverted.
# "center" is the middle half in both directions (the central quarter of the area).
_GEOMETRY: dict[str, tuple[tuple[F, F, F, F], bool]] = {
    "left": ((_0, _0, _H, _1), False),
    "right": ((_H, _0, _1, _1), False),
    "top": ((_0, _0, _1, _H), False),
    "bottom": ((_0, _H, _1, _1), False),
    "top-left": ((_0, _0, _H, _H), False),
    "top-right": ((_H, _0, _1, _H), False),
    "bottom-left": ((_0, _H, _H, _1), False),
    "bottom-right": ((_H, _H, _1, _1), False),
    "left-third": ((_0, _0, _T, _1), False),
    "center-third": ((_T, _0, _2T, _1), False),
    "right-third": ((_2T, _0, _1, _1), False),
    "top-third": ((_0, _0, _1, _T), False),
    "middle-third": ((_0, _T, _1, _2T), False),
    "bottom-third": ((_0, _2T, _1, _1), False),
    "center": ((_Q, _Q, _3Q, _3Q), False),
    "outside-center": ((_Q, _Q, _3Q, _3Q), True),
    "all": ((_0, _0, _1, _1), False),
}

_DESCRIBE = {
    "en": {
        "left": "the left half", "right": "the right half", "top": "the top half", "bottom": "the bottom half",
        "top-left": "the top left", "top-right": "the top right",
        "bottom-left": "the bottom left", "bottom-right": "the bottom right",
        "left-third": "the left third", "center-third": "the centre column", "right-third": "the right third",
        "top-third": "the top third", "middle-third": "the middle band", "bottom-third": "the bottom third",
        "center": "the centre", "outside-center": "everything but the centre", "all": "the whole image",
    },
    "ko": {
        "left": "왼쪽", "right": "오른쪽", "top": "위쪽", "bottom": "아래쪽",
        "top-left": "왼쪽 위", "top-right": "오른쪽 위", "bottom-left": "왼쪽 아래", "bottom-right": "오른쪽 아래",
        "left-third": "왼쪽 3분의 1", "center-third": "가운데 세로 3분의 1", "right-third": "오른쪽 3분의 1",
        "top-third": "위쪽 3분의 1", "middle-third": "가운데 가로 3분의 1", "bottom-third": "아래쪽 3분의 1",
        "center": "가운데", "outside-center": "가운데를 뺀 나머지", "all": "전체",
    },
}

# ----------------------------------------------------------------------------- phrase tables
# English: a space means "any run of spaces, hyphens, underscores, commas or dots"; matching is
# case-insensitive on word boundaries; a leading "the" and a trailing "of the image" are absorbed.
_L, _R = "(?:left|left hand)", "(?:right|right hand)"
_TOP, _BOT = "(?:top|upper)", "(?:bottom|lower)"
_MID = "(?:center|centre|middle)"
_CORNER = "(?: (?:corner|quadrant|quarter|part|side|area|section|region|portion|bit))?"
_HALF = "(?: (?:half|side|part|area|section|region|portion|bit|edge))?"
_THIRD = " third"

_EN: dict[str, tuple[str, ...]] = {
    "top-left": (f"{_TOP} {_L}{_CORNER}", f"{_L} {_TOP}{_CORNER}", "northwest(?: corner)?"),
    "top-right": (f"{_TOP} {_R}{_CORNER}", f"{_R} {_TOP}{_CORNER}", "northeast(?: corner)?"),
    "bottom-left": (f"{_BOT} {_L}{_CORNER}", f"{_L} {_BOT}{_CORNER}", "southwest(?: corner)?"),
    "bottom-right": (f"{_BOT} {_R}{_CORNER}", f"{_R} {_BOT}{_CORNER}", "southeast(?: corner)?"),
    "left": (f"{_L}{_HALF}",),
    "right": (f"{_R}{_HALF}",),
    "top": (f"{_TOP}{_HALF}", "upper part"),
    "bottom": (f"{_BOT}{_HALF}",),
    "left-third": (f"{_L}{_THIRD}", f"left(?:most)?{_THIRD}", "left column"),
    "right-third": (f"{_R}{_THIRD}", f"right(?:most)?{_THIRD}", "right column"),
    "center-third": (f"(?:center|centre){_THIRD}", f"{_MID} (?:column|vertical third|vertical strip)",
                     f"vertical {_MID} third"),
    "top-third": (f"{_TOP}{_THIRD}", "top row", "top band"),
    "middle-third": (f"middle{_THIRD}", f"{_MID} (?:band|row|horizontal third|horizontal strip)",
                     f"horizontal {_MID} third"),
    "bottom-third": (f"{_BOT}{_THIRD}", "bottom row", "bottom band"),
    "center": (f"{_MID}(?: (?:part|area|section|region|bit|portion))?", "dead center", "dead centre"),
    "outside-center": (
        f"(?:everything|all|anything|the rest) (?:but|except|except for|apart from|other than|outside|around) (?:the )?{_MID}",
        f"all but (?:the )?{_MID}", f"(?:outside|around) (?:of )?(?:the )?{_MID}",
        "edges", "borders?", "(?:outer|outside) (?:part|area|ring|edge|edges)", "surroundings",
    ),
    "all": ("everything", "(?:whole|entire|full) (?:image|picture|photo|thing|canvas)", "all of it",
            "the whole", "whole thing"),
}

# Korean: particles may sit between and after the words ("가운데를 빼고", "왼쪽 위에").
_KL, _KR = "(?:왼쪽|왼편|좌측)", "(?:오른쪽|오른편|우측)"
_KT, _KB = "(?:위쪽|위|윗쪽|상단|윗부분)", "(?:아래쪽|아래|아랫쪽|하단|아랫부분)"
_KM = "(?:가운데|중앙|한가운데|정중앙|중간|중심)"
_K3 = "(?:3분의 ?1|삼분의 ?일|3분의1)"
_KO: dict[str, tuple[str, ...]] = {
    "top-left": (f"{_KL} {_KT}", f"{_KT} {_KL}", "좌상단", "좌상"),
    "top-right": (f"{_KR} {_KT}", f"{_KT} {_KR}", "우상단", "우상"),
    "bottom-left": (f"{_KL} {_KB}", f"{_KB} {_KL}", "좌하단", "좌하"),
    "bottom-right": (f"{_KR} {_KB}", f"{_KB} {_KR}", "우하단", "우하"),
    "left": (f"{_KL}(?: 절반| 반쪽| 반)?",),
    "right": (f"{_KR}(?: 절반| 반쪽| 반)?",),
    "top": (f"{_KT}(?: 절반| 반쪽| 반)?", "윗면"),
    "bottom": (f"{_KB}(?: 절반| 반쪽| 반)?",),
    "left-third": (f"{_KL} {_K3}",),
    "right-third": (f"{_KR} {_K3}",),
    "center-third": (f"{_KM} 세로 {_K3}", f"{_KM} 세로줄", f"세로 {_KM}"),
    "top-third": (f"{_KT} {_K3}",),
    "middle-third": (f"{_KM} 가로 {_K3}", f"{_KM} {_K3}", f"{_KM} 가로줄", f"가로 {_KM}"),
    "bottom-third": (f"{_KB} {_K3}",),
    "center": (f"{_KM}(?: 부분)?",),
    "outside-center": (
        f"{_KM}(?: 부분)? (?:빼고|말고|제외하고|제외한|뺀|빼놓고|빼곤)(?: 나머지| 전부| 다| 모두)?",
        f"{_KM}(?: 부분)? (?:바깥|바깥쪽|밖|주변|주위|둘레)",
        "가장자리", "테두리", "외곽", "주변부",
    ),
    "all": ("전체", "전부", "그림 전체", "이미지 전체", "사진 전체", "온통"),
}

_EN_SEP = r"[\s\-_,.]+"
_KO_PARTICLE = r"(?:을|를|은|는|이|가|에서|에는|에|의|도|만|으로|로|과|와|이랑|랑|하고|까지|부터|쪽)"
# between the words of one place only particles that bind them ("왼쪽의 위"); 와/과 (and) and 에서
# (from) join two places ("왼쪽 위와 오른쪽 아래", "위쪽에서 왼쪽 위 빼고")
_KO_INNER = r"(?:을|를|은|는|이|가|에는|에|의|만|으로|로|쪽)"
_KO_SEP = rf"(?:\s*{_KO_INNER}?\s*|[\s\-_,.]+)"


def _en_regex(phrase: str) -> str:
    body = phrase.replace(" ", _EN_SEP)
    return rf"(?<![\w'])(?:the{_EN_SEP})?{body}(?:{_EN_SEP}of{_EN_SEP}(?:it|(?:the|this|that){_EN_SEP}(?:image|picture|photo|drawing|canvas)))?(?![\w'])"


def _ko_regex(phrase: str) -> str:
    body = phrase.replace(" ", _KO_SEP)
    # Hangul is a word character: demand a boundary before and a particle or boundary after.
    return rf"(?<!\w){body}(?={_KO_PARTICLE}*(?:\W|$))"


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    out: list[tuple[str, re.Pattern[str]]] = []
    for table, build in ((_EN, _en_regex), (_KO, _ko_regex)):
        for name, phrases in table.items():
            for phrase in phrases:
                out.append((name, re.compile(build(phrase), re.IGNORECASE)))
    return tuple(out)


@dataclass(frozen=True)
class RegionMatch:
    name: str
    start: int
    end: int


def find_region(text: str) -> RegionMatch | None:
    """The region named in ``text`` (English or Korean), or None: one place, or a combination of
    places (see the module doc) as a canonical expression, or a refusal ("!empty", "!unclear")."""
    places = _places(text)
    if not places:
        return None
    return _combine(text, places)


def _single(text: str) -> RegionMatch | None:
    """The longest single place in ``text`` (the grammar before combinations)."""
    found: list[RegionMatch] = []
    rejected: list[tuple[int, int]] = []
    for name, pattern in _patterns():
        for m in pattern.finditer(text):
            if m.end() == m.start():
                continue
            if _plausible(text, m.start(), m.end()):
                found.append(RegionMatch(name, m.start(), m.end()))
            else:
                rejected.append((m.start(), m.end()))
    # a candidate inside a rejected match is dropped; sorted starts and a running max of the ends
    # make that one bisection (a long text has thousands of matches: no pairwise scan)
    rejected.sort()
    starts = [s for s, _ in rejected]
    reach = list(itertools.accumulate((e for _, e in rejected), max))
    best: RegionMatch | None = None
    for cand in found:
        i = bisect.bisect_right(starts, cand.start) - 1
        if i >= 0 and reach[i] >= cand.end:
            continue
        if best is None or _better(cand, best):
            best = cand
    return best


# A bare direction word that is really a relation or an idiom: "to the left of the tree", "on top
# of the car", "right now", "nothing left", "고양이 위에" (on the cat). "of the image" is absorbed
# into the match itself, so an "of" right after a match means a relation to something else.
_EN_AFTER_REJECT = re.compile(r"[\s\-_,.]+(?:of|now|away|after|before|then|there|here|back|over|behind)(?![\w'])",
                              re.IGNORECASE)
_EN_BEFORE_REJECT = re.compile(r"(?<![\w'])(?:on|all|nothing|anything|something|that's|thats|you're|youre)[\s\-_,.]+$",
                               re.IGNORECASE)
_KO_BARE = {"위", "아래"}
_LOOK_BACK = 48  # characters before a match that its plausibility depends on (the longest word or two)
_KO_CANVAS = {"그림", "사진", "이미지", "화면", "그림의", "사진의", "이미지의", "화면의"}


def _plausible(text: str, start: int, end: int) -> bool:
    phrase = text[start:end]
    if phrase[:1].isascii():
        words = phrase.lower().split()
        if _EN_AFTER_REJECT.match(text, end):
            return False
        if len(words) == 1 and _EN_BEFORE_REJECT.search(text, max(0, start - _LOOK_BACK), start):
            return False
        return True
    if phrase in _KO_BARE:
        head = text[max(0, start - _LOOK_BACK):start]  # only the word before matters (and a long text is long)
        before = head.rstrip().split()
        if before and before[-1] not in _KO_CANVAS and not head.endswith(tuple("\n,.")):
            return False
    return True


def _better(a: RegionMatch, b: RegionMatch) -> bool:
    la, lb = a.end - a.start, b.end - b.start
    return la > lb or (la == lb and a.start < b.start)


def known_regions_text() -> str:
    return ", ".join(REGION_NAMES)


def parse_region(text: str) -> str:
    """A canonical region name or expression for ``text`` (canonical ones are accepted as they are)
    or UserError: unknown, leaves nothing to edit, or places joined in a way we cannot read."""
    cleaned = (text or "").strip()
    if _is_canonical(cleaned.lower()):
        name = cleaned.lower()
    else:
        match = find_region(cleaned)
        if match is None:
            raise UserError(f"unknown region {cleaned!r}: only these regions are understood: {known_regions_text()} "
                            "(e.g. 'top left', 'the centre', 'everything but the middle', '왼쪽 위', '가운데')")
        name = match.name
    if name == EMPTY:
        raise UserError(f"the region {cleaned!r} leaves nothing to edit; name the part to change "
                        "(e.g. 'everything except the top left')")
    if name == UNCLEAR:
        raise UserError(f"the region {cleaned!r} names several places and I can't tell how they combine; "
                        "say one place, 'A and B', or 'everything except A'")
    return name


# ----------------------------------------------------------------------------- combinations
EMPTY, UNCLEAR = "!empty", "!unclear"
_UNION, _MINUS, _FROM = "+", "~", "from"

_EN_UNION = {"", "and", "&", "plus", "as well as", "along with", "together with", "and also", "and both"}
_EN_MINUS = {"except", "except for", "but", "but not", "apart from", "other than", "without", "minus",
             "excluding", "save", "save for", "and not", "not", "aside from", "leaving out", "but leave",
             "but keep", "but don't touch", "but do not touch", "except in"}
_KO_UNION = {"", "와", "과", "하고", "랑", "이랑", "및", "그리고", "와 그리고", "과 그리고", "또"}
_KO_FROM = {"에서", "중에서", "중"}
_EN_WORD = re.compile(r"[a-z&']+")
_EN_NEGATE_BEFORE = re.compile(
    r"(?:(?:don'?t|do not|never|not|without)(?: [a-z']+){0,4} (?:touch|change|edit|modify|alter|paint|"
    r"repaint|affect)(?: anything(?: in)?)?|not|except|except for|anything but|all but|anything except|"
    r"anything other than|everything other than|leave|keep|protect|preserve|mask out)$")
_EN_NEGATE_AFTER = re.compile(r"^[\s,.]*(?:untouched|unchanged|intact|as (?:it )?is|the same|alone)(?![\w'])", re.I)
_KO_NEGATE_AFTER = re.compile(
    r"^\s*(?:만|은|는|을|를|도)?\s*(?:빼고|빼곤|빼놓고|뺀|빼|말고|제외하고|제외한|제외|그대로|건드리지|손대지|"
    r"놔두고|남겨두고|남기고)")


def _places(text: str) -> list[RegionMatch]:
    """Every place named in ``text``, non-overlapping (longest first), in reading order."""
    found: list[RegionMatch] = []
    rest = text
    taken: list[tuple[int, int]] = []
    # repeatedly take the longest remaining match, blanking what was taken
    while True:
        m = _single(rest)
        if m is None:
            break
        found.append(m)
        taken.append((m.start, m.end))
        rest = rest[:m.start] + "\x00" * (m.end - m.start) + rest[m.end:]
        if len(found) > 8:
            break
    return sorted(found, key=lambda m: m.start)


def _gap(text: str) -> str:
    """The words between two places, lower case, "the"/"both"/punctuation dropped."""
    if re.search(r"[\uac00-\ud7af]", text):
        return " ".join(re.sub(r"[\s,.\-_]+", " ", text).split())
    words = [w for w in _EN_WORD.findall(text.lower()) if w not in ("the", "both", "of", "it")]
    return " ".join(words)


def _combine(text: str, places: list[RegionMatch]) -> RegionMatch:
    """Read the connectors between places and the negation around them into one expression."""
    start, end = places[0].start, places[-1].end
    before = _gap(text[:start])
    after = text[end:]
    negated = False
    m = _EN_NEGATE_BEFORE.search(before) if before.isascii() else None
    if m is not None:
        negated = True
        start = _prefix_start(text, start, m.group(0))
    tail = _EN_NEGATE_AFTER.match(after) or _KO_NEGATE_AFTER.match(after)
    if tail is not None:
        alone = tail.group(0).strip().lower() == "alone"
        if not alone or (m is not None and m.group(0).startswith(("leave", "keep"))):
            negated = True
            end += tail.end()
    ops: list[str] = []
    minus_started = False
    names = [p.name for p in places]
    if len(places) == 2 and not negated:  # "왼쪽은 그대로 두고 오른쪽", "keep the left as is, change the right"
        between = text[places[0].end:places[1].start]
        kept = _EN_NEGATE_AFTER.match(between) or _KO_NEGATE_AFTER.match(between)
        if kept is not None and kept.group(0).strip().lower() != "alone":
            return _result(f"{names[1]}{_MINUS}{names[0]}", start, end)
    for a, b in zip(places, places[1:]):
        gap = _gap(text[a.end:b.start])
        if gap in _EN_UNION or gap in _KO_UNION:
            ops.append(_MINUS if minus_started else _UNION)
        elif gap in _EN_MINUS:
            ops.append(_MINUS)
            minus_started = True
        elif gap in _KO_FROM:
            ops.append(_FROM)
        else:
            return RegionMatch(UNCLEAR, start, end)
    if _FROM in ops:  # "A에서 B 빼고": only as A ~ B with the negation after B
        if names[1:] == ["outside-center"] and not negated:  # "A에서 가운데 빼고" = A without the centre
            names, negated = [names[0], "center"], True
        if len(names) != 2 or not negated:
            return RegionMatch(UNCLEAR, start, end)
        return _result(f"{names[0]}{_MINUS}{names[1]}", start, end)
    if negated:
        if _MINUS in ops:
            return RegionMatch(UNCLEAR, start, end)  # a negation of a difference: too tangled
        expr = "all" + "".join(_MINUS + n for n in names)
    else:
        expr = names[0] + "".join(op + n for op, n in zip(ops, names[1:]))
    return _result(expr, start, end)


def _prefix_start(text: str, start: int, words: str) -> int:
    """Where the negating words before a place begin in ``text`` (they belong to the region)."""
    first = words.split()[0]
    idx = text.lower().rfind(first, 0, start)
    return idx if idx >= 0 else start


def _result(expr: str, start: int, end: int) -> RegionMatch:
    expr = _simplify(expr)
    return RegionMatch(EMPTY if not _cells(expr) else expr, start, end)


def _simplify(expr: str) -> str:
    """Spell an expression the simplest way: a single name when it is exactly one region."""
    cells = _cells(expr)
    for name in REGION_NAMES:
        if _cells(name) == cells:
            return name
    return expr


def _terms(expr: str) -> list[tuple[str, str]]:
    """"a+b~c" -> [("+", "a"), ("+", "b"), ("~", "c")]."""
    out, op, cur = [], _UNION, ""
    for ch in expr:
        if ch in (_UNION, _MINUS):
            out.append((op, cur))
            op, cur = ch, ""
        else:
            cur += ch
    out.append((op, cur))
    return out


def _is_canonical(expr: str) -> bool:
    return bool(expr) and all(name in _GEOMETRY for _op, name in _terms(expr))


GRID = 12  # every region edge is a multiple of 1/12 (halves, thirds, quarters)


@lru_cache(maxsize=512)
def _cells(expr: str) -> frozenset[tuple[int, int]]:
    """The 1/12 x 1/12 cells an expression covers (exact: all edges fall on the grid)."""
    out: set[tuple[int, int]] = set()
    for op, name in _terms(expr):
        (x0, y0, x1, y1), inverted = _check(name)
        cells = {(i, j) for i in range(GRID) for j in range(GRID)
                 if (x0 * GRID <= i < x1 * GRID and y0 * GRID <= j < y1 * GRID) != inverted}
        out = out | cells if op == _UNION else out - cells
    return frozenset(out)


def _check(name: str) -> tuple[tuple[F, F, F, F], bool]:
    try:
        return _GEOMETRY[name]
    except KeyError:
        raise UserError(f"unknown region {name!r}: only these regions are understood: {known_regions_text()}") from None


def region_box(name: str, size: tuple[int, int]) -> tuple[tuple[int, int, int, int], bool]:
    """Pixel box (x0, y0, x1, y1; x1/y1 exclusive) and whether the edit area is its outside."""
    (fx0, fy0, fx1, fy1), inverted = _check(name)
    w, h = size
    return (int(w * fx0), int(h * fy0), int(w * fx1), int(h * fy1)), inverted


def region_mask(name: str, size: tuple[int, int], feather: int = 0) -> Image.Image:
    """Mode "L" mask of ``size``: 255 = area to edit, 0 = keep. ``feather`` > 0 blurs the edges
    (radius in pixels); the API mask later thresholds it at 128, so feathering mostly matters for
    previews and for blending the result back. ``name`` may be an expression ("a+b", "all~a")."""
    from PIL import ImageChops

    w, h = size
    if w <= 0 or h <= 0:
        raise UserError(f"invalid image size {w}x{h}")
    if name.startswith("!"):
        parse_region(name)  # raises the refusal
    mask = Image.new("L", (w, h), 0)
    for op, term in _terms(name):
        (x0, y0, x1, y1), inverted = region_box(term, size)
        part = Image.new("L", (w, h), 255 if inverted else 0)
        if x1 > x0 and y1 > y0:
            ImageDraw.Draw(part).rectangle((x0, y0, x1 - 1, y1 - 1), fill=0 if inverted else 255)
        mask = ImageChops.lighter(mask, part) if op == _UNION else ImageChops.subtract(mask, part)
    if feather > 0:
        mask = mask.filter(ImageFilter.GaussianBlur(feather))
    return mask


def describe(name: str, language: str = "en") -> str:
    """How to say the region back to the user: "the top left", "왼쪽 위", "everything but the
    top left", "왼쪽 위만 빼고 전부"."""
    ko = language.lower().startswith("ko")
    table = _DESCRIBE["ko" if ko else "en"]
    terms = _terms(name)
    for _op, term in terms:
        _check(term)
    if len(terms) == 1:
        return table[name]
    plus = [table[t] for op, t in terms if op == _UNION]
    minus = [table[t] for op, t in terms if op == _MINUS]
    join = ", ".join if ko else " and ".join
    if ko:
        kept = "전부" if plus == [table["all"]] else join(plus)
        return f"{join(minus)}만 빼고 {kept}" if minus and kept == "전부" else \
            (f"{kept}에서 {join(minus)} 빼고" if minus else kept)
    if not minus:
        return join(plus)
    if plus == [table["all"]]:
        return f"everything but {join(minus)}"
    return f"{join(plus)} except {join(minus)}"
