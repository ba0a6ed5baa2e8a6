"""One Whisper window, step by step, on a faster-whisper model: features -> encoder -> language
probabilities -> decoding that reuses the same encoder output.

faster-whisper's ``WhisperModel.transcribe(language=None)`` encodes the window once to detect the
language and again to decode it; here the caller owns the encoder output and passes it on
(``WhisperModel.generate_segments(..., encoder_output=...)``, the path faster-whisper 1.x uses
itself). Only for inputs of at most one window (30 s); longer ones are cut by the caller.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .cancel import checkpoint

WINDOW_FRAMES = 3000  # 30 s of 10 ms mel frames: what the encoder is trained on
FRAMES_PER_SECOND = 100
COMPRESSION_RATIO_LIMIT = 2.4  # faster-whisper's default: a window's text compressing more falls back


@dataclass(frozen=True)
class Window:
    """The mel features of one input and, once encoded, the encoder output for them."""
    features: np.ndarray  # (n_mels, frames) as faster-whisper computes them
    encoded: Any = None  # ctranslate2.StorageView of the full 30 s window, or None


def features(model: Any, samples: np.ndarray) -> np.ndarray:
    return model.feature_extractor(samples)


def encode(model: Any, feats: np.ndarray, frames: int = WINDOW_FRAMES) -> Any:
    """Encoder output for the first ``frames`` mel frames (zero-padded as faster-whisper does).

    ``frames`` < 3000: language evidence, or base's decoding window (``decode_frames``: at least
    10 s; shorter than that, decoding loops on short commands, "Yes. Yes. Yes. ...")."""
    checkpoint()  # each encoder pass and decode is a stage a stale speculation stops before
    seg = np.zeros((feats.shape[0], frames), dtype=np.float32)
    n = min(frames, feats.shape[1])
    seg[:, :n] = feats[:, :n]
    return model.encode(seg)


def evidence_frames(feats: np.ndarray, pad_s: float = 1.0) -> int:
    """A short window for language evidence: the speech plus ``pad_s``, in whole seconds."""
    frames = feats.shape[1] + int(pad_s * FRAMES_PER_SECOND)
    return int(min(WINDOW_FRAMES, -(-frames // FRAMES_PER_SECOND) * FRAMES_PER_SECOND))


def decode_frames(feats: np.ndarray, seconds: float) -> int:
    """The encoder window decoding uses: the whole 30 s window, or with ``seconds`` < 30 a shorter
    one of the speech plus 1 s, at least ``seconds`` long (the encoder's cost falls ~10x from 30 s
    to 10 s; shorter than ~10 s, decoding starts to loop on short commands, bench/stt.py). The
    caller decides for which model (``local.WhisperTranscriber``: base only)."""
    if seconds >= WINDOW_FRAMES / FRAMES_PER_SECOND:
        return WINDOW_FRAMES
    return max(int(seconds * FRAMES_PER_SECOND), evidence_frames(feats))


def language_probs(model: Any, encoded: Any) -> dict[str, float]:
    """Whisper's language-token probabilities for one encoder output: {"en": 0.97, "ko": 0.01, ...}."""
    results = model.model.detect_language(encoded)[0]
    return {token[2:-2]: float(p) for token, p in results}


def decode(model: Any, feats: np.ndarray, encoded: Any, *, task: str, language: str | None,
           prompt: str | None, temperatures: tuple[float, ...], max_new_tokens: int,
           no_speech_threshold: float, logprob_threshold: float, beam_size: int = 1) -> list[Any]:
    """Greedy decoding of the window from ``encoded`` (no second encoder pass): faster-whisper
    segments (start, end, text, avg_logprob, no_speech_prob)."""
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import TranscriptionOptions, get_suppressed_tokens

    checkpoint()

    multilingual = bool(model.model.is_multilingual)
    tokenizer = Tokenizer(model.hf_tokenizer, multilingual, task=task,
                          language=(language or "en") if multilingual else None)
    options = TranscriptionOptions(
        beam_size=beam_size, best_of=1, patience=1.0, length_penalty=1.0, repetition_penalty=1.0,
        no_repeat_ngram_size=0, log_prob_threshold=logprob_threshold, no_speech_threshold=no_speech_threshold,
        compression_ratio_threshold=COMPRESSION_RATIO_LIMIT, condition_on_previous_text=False, prompt_reset_on_temperature=0.5,
        temperatures=list(temperatures), initial_prompt=prompt or None, prefix=None, suppress_blank=True,
        suppress_tokens=get_suppressed_tokens(tokenizer, [-1]), without_timestamps=False,
        max_initial_timestamp=1.0, word_timestamps=False, prepend_punctuations="\"'“¿([{-",
        append_punctuations="\"'.。,，!！?？:：”)]}、", multilingual=False, max_new_tokens=max_new_tokens,
        clip_timestamps="0", hallucination_silence_threshold=None, hotwords=None)
    feats = feats[:, :WINDOW_FRAMES]
    return list(model.generate_segments(feats, tokenizer, options, False, encoded))
