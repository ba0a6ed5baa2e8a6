"""Your own sentences: ``[[sentences]]`` in the config -> matched before the built-in intents.

```toml
[[sentences]]
templates = ["turn {state:on|off} the {room} light", "{room} 불 {state:켜|꺼}줘"]
run = ["/usr/local/bin/lights", "{room}", "{state}"]   # argv, never a shell; slots fill in
reply = "Okay, the {room} light is {state}."             # spoken; optional with run/http
timeout_s = 10
```
``{name}`` is a free-text slot, ``{name:a|b}`` a choice. Instead of ``run``, ``http = { url,
method, json }`` (slots filled into the URL and every string of ``json``), or only ``reply``.
``{output}`` in a reply is the first line the command printed (or the HTTP answer's body).

Parsing and matching are pure; ``perform`` runs the action (a subprocess without a shell, or one
HTTP request) with the timeout and reports the exit or HTTP status for the history.
"""
from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError
from .router.normalize import normalize, prepare

_SLOT = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Free slots match any words, so a template with many of them backtracks polynomially in the
# words of the utterance (8 slots over 40 words held the event loop 9 s; 4 over 400 words, 56 s).
# With at most 4 and utterances of at most 40 words, a template is tried in milliseconds.
MAX_FREE_SLOTS = 4
MAX_WORDS = 40  # a longer utterance is no command of yours
MAX_CHARS = 200  # nor one this long (Korean runs words together)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_KEYS = {"templates", "run", "http", "reply", "timeout_s"}
_HTTP_KEYS = {"url", "method", "json"}
OUTPUT = "output"  # the reserved reply placeholder
MAX_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Http:
    url: str
    method: str = "POST"
    json: Any = None


@dataclass(frozen=True)
class Sentence:
    templates: tuple[str, ...]
    run: tuple[str, ...] = ()
    http: Http | None = None
    reply: str = ""
    timeout_s: float = 10.0
    patterns: tuple[re.Pattern[str], ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Match:
    sentence: Sentence
    index: int               # which [[sentences]] entry (0-based)
    slots: dict[str, str]


@dataclass(frozen=True)
class Done:
    """What running a sentence did: for the reply and the history."""

    ok: bool
    status: int | None       # exit status or HTTP status (None: did not run / not reached)
    output: str = ""
    error: str = ""
    kind: str = "reply"      # run | http | reply


# ------------------------------------------------------------------------------ parsing
def parse(entries: Any, filename: str = "<config>") -> tuple[Sentence, ...]:
    """The ``sentences`` array of tables -> Sentences, or a one-line ConfigError."""
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise ConfigError(f"'sentences' must be an array of tables ([[sentences]]) in {filename}")
    return tuple(_parse_one(entry, i, filename) for i, entry in enumerate(entries))


def _parse_one(entry: Any, i: int, filename: str) -> Sentence:
    where = f"sentences[{i}]"

    def fail(message: str) -> ConfigError:
        return ConfigError(f"{where}{message} in {filename}")

    if not isinstance(entry, dict):
        raise fail(" must be a table")
    for key in entry:
        if key not in _KEYS:
            raise fail(f": unknown key '{key}' (use templates, run, http, reply, timeout_s)")
    templates = entry.get("templates")
    if isinstance(templates, str):
        templates = [templates]
    if not isinstance(templates, list) or not templates or not all(isinstance(t, str) and t.strip() for t in templates):
        raise fail(".templates must be a non-empty list of sentences")
    slot_sets = []
    patterns = []
    for t in templates:
        try:
            slots, pattern = _compile(t)
        except ValueError as exc:
            raise fail(f".templates: {exc} in {t!r}") from None
        slot_sets.append(slots)
        patterns.append(pattern)
    common = set.intersection(*slot_sets)
    if "run" in entry and "http" in entry:
        raise fail(": give either run or http, not both")
    run = entry.get("run", [])
    if "run" in entry and (not isinstance(run, list) or not run or not all(isinstance(a, str) for a in run) or not run[0].strip()):
        raise fail(".run must be a non-empty list of strings (argv; no shell)")
    http = None
    if "http" in entry:
        http = _parse_http(entry["http"], fail)
    reply = entry.get("reply", "")
    if not isinstance(reply, str):
        raise fail(".reply must be a string")
    if not run and http is None and not reply.strip():
        raise fail(": needs run, http or reply")
    timeout = entry.get("timeout_s", 10)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_TIMEOUT_S:
        raise fail(f".timeout_s must be a number between 0 and {MAX_TIMEOUT_S:g}")
    for what, texts in (("run", run), ("http", _strings(http.url if http else "", http.json if http else None)),
                        ("reply", [reply])):
        for text in texts:
            for name in _placeholders(text):
                if name == OUTPUT and what == "reply":
                    continue
                if name not in common:
                    raise fail(f".{what}: {{{name}}} is not a slot of every template")
    return Sentence(tuple(templates), tuple(run), http, reply, float(timeout), tuple(patterns))


def _parse_http(value: Any, fail: Any) -> Http:
    if not isinstance(value, dict):
        raise fail(".http must be a table like { url = \"http://…\", method = \"POST\", json = { … } }")
    for key in value:
        if key not in _HTTP_KEYS:
            raise fail(f".http: unknown key '{key}' (use url, method, json)")
    url = value.get("url")
    if not isinstance(url, str) or urllib.parse.urlsplit(url.replace("{", "").replace("}", "")).scheme not in ("http", "https"):
        raise fail(".http.url must be an http:// or https:// URL")
    method = value.get("method", "POST")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise fail(f".http.method must be one of {', '.join(METHODS)}")
    return Http(url, method.upper(), value.get("json"))


def _strings(*values: Any) -> list[str]:
    out: list[str] = []
    for v in values:
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            out += _strings(*v.keys(), *v.values())
        elif isinstance(v, list):
            out += _strings(*v)
    return out


def _placeholders(text: str) -> list[str]:
    return [m.group(1) for m in _SLOT.finditer(text)]


def _compile(template: str) -> tuple[set[str], re.Pattern[str]]:
    """A template -> its slot names and a regex over normalized text (whole utterance)."""
    if template.count("{") != template.count("}"):
        raise ValueError("unbalanced braces")
    norm = normalize(prepare(template).strip())
    parts: list[str] = []
    slots: set[str] = set()
    pos = 0
    free = 0
    src = prepare(template).strip()
    for m in _SLOT.finditer(src):
        parts.append(_literal(norm[pos:m.start()]))
        name, _, choices = m.group(1).partition(":")
        name = name.strip()
        if not _NAME.match(name) or name == OUTPUT:
            raise ValueError(f"bad slot name {{{m.group(1)}}}")
        if name in slots:
            raise ValueError(f"slot {{{name}}} twice")
        slots.add(name)
        if m.group(0).count(":"):
            alts = [" ".join(normalize(a).split()) for a in choices.split("|")]
            if not all(alts):
                raise ValueError(f"empty choice in {{{m.group(1)}}}")
            body = "|".join(_literal(a) for a in sorted(alts, key=len, reverse=True))
            parts.append(f"(?P<{name}>{body})")
        else:
            parts.append(f"(?P<{name}>.+?)")
            free += 1
            if free > MAX_FREE_SLOTS:
                raise ValueError(f"more than {MAX_FREE_SLOTS} free slots (give the others choices, {{slot:a|b}})")
        pos = m.end()
    parts.append(_literal(norm[pos:]))
    return slots, re.compile(r"\s*" + "".join(parts) + r"\s*", re.IGNORECASE)


def _literal(text: str) -> str:
    """Literal template text: its words as written; a space means any whitespace, none needed
    next to Hangul (whose spacing the transcriber varies). A slot beside it counts as a word."""
    pieces = re.split(r"( +)", text)  # words at even indexes, space runs at odd ones
    out = []
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            out.append(re.escape(piece))
            continue
        before, after = pieces[i - 1][-1:], pieces[i + 1][:1]
        out.append(r"\s*" if _HANGUL.match(before) or _HANGUL.match(after) else r"\s+")
    return "".join(out)


# ------------------------------------------------------------------------------ matching
def match(sentences: tuple[Sentence, ...], text: str) -> Match | None:
    """The first sentence one of whose templates matches all of ``text`` (case, punctuation and
    spacing aside); slot values come lowercased, without punctuation."""
    src = prepare(text)
    words = normalize(src).split()
    if not words or len(words) > MAX_WORDS:
        return None
    norm = " ".join(words)
    if len(norm) > MAX_CHARS:
        return None
    for i, sentence in enumerate(sentences):
        for pattern in sentence.patterns:
            m = pattern.fullmatch(norm)
            if m:
                return Match(sentence, i, {k: v.strip() for k, v in m.groupdict().items()})
    return None


# ------------------------------------------------------------------------------ running
def fill(text: str, slots: dict[str, str]) -> str:
    return _SLOT.sub(lambda m: slots.get(m.group(1).partition(":")[0], ""), text)


def _fill_json(value: Any, slots: dict[str, str]) -> Any:
    if isinstance(value, str):
        return fill(value, slots)
    if isinstance(value, dict):
        return {fill(k, slots): _fill_json(v, slots) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_json(v, slots) for v in value]
    return value


def perform(hit: Match) -> Done:
    """Run the sentence's action (blocking; call it in a thread)."""
    s, slots = hit.sentence, hit.slots
    if s.run:
        argv = [fill(a, slots) for a in s.run]
        try:
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=s.timeout_s,
                                  check=False)
        except FileNotFoundError:
            return Done(False, None, error=f"no such command: {argv[0]}", kind="run")
        except PermissionError:
            return Done(False, None, error=f"not executable: {argv[0]}", kind="run")
        except subprocess.TimeoutExpired:
            return Done(False, None, error=f"{argv[0]} did not finish within {s.timeout_s:g} s", kind="run")
        except OSError as exc:
            return Done(False, None, error=f"cannot run {argv[0]}: {exc.strerror or exc}", kind="run")
        output = _first_line(proc.stdout)
        if proc.returncode != 0:
            return Done(False, proc.returncode, output, f"{argv[0]} exited with status {proc.returncode}", "run")
        return Done(True, 0, output, kind="run")
    if s.http is not None:
        return _request(s.http, slots, s.timeout_s)
    return Done(True, None)


def _request(http: Http, slots: dict[str, str], timeout: float) -> Done:
    url = fill(http.url, {k: urllib.parse.quote(v, safe="") for k, v in slots.items()})
    data = None
    headers = {"User-Agent": "assistant"}
    if http.json is not None:
        data = json.dumps(_fill_json(http.json, slots), ensure_ascii=False).encode("utf-8")
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=http.method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return Done(True, resp.status, _first_line(resp.read(65536)), kind="http")
    except urllib.error.HTTPError as exc:
        return Done(False, exc.code, error=f"{http.method} {_host(url)} answered HTTP {exc.code}", kind="http")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Done(False, None, error=f"cannot reach {_host(url)}: {reason}", kind="http")


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def _first_line(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    return text.splitlines()[0][:200] if text else ""


def reply_text(hit: Match, done: Done) -> str:
    """What to say: the sentence's reply with slots (and ``{output}``) filled; "" when none."""
    if not hit.sentence.reply:
        return ""
    return fill(hit.sentence.reply, {**hit.slots, OUTPUT: done.output})


def example(template: str) -> str:
    """A template as one could say it: a choice's first word, a free slot's name."""
    return _SLOT.sub(lambda m: (m.group(1).partition(":")[2].split("|")[0] or m.group(1)).strip(), template)


def language_of(text: str, default: str) -> str:
    return "ko" if _HANGUL.search(text) else default
