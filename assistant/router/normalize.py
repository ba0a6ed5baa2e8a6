"""Text normalization for the router (pure).

``normalize`` keeps the length of its input, so a span found in the normalized text is the
same span in the source text: prompts are cut from the source and keep the user's casing.
Masking (blanking spans with spaces) keeps lengths too.
"""
from __future__ import annotations

import re
import unicodedata

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u2026": "."})
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_LATIN = re.compile(r"[A-Za-z]")


def prepare(text: str) -> str:
    """Canonical source text: NFKC (full-width forms, compatibility jamo), plain quotes."""
    return unicodedata.normalize("NFKC", text or "").translate(_QUOTES)


def _norm_char(c: str) -> str:
    if c == "'":
        return c
    cat = unicodedata.category(c)
    if cat[0] in "PSZC":  # punctuation, symbols, separators, controls -> space
        return " "
    low = c.lower()
    return low if len(low) == 1 else c


def normalize(src: str) -> str:
    """Lowercase, punctuation -> spaces (apostrophes kept); same length as ``src``."""
    return "".join(_norm_char(c) for c in src)


def detect_language(text: str, fallback: str | None = None) -> str:
    """"ko" if the text has Hangul, "en" if it has Latin letters, else the STT language."""
    if _HANGUL.search(text):
        return "ko"
    if _LATIN.search(text):
        return "en"
    return fallback if fallback in ("en", "ko") else "en"


def has_batchim(syllable: str) -> bool:
    """True if a Hangul syllable ends in a consonant (decides 을/를, 이라고/라고)."""
    code = ord(syllable) - 0xAC00
    return 0 <= code <= 11171 and code % 28 != 0


def mask(text: str, spans: list[tuple[int, int]]) -> str:
    """Replace the given spans with spaces (length kept)."""
    chars = list(text)
    for start, end in spans:
        for i in range(max(start, 0), min(end, len(chars))):
            chars[i] = " "
    return "".join(chars)


def compile_pattern(pattern: str, space: str) -> re.Pattern[str]:
    """Compile a table pattern: literal spaces become ``space``; leading/trailing blanks allowed."""
    return re.compile(r"\s*(?:" + pattern.replace(" ", space) + r")\s*")


_EDGE = " \t\n,.;:!?-–—\"'()[]{}…·、。，！？"
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_REPEATED_PUNCT = re.compile(r"([,;:])(?:\s*[,;:.])+")


def tidy(text: str) -> str:
    """Collapse whitespace, drop orphan punctuation left by masking, trim the edges."""
    text = " ".join(text.split())
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _REPEATED_PUNCT.sub(r"\1", text)
    return text.strip(_EDGE)
