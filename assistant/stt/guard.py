"""Hallucination guard: silence and known filler phrases never reach the router."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from typing import Iterable

from ..config import SttConfig
from .base import Segment, Transcript

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)


def normalize(text: str) -> str:
    """Case-, width- and punctuation-insensitive form used to compare phrases."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_PUNCT.sub(" ", text).split())


# What Whisper says over silence or noise. Real words too, so they are dropped only when Whisper
# itself thinks there was no speech (no_speech_prob above the threshold); said clearly, they stay.
FILLERS = frozenset({"you", "thank you", "thanks", "thank you very much", "bye", "bye bye", "okay",
                     "감사합니다", "고맙습니다", "네", "아"})


def is_filler(text: str) -> bool:
    """Only a filler, possibly repeated: "you you", "Thank you. Thank you.", "감사합니다"."""
    norm = normalize(text)
    return bool(norm) and any(not norm.replace(p, " ").strip() for p in FILLERS)


def is_silent(seg: Segment, no_speech_threshold: float, logprob_threshold: float) -> bool:
    if seg.no_speech_prob is None or seg.no_speech_prob <= no_speech_threshold:
        return False
    # "you you" with no_speech_prob 0.95 is silence however sure the decoder is of it
    return is_filler(seg.text) or (seg.avg_logprob is not None and seg.avg_logprob < logprob_threshold)


def is_hallucination(text: str, phrases: Iterable[str]) -> bool:
    norm = normalize(text)
    if not norm:
        return False
    known = {normalize(p) for p in phrases}
    known.discard("")
    # the whole text is one known phrase, possibly repeated ("Thank you. Thank you.")
    for p in known:
        if norm == p or norm.replace(p, "").strip() == "":
            return True
    return False


def apply(t: Transcript, cfg: SttConfig) -> Transcript:
    """Drop silent / hallucinated segments; an utterance with nothing left becomes text ""."""
    phrases = cfg.hallucinations
    if t.segments:
        kept = tuple(s for s in t.segments
                     if not is_silent(s, cfg.no_speech_threshold, cfg.logprob_threshold)
                     and not is_hallucination(s.text, phrases))
        if len(kept) != len(t.segments):
            t = replace(t, segments=kept, text=" ".join(s.text.strip() for s in kept if s.text.strip()))
    if is_hallucination(t.text, phrases):
        t = replace(t, text="", segments=())
    return t
