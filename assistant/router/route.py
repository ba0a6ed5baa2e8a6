"""The intent router: text -> Intent, pure and table-driven (English + Korean).

Steps: normalize (length-preserving, so spans map back to the user's text) -> blank filler
words -> strip fillers from the edges -> try the simple kinds (stop, translate, help, repeat,
say, settings, variation) in both languages' tables, the spoken language first -> draw (with
spoken options blanked) -> edit (with the spoken region blanked) -> stop words -> unknown.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Callable, Iterable

from . import patterns_en, patterns_ko
from .intents import OPTION_KEYS, Intent, Rule
from .normalize import compile_pattern, detect_language, has_batchim, mask, normalize, prepare, tidy

_EVERYDAY = ("clock", "timer_set", "alarm_set", "timer_list", "timer_cancel", "volume",
             "undo", "show_image", "previous_image")
_SIMPLE = ("stop", "translate_off", "translate_on", "help", "repeat", "say", "setting", "variation", *_EVERYDAY)
_NO_TAIL_STRIP = {"say"}  # "say thank you" keeps its words
_SEGMENT_SPLIT = re.compile(r"[,;.!?:]")
# Longer text is no command (30 s of speech is ~500 characters): it goes to chat or the help reply.
# The tables and the region grammar scan the whole text, and route() runs on the event loop, so a
# megabyte typed into `ask` or the web page would hold every session for minutes.
MAX_COMMAND_CHARS = 2000
_KO_TRAILERS = re.compile(r"(?:\s*(?:좀|하나|한\s*장|한\s*개|하나만))+\s*$")


@dataclass(frozen=True)
class _Table:
    code: str
    rules: tuple[tuple[Rule, re.Pattern[str]], ...]
    fill_start: re.Pattern[str]
    fill_end: re.Pattern[str]
    filler_words: re.Pattern[str]
    options: tuple[tuple[re.Pattern[str], str, str], ...]
    segment_options: dict[str, tuple[str, str]]
    values: dict[str, str]
    region_before: re.Pattern[str]
    region_after: re.Pattern[str]
    stop_words: re.Pattern[str]
    not_stop: re.Pattern[str]
    req_tail: re.Pattern[str] | None


def _table(mod: ModuleType, code: str) -> _Table:
    space = mod.SPACE
    start = mod.FILLERS_START.replace(" ", space)
    end = mod.FILLERS_END.replace(" ", space)
    req = getattr(mod, "REQ", None)
    return _Table(
        code=code,
        rules=tuple((r, compile_pattern(r.pattern, space)) for r in mod.RULES),
        fill_start=re.compile(r"\s*(?:" + start + r")(?:\s+|$)"),
        fill_end=re.compile(r"(?:^|\s)(?:" + end + r")\s*$"),
        filler_words=re.compile(r"(?<![\w'])(?:" + mod.FILLER_WORDS + r")(?![\w'])"),
        options=tuple((re.compile(r"(?<![\w'])(?:" + p.replace(" ", space) + r")(?![\w'])"), k, v) for p, k, v in mod.OPTIONS),
        segment_options=mod.SEGMENT_OPTIONS,
        values=mod.VALUES,
        region_before=re.compile(mod.REGION_BEFORE.replace(" ", r"\s+") if code == "en" else mod.REGION_BEFORE),
        region_after=re.compile(mod.REGION_AFTER.replace(" ", r"\s+") if code == "en" else mod.REGION_AFTER),
        stop_words=re.compile(mod.STOP_WORDS.replace(" ", r"\s+")),
        not_stop=re.compile(mod.NOT_STOP),
        req_tail=re.compile("(?:" + req.replace(" ", space) + r")\s*$") if req else None,
    )


@lru_cache(maxsize=1)
def _tables() -> dict[str, _Table]:
    return {"en": _table(patterns_en, "en"), "ko": _table(patterns_ko, "ko")}


def _ordered(language: str) -> tuple[_Table, _Table]:
    t = _tables()
    return (t["ko"], t["en"]) if language == "ko" else (t["en"], t["ko"])


@lru_cache(maxsize=1)
def _find_region() -> Callable[[str], object | None] | None:
    try:  # written by the images stage; without it edits simply carry no region
        from ..images.regions import find_region
    except ImportError:
        return None
    return find_region


# --------------------------------------------------------------------------- text views
@dataclass(frozen=True)
class _View:
    """A masked copy of the utterance: ``src`` (user's text) and ``norm`` have equal lengths."""

    src: str
    norm: str

    def masked(self, spans: list[tuple[int, int]]) -> "_View":
        return _View(mask(self.src, spans), mask(self.norm, spans))

    def core(self, tail: bool = True) -> tuple[int, int]:
        """The span left after fillers were stripped from the edges (all of it if nothing is left)."""
        start, end = 0, len(self.norm)
        tables = _tables().values()
        changed = True
        while changed:
            changed = False
            for t in tables:
                m = t.fill_start.match(self.norm, start, end)
                if m and m.end() > start and self.norm[m.end():end].strip():
                    start, changed = m.end(), True
                if tail:
                    m = t.fill_end.search(self.norm, start, end)
                    if m and self.norm[start:m.start()].strip():
                        end, changed = m.start(), True
        return start, end


def _first(tables: Iterable[_Table], view: _View, kinds: Iterable[str]) -> tuple[_Table, Rule, re.Match[str]] | None:
    kinds = tuple(kinds)
    spans = {True: view.core(True), False: view.core(False)}
    for table in tables:
        for rule, rx in table.rules:
            if rule.kind not in kinds:
                continue
            start, end = spans[rule.kind not in _NO_TAIL_STRIP]
            m = rx.fullmatch(view.norm, start, end)
            if m:
                return table, rule, m
    return None


def _group_span(m: re.Match[str], name: str) -> tuple[int, int] | None:
    if name not in m.re.groupindex or m.group(name) is None:
        return None
    return m.span(name)


def _text(view: _View, span: tuple[int, int] | None) -> str:
    return tidy(view.src[span[0]:span[1]]) if span else ""


def _strip_req(table: _Table, text: str) -> str:
    """"배경을 바다로 바꿔줘" -> "배경을 바다로 바꿔": drop a Korean request ending."""
    if table.req_tail is None or not text:
        return text
    m = table.req_tail.search(normalize(text))
    return tidy(text[:m.start()]) if m and m.start() > 0 else text


def _strip_object_particle(text: str) -> str:
    """"빨간 여우를" -> "빨간 여우", "성을" -> "성"; "마을" stays (을 after a vowel is not a particle)."""
    text = _KO_TRAILERS.sub("", text).rstrip()
    if len(text) >= 2 and text[-1] in "을를" and text[-2] != " ":
        if (text[-1] == "을") == has_batchim(text[-2]):
            text = text[:-1]
    return tidy(_KO_TRAILERS.sub("", text))


def _strip_quote_particle(text: str) -> str:
    """"안녕이" (from 안녕이라고) -> "안녕": 이라고 follows a consonant."""
    if len(text) >= 2 and text[-1] == "이" and has_batchim(text[-2]):
        return text[:-1]
    return text


# --------------------------------------------------------------------------- options & region
def _options(view: _View, start: int, end: int) -> tuple[tuple[tuple[str, str], ...], list[tuple[int, int]]]:
    found: list[tuple[int, str, str]] = []
    spans: list[tuple[int, int]] = []
    norm = view.norm
    for table in _tables().values():
        for rx, key, value in table.options:
            for m in rx.finditer(norm, start, end):
                if any(s < m.end() and m.start() < e for s, e in spans):
                    continue
                found.append((m.start(), key, value))
                spans.append(m.span())
                norm = mask(norm, [m.span()])
        # "paint a sunset, natural style, wide": a piece between commas that is only an option
        pos = [start] + [m.end() for m in _SEGMENT_SPLIT.finditer(view.src, start, end)] + [end + 1]
        for a, b in zip(pos[1:], pos[2:]):
            words = " ".join(norm[a:b - 1].split())
            words = re.sub(r"^(?:and |in |make it |as |but )", "", words)
            if words in table.segment_options:
                key, value = table.segment_options[words]
                found.append((a, key, value))
                spans.append((a, b - 1))
                norm = mask(norm, [(a, b - 1)])
    chosen: dict[str, str] = {}
    for _pos, key, value in sorted(found):
        chosen[key] = value
    return tuple((k, chosen[k]) for k in OPTION_KEYS if k in chosen), spans


@dataclass(frozen=True)
class _Region:
    name: str
    span: tuple[int, int]  # with its leftovers ("in the", "corner", "에다가")
    locative: bool         # spoken as a place ("in the top left", "왼쪽 위에")


def _region(table: _Table, view: _View, start: int, end: int) -> _Region | None:
    finder = _find_region()
    if finder is None:
        return None
    found = finder(view.norm[start:end])
    if found is None:
        return None
    s, e = start + found.start, start + found.end
    locative = False
    after = table.region_after.match(view.norm, e, end)
    if after and after.end() > e:
        e = after.end()
        locative = table.code == "ko"
    before = table.region_before.search(view.norm, start, s)
    if before:
        locative = locative or (table.code == "en" and not before.group(0).strip().startswith("the"))
        s = before.start()
    if table.code == "en" and not view.norm[start:s].strip():
        locative = True  # "in the top left, add a bird" / "top left: a bird"
    return _Region(found.name, (s, e), locative)


# --------------------------------------------------------------------------- public API
def route(text: str, language: str | None = None) -> Intent:
    """Route one transcript to an Intent. Pure: no I/O, no state."""
    if len(text) > MAX_COMMAND_CHARS:
        return Intent("unknown", detect_language(prepare(text[:MAX_COMMAND_CHARS]), language), text)
    src = prepare(text)
    lang = detect_language(src, language)
    tables = _ordered(lang)
    base = _View(src, normalize(src))
    fillers = [m.span() for t in tables for m in t.filler_words.finditer(base.norm)]
    view = base.masked(fillers)
    if not view.norm.strip():
        return Intent("unknown", lang, text)

    hit = _first(tables, view, _SIMPLE)
    if hit:
        table, rule, m = hit
        if rule.kind == "say":
            span = _group_span(m, "p")
            said = base.src[span[0]:span[1]].strip(" \t\n:;,-\"'") if span else ""
            if table.code == "ko":
                said = _strip_quote_particle(said)
            return Intent("say", lang, text, prompt=said)
        if rule.kind == "setting":
            spoken = m.group("v") if _group_span(m, "v") else None
            value = rule.value or (table.values.get(spoken, spoken) if spoken else None)
            return Intent("setting", lang, text, setting=rule.setting, value=value)
        if rule.kind in _EVERYDAY:  # ``p``: a name ("pasta"); ``v``: a duration or clock time (user's text)
            value = rule.value or _text(view, _group_span(m, "v")) or None
            return Intent(rule.kind, lang, text, prompt=_text(view, _group_span(m, "p")), value=value)
        return Intent(rule.kind, lang, text)

    start, end = view.core()
    options, option_spans = _options(view, start, end)
    drawing = view.masked(option_spans)
    hit = _first(tables, drawing, ("draw",))
    if hit:
        table, rule, m = hit
        region = _region(tables[0], view, start, end)
        if rule.bare and _group_span(m, "n") is None and _places(region, view, start, _group_span(m, "p")):
            return _edit_from_draw(lang, text, tables[0], view, region)
        prompt = _text(drawing, _group_span(m, "p"))
        if table.code == "ko":
            prompt = _strip_object_particle(prompt)
        return Intent("draw", lang, text, prompt=prompt, options=options)

    region = _region(tables[0], view, start, end)
    editing = view.masked([region.span]) if region and region.locative else view
    hit = _first(tables, editing, ("edit",))
    if hit:
        table, _rule, m = hit
        prompt = _strip_req(table, _text(editing, _group_span(m, "p")))
        return Intent("edit", lang, text, prompt=prompt, region=region.name if region else None)

    if is_stop(text):
        return Intent("stop", lang, text)
    return Intent("unknown", lang, text)


# a command that more words would not change: no free-text slot (a prompt, a name, a duration)
_CLOSED = frozenset({"stop", "translate_off", "translate_on", "help", "repeat", "setting", "clock", "timer_list",
                     "volume", "undo", "show_image", "previous_image"})


def complete_command(text: str, language: str | None = None) -> bool:
    """Is ``text`` a whole command on its own (the loop may end the turn without the rest of the
    hangover)? A command the router knows whose meaning more words would not change: not
    "unknown" (chat), not a drawing, an edit, "say ..." or a timer, which go on ("draw a cat ...
    with a hat", "set a timer for five minutes ... for the pasta")."""
    return bool(text.strip()) and str(route(text, language).kind) in _CLOSED


# words that point at a picture: "it", "the picture", "her", "the background", "그림", "사진", "배경"
_PICTURE = re.compile(r"\b(?:it|its|picture|pic|image|photo|drawing|painting|her|him|them|she|he|they|"
                      r"background|foreground)\b|그림|사진|이미지|배경|그거|그것|걔|얘", re.IGNORECASE)


def names_a_picture(intent: Intent) -> bool:
    """Does an edit request point at a picture ("make it blue", "give her a hat", "the top left",
    "그림을 밝게 해줘")? "change all the lights to blue" does not: with no picture to edit it is
    not an edit at all (the dispatcher hands it to chat or help, skills/dispatch.py)."""
    return bool(intent.region) or bool(_PICTURE.search(intent.text))


def _places(region: _Region | None, view: _View, start: int, prompt: tuple[int, int] | None) -> bool:
    """Does a draw request name where to put something on the last image? Only when the region
    is spoken as a place and opens the request or closes the drawn thing ("왼쪽 위에 모자를
    그려줘", "draw a hat in the top left"), not inside a scene ("a dog in the middle of a road")."""
    if region is None or not region.locative or prompt is None:
        return False
    s, e = region.span
    return not view.norm[start:s].strip() or not view.norm[e:prompt[1]].strip()


def _edit_from_draw(lang: str, text: str, table: _Table, view: _View, region: _Region) -> Intent:
    """"왼쪽 위에 모자를 그려줘" / "draw a hat in the top left": drawing into a region edits."""
    editing = view.masked([region.span])
    start, end = editing.core()
    prompt = _strip_req(table, tidy(editing.src[start:end]))
    return Intent("edit", lang, text, prompt=prompt, region=region.name)


def is_stop(text: str) -> bool:
    """Quick barge-in check: is this short utterance a stop word ("stop", "be quiet", "그만", "멈춰")?"""
    if len(text) > MAX_COMMAND_CHARS:
        return False
    src = prepare(text)
    base = _View(src, normalize(src))
    tables = _ordered(detect_language(src))
    view = base.masked([m.span() for t in tables for m in t.filler_words.finditer(base.norm)])
    if any(t.not_stop.search(view.norm) for t in tables):
        return False
    if _first(tables, view, ("stop",)):
        return True
    start, end = view.core()
    core = view.norm[start:end]
    return len(core.split()) <= 3 and any(t.stop_words.search(core) for t in tables)


@lru_cache(maxsize=1)
def _hesitation() -> re.Pattern[str]:
    words = "|".join(f"(?:{m.HESITATIONS})" for m in (patterns_en, patterns_ko))
    return re.compile(rf"(?:(?:{words})(?![\w])\s*)+")


def is_filler(text: str) -> bool:
    """Only hesitation sounds ("uh", "hmm", "음", "어…"): nothing was asked."""
    if len(text) > MAX_COMMAND_CHARS:
        return False
    norm = normalize(prepare(text)).strip()
    return not norm or _hesitation().fullmatch(norm.replace("-", " ")) is not None
