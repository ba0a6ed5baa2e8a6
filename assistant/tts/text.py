"""Text helpers: language by script, sentence splitting (EN/KO) and packing into request-sized parts."""
from __future__ import annotations

import re
import unicodedata

_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
# A sentence ends at . ! ? … (and CJK 。！？) followed by space/end, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])[\"'”’)\]]*\s+|\n\s*")


def detect_language(text: str) -> str:
    """'ko' when Hangul outweighs Latin letters, 'ja' / 'zh' for kana / Han only, else 'en'."""
    hangul, latin = len(_HANGUL.findall(text)), len(_LATIN.findall(text))
    if hangul and hangul >= latin / 3:  # a Hangul syllable carries ~3 Latin letters' worth
        return "ko"
    if _KANA.search(text) and not latin:
        return "ja"
    if _HAN.search(text) and not latin:
        return "zh"
    return "en"


_UNSPOKEN = {"Cc", "Cf", "Cs", "Co", "Cn"}  # controls, format (zero-width, bidi marks), surrogates, unassigned


def speakable(text: str) -> str:
    """``text`` without what no voice can say: control characters (NUL, escapes) become spaces,
    line breaks stay, zero-width and bidi marks go. Text of only these is empty."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    if text.isprintable():
        return text
    return "".join(c if c in "\n\t" or unicodedata.category(c) not in _UNSPOKEN
                   else (" " if unicodedata.category(c) == "Cc" else "") for c in text)


def sentences(text: str) -> list[str]:
    """Split into sentences, keeping their punctuation; blank pieces dropped (see ``speakable``)."""
    text = speakable(text)
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _hard_split(sentence: str, limit: int) -> list[str]:
    """A sentence longer than ``limit``: cut after commas/semicolons, then spaces, then anywhere."""
    out: list[str] = []
    rest = sentence
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind(", "), window.rfind("; "), window.rfind(": "))
        if cut < limit // 2:
            cut = window.rfind(" ")
        cut = cut + 1 if cut > 0 else limit
        out.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        out.append(rest)
    return out


def pack(text: str, limit: int) -> list[str]:
    """Parts of at most ``limit`` characters, cut at sentence boundaries where possible."""
    parts: list[str] = []
    current = ""
    for sentence in sentences(text):
        for piece in (_hard_split(sentence, limit) if len(sentence) > limit else [sentence]):
            joined = f"{current} {piece}" if current else piece
            if len(joined) <= limit:
                current = joined
            else:
                parts.append(current)
                current = piece
    if current:
        parts.append(current)
    return parts
