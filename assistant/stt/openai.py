"""openai backend: /audio/transcriptions and /audio/translations through the openai SDK.

Follows the per-model rules in ``models.py``; big inputs are re-encoded to FLAC and split; every
answer is parsed by ``formats.parse`` into a Transcript; SDK errors become ApiError (one line).
"""
from __future__ import annotations

import logging
import math
import warnings

from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..audio.format import SAMPLE_RATE
from ..config import SttConfig
from ..errors import ApiError, UserError
from . import guard
from ..audio.sources import existing_audio_file
from .audio import UPLOAD_TYPES, as_pcm, encode, split_points
from .base import Segment, Task, Transcript
from .files import read_pcm, sniff
from .formats import parse
from .languages import check_code
from .models import api_language, rules_for, translation_accepts

from ..openai_client import BAD_RESPONSE, ApiBacked, bad_response

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 25 * 1000 * 1000  # the API's 25 MB limit (decimal, to be safe)
Upload = tuple[str, bytes, str]  # (filename, data, content type)
_UNSAFE_NAME_CHARS = frozenset('"\\/')


class OpenAITranscriber(ApiBacked):
    section = "stt"
    max_bytes = MAX_UPLOAD_BYTES

    def __init__(self, cfg: SttConfig, client: Any = None):
        self.cfg = cfg
        self._client = client

    # ------------------------------------------------------------------ public
    def transcribe(self, pcm: np.ndarray, *, task: Task = "transcribe", language: str | None = None,
                   prompt: str | None = None, want_timestamps: bool = False,
                   prior: Mapping[str, float] | None = None) -> Transcript:
        """Samples: sent as WAV (FLAC, or FLAC in pieces, when over the upload limit)."""
        pcm = as_pcm(pcm)
        return self._run(self._pcm_uploads(pcm), len(pcm) / SAMPLE_RATE, task, language, prompt, want_timestamps)

    def transcribe_file(self, path: Path, *, task: Task = "transcribe", language: str | None = None,
                        prompt: str | None = None, want_timestamps: bool = False) -> Transcript:
        """The user's own file when the API takes its type and size; else decoded (files.read_pcm)
        and sent as 16 kHz mono FLAC, split under the limit if need be."""
        self._check(task, language, prompt, want_timestamps)
        p = existing_audio_file(path, "audio file")
        suffix = p.suffix.lower()
        if suffix in UPLOAD_TYPES and p.stat().st_size <= self.max_bytes:
            duration = sniff(p)
            parts = [(0.0, (upload_name(p), p.read_bytes(), UPLOAD_TYPES[suffix]))]
            return self._run(parts, duration, task, language, prompt, want_timestamps)
        why = "is over the API's 25 MB limit" if suffix in UPLOAD_TYPES else ""
        pcm = read_pcm(p, why_ffmpeg=why)
        return self._run(self._pcm_uploads(pcm, flac_only=True), len(pcm) / SAMPLE_RATE, task, language, prompt,
                         want_timestamps)

    def warm_up(self) -> None:
        pass  # nothing to load

    def listen_ahead(self, pcm: np.ndarray) -> None:
        pass  # the API hears the whole utterance at once

    def _check(self, task: Task, language: str | None, prompt: str | None, want_timestamps: bool) -> str | None:
        if task not in ("transcribe", "translate"):
            raise UserError(f"unknown task {task!r}")
        lang = _language(language)
        self._check_combination(task, prompt, want_timestamps)
        return lang

    def _run(self, parts: list[tuple[float, Upload]], duration: float | None, task: Task, language: str | None,
             prompt: str | None, want_timestamps: bool) -> Transcript:
        lang = self._check(task, language, prompt, want_timestamps)
        results = [self._one(up, task, lang, prompt, want_timestamps).shifted(offset) if offset else
                   self._one(up, task, lang, prompt, want_timestamps) for offset, up in parts]
        return guard.apply(_merge(results, duration, task), self.cfg)

    # ------------------------------------------------------------------ requests
    def _check_combination(self, task: Task, prompt: str | None, want_ts: bool) -> None:
        if task == "transcribe":
            rules = rules_for(self._transcription_model(want_ts))
            if prompt and not rules.prompt:
                raise UserError(f"model {self._transcription_model(want_ts)} does not take a prompt")

    def _transcription_model(self, want_ts: bool) -> str:
        model = self.cfg.model
        if want_ts and not rules_for(model).timestamps:
            fallback = self.cfg.timestamps_model
            if not fallback:
                raise UserError(f"model {model} answers only without timestamps; set stt.timestamps_model "
                                "(e.g. whisper-1) or choose --format text/json")
            if not rules_for(fallback).timestamps:
                raise UserError(f"stt.timestamps_model {fallback} cannot give timestamps either")
            model = fallback
        return model

    def _one(self, upload: Upload, task: Task, lang: str | None, prompt: str | None, want_ts: bool) -> Transcript:
        if task == "transcribe":
            return self._transcription(upload, lang, prompt, want_ts)
        model = self.cfg.translate_model
        if translation_accepts(model):
            try:
                return self._translation(upload, model, prompt, want_ts)
            except ApiError as exc:
                if exc.status != 404 and exc.code != "model_not_found":
                    raise
                log.warning("translation endpoint refused %s (%s); translating with %s instead",
                            model, exc, self.cfg.translate_fallback_model)
        else:
            log.warning("the translation endpoint takes only whisper-1, not %s; translating with %s instead",
                        model, self.cfg.translate_fallback_model)
        return self._chat_translation(upload, lang, want_ts)

    def _transcription(self, upload: Upload, lang: str | None, prompt: str | None, want_ts: bool) -> Transcript:
        model = self._transcription_model(want_ts)
        rules = rules_for(model)
        fmt = "verbose_json" if want_ts else "json"
        params: dict[str, Any] = {"model": model, "file": upload, "response_format": fmt}
        if want_ts and rules.timestamp_granularities:
            params["timestamp_granularities"] = ["segment"]
        if api_language(lang) and rules.language:
            params["language"] = api_language(lang)
        if prompt and rules.prompt:
            params["prompt"] = prompt
        if rules.chunking_auto:
            params["chunking_strategy"] = "auto"
        t = self._answer(lambda: self.client.audio.transcriptions.with_raw_response.create(**params), fmt, "transcribe")
        return t if t.language or not lang else replace(t, language=lang)

    def _translation(self, upload: Upload, model: str, prompt: str | None, want_ts: bool) -> Transcript:
        fmt = "verbose_json" if want_ts else "json"
        params: dict[str, Any] = {"model": model, "file": upload, "response_format": fmt}
        if prompt:
            params["prompt"] = prompt
        with warnings.catch_warnings():  # the SDK marks /audio/translations deprecated; it is still the API
            warnings.simplefilter("ignore", DeprecationWarning)
            t = self._answer(lambda: self.client.audio.translations.with_raw_response.create(**params), fmt,
                             "translate")
        return replace(t, language=t.language or "en")

    def _chat_translation(self, upload: Upload, lang: str | None, want_ts: bool) -> Transcript:
        source = self._transcription(upload, lang, None, False)
        if not source.text.strip():
            return replace(source, task="translate")
        messages = [
            {"role": "system", "content": "Translate the user's text into English. Answer with the translation only."},
            {"role": "user", "content": source.text},
        ]
        def ask() -> str:
            resp = self._call(lambda: self.client.chat.completions.create(
                model=self.cfg.translate_fallback_model, messages=messages))
            try:
                return str(resp.choices[0].message.content or "").strip()
            except (AttributeError, IndexError, TypeError, KeyError):
                raise bad_response("unexpected answer from the chat API (no choices)") from None

        text = self._retry_bad(ask)
        return Transcript(text, source.language, source.language_probability, source.duration, (), "translate")

    def _answer(self, request: Any, fmt: str, task: str) -> Transcript:
        """Send and parse; a garbled answer (bad JSON, HTML, cut off) counts like a 5xx: retried."""
        return self._retry_bad(lambda: _parse(self._call(request), fmt, task))

    def _retry_bad(self, attempt: Any) -> Any:
        """Up to ``max_retries`` more tries for bad answers (the SDK retries statuses itself)."""
        for n in range(self.cfg.max_retries + 1):
            try:
                return attempt()
            except ApiError as exc:
                if exc.code != BAD_RESPONSE or n == self.cfg.max_retries:
                    raise
                log.info("speech recognition answer unusable (%s); trying again", exc)
        raise AssertionError("unreachable")


    # ------------------------------------------------------------------ audio
    def _pcm_uploads(self, pcm: np.ndarray, flac_only: bool = False) -> list[tuple[float, Upload]]:
        if not flac_only:
            wav = encode(pcm, "WAV")
            if len(wav) <= self.max_bytes:
                return [(0.0, ("utterance.wav", wav, "audio/wav"))]
        flac = encode(pcm, "FLAC")
        if len(flac) <= self.max_bytes:
            log.info("sending the audio as 16 kHz mono FLAC (%.1f MB)", len(flac) / 1e6)
            return [(0.0, ("audio.flac", flac, "audio/flac"))]
        n = math.ceil(len(flac) / (self.max_bytes * 0.9))
        for _ in range(8):
            bounds = [0, *split_points(pcm, n), len(pcm)]
            chunks = [encode(pcm[a:b], "FLAC") for a, b in zip(bounds, bounds[1:])]
            if len(bounds) > 2 and all(len(c) <= self.max_bytes for c in chunks):
                log.info("audio is %.1f MB as FLAC; sending it in %d chunks", len(flac) / 1e6, len(chunks))
                return [(a / SAMPLE_RATE, (f"chunk-{i:03d}.flac", c, "audio/flac"))
                        for i, (a, c) in enumerate(zip(bounds, chunks), 1)]
            n += 1
        raise UserError("audio too large to split under the upload limit")


def _language(language: str | None) -> str | None:
    if not language:
        return None
    try:
        return check_code(language)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def upload_name(p: Path) -> str:
    """The file's own name when it is plain printable ASCII, else ``audio<.ext>``: the extension is
    what the API goes by, and some OpenAI-compatible servers fail on non-ASCII names."""
    name = p.name
    if name.isascii() and name.isprintable() and not _UNSAFE_NAME_CHARS & set(name):
        return name
    return "audio" + p.suffix.lower()


def _parse(raw: Any, fmt: str, task: str) -> Transcript:
    body = raw.http_response.text if hasattr(raw, "http_response") else str(raw)
    try:
        return parse(body, fmt, task=task)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise bad_response(f"unexpected {fmt} answer from the speech API: {exc}",
                           raw.status_code if hasattr(raw, "status_code") else None) from None


def _merge(parts: list[Transcript], duration: float | None, task: Task) -> Transcript:
    if len(parts) == 1:
        t = parts[0]
        return t if t.duration is not None or duration is None else replace(t, duration=duration)
    segs: list[Segment] = [s for t in parts for s in t.segments]
    text = " ".join(t.text.strip() for t in parts if t.text.strip())
    first = next((t for t in parts if t.language), parts[0])
    return Transcript(text, first.language, first.language_probability, duration, tuple(segs), task)


