"""openai backend: POST /audio/speech through the openai SDK, streamed as 24 kHz pcm.

Requests carry only fields the spec allows for the model (``instructions`` never for tts-1 /
tts-1-hd; ``stream_format`` left at its default "audio"). Inputs over 4096 characters are split
at sentence boundaries and the parts' pcm is concatenated, so the join is seamless.

Answers are checked before they are used: text or JSON instead of audio, no audio at all, a pcm
body of odd length or an encoded file that does not decode is ApiError (code bad_response); a
body cut off mid-stream is retried once (the samples already played are skipped), then ApiError.
"""
from __future__ import annotations

import logging
from typing import Any, Iterator

import numpy as np

from ..config import TtsConfig
from ..errors import ApiError, UserError
from ..openai_client import BAD_RESPONSE, ApiBacked, bad_response
from .models import MAX_INPUT_CHARS, PCM_RATE, RESPONSE_FORMATS, check_request
from .text import pack

log = logging.getLogger(__name__)


def pcm_chunks(byte_chunks: Iterator[bytes]) -> Iterator[np.ndarray]:
    """s16le bytes in arbitrary pieces -> int16 arrays; an odd trailing byte waits for the next piece.
    No bytes at all, or an odd byte left at the end, is a bad answer (ApiError)."""
    rest = b""
    total = 0
    for piece in byte_chunks:
        data = rest + piece
        cut = len(data) - (len(data) % 2)
        rest = data[cut:]
        total += len(piece)
        if cut:
            yield np.frombuffer(data[:cut], dtype="<i2").astype(np.int16)
    if total == 0:
        raise bad_response("the speech API answered without any audio")
    if rest:
        raise bad_response(f"the speech API sent {total} bytes of pcm: an odd length is not 16-bit audio")


def _skip(chunks: Iterator[np.ndarray], samples: int) -> Iterator[np.ndarray]:
    """``chunks`` without their first ``samples`` samples (already played before a retry)."""
    for chunk in chunks:
        if samples >= len(chunk):
            samples -= len(chunk)
            continue
        yield chunk[samples:]
        samples = 0


def check_audio(data: bytes, fmt: str) -> None:
    """ApiError unless ``data`` really is audio in ``fmt`` (decoded for wav/flac, headers else)."""
    if not data:
        raise bad_response("the speech API answered without any audio")
    head = data[:64].lstrip()[:15].lower()
    if head.startswith((b"<", b"{", b"[")) or head.startswith(b"<!doctype"):
        raise bad_response(f"the speech API sent text instead of {fmt} audio: {_preview(data)}")
    ok = True
    if fmt == "pcm":
        ok = len(data) % 2 == 0
    elif fmt in ("wav", "flac"):
        import io

        import soundfile as sf

        # soundfile decodes any container, so an mp3 labelled wav would pass: the magic first
        magic = data[:4] in (b"RIFF", b"RF64") and data[8:12] == b"WAVE" if fmt == "wav" else data[:4] == b"fLaC"
        try:
            samples, _rate = sf.read(io.BytesIO(data), dtype="int16")
            ok = magic and len(samples) > 0
        except Exception:  # noqa: BLE001 - any decoder failure means: not audio
            ok = False
    elif fmt == "mp3":
        ok = data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)
    elif fmt == "opus":
        ok = data.startswith(b"OggS") and b"OpusHead" in data[:128]
    elif fmt == "aac":
        ok = data.startswith(b"ADIF") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xF6 == 0xF0)
    if not ok:
        raise bad_response(f"the speech API's answer is not valid {fmt} audio ({len(data)} bytes)")


def _preview(data: bytes) -> str:
    text = data[:80].decode("utf-8", "replace")
    return " ".join(text.split())[:60]


def request_body(model: str, text: str, voice: str, speed: float, response_format: str,
                 instructions: str | None) -> dict[str, Any]:
    """The JSON fields for one /audio/speech call (checked against the model's rules)."""
    rules = check_request(model, voice, speed, instructions)
    if response_format not in RESPONSE_FORMATS:
        raise UserError(f"unknown response format {response_format!r}; use one of {', '.join(RESPONSE_FORMATS)}")
    if len(text) > MAX_INPUT_CHARS:
        raise UserError(f"input is {len(text)} characters; the limit per request is {MAX_INPUT_CHARS}")
    body: dict[str, Any] = {"model": model, "input": text, "voice": voice, "speed": float(speed),
                            "response_format": response_format}
    if instructions and rules.instructions:
        body["instructions"] = instructions
    return body


class OpenAISynthesizer(ApiBacked):
    section = "tts"
    sample_rate = PCM_RATE
    _broken = False  # the last answer broke twice: fail the next reply fast, once

    def __init__(self, cfg: TtsConfig | None = None, client: Any = None):
        self.cfg = cfg or TtsConfig()
        self._client = client

    @property
    def model(self) -> str:
        return self.cfg.model

    def load(self, voice: str) -> None:
        pass  # nothing to load

    def warm_up(self, voice: str) -> None:
        pass  # nothing to load

    def validate(self, voice: str, speed: float, instructions: str | None) -> None:
        check_request(self.model, voice, speed, instructions)

    def synthesize(self, text: str, *, voice: str, speed: float = 1.0, language: str | None = None,
                   instructions: str | None = None) -> Iterator[np.ndarray]:
        """Stream pcm for each part of the text; chunks are yielded as the bytes arrive."""
        self.validate(voice, speed, instructions)
        parts = self.parts(text)
        for part in parts:
            body = request_body(self.model, part, voice, speed, "pcm", instructions)
            yield from self._pcm_with_retry(body)

    def _pcm_with_retry(self, body: dict[str, Any]) -> Iterator[np.ndarray]:
        """One part's pcm; a broken or garbage answer is asked for once more, skipping what was sent.
        Broken twice: the next reply fails once before any audio (so a fallback engine, if any,
        takes over) instead of being cut off again; the one after asks the API again."""
        if self._broken:
            self._broken = False
            raise bad_response("the speech API cut off its last answer twice; not asking it this time", None)
        sent = 0
        for attempt in (1, 2):
            try:
                for chunk in _skip(pcm_chunks(self._stream(body)), sent):
                    sent += len(chunk)
                    yield chunk
                return
            except ApiError as exc:
                if exc.code != BAD_RESPONSE:  # the SDK retried statuses already
                    raise
                if attempt == 2:
                    self._broken = True
                    raise
                log.info("speech answer unusable (%s); asking once more", exc)

    def fetch(self, text: str, *, voice: str, speed: float = 1.0, instructions: str | None = None,
              response_format: str = "mp3") -> bytes:
        """One request for the whole text in an encoded ``response_format`` (text must fit one request)."""
        self.validate(voice, speed, instructions)
        parts = self.parts(text)
        if len(parts) != 1:
            raise UserError(f"text is longer than {MAX_INPUT_CHARS} characters: cannot fetch it as one {response_format} file")
        body = request_body(self.model, parts[0], voice, speed, response_format, instructions)
        for attempt in (1, 2):
            try:
                data = b"".join(self._stream(body))
                check_audio(data, response_format)
                return data
            except ApiError as exc:
                if attempt == 2 or exc.code != BAD_RESPONSE:  # the SDK retried statuses already
                    raise
                log.info("speech answer unusable (%s); asking once more", exc)
        raise AssertionError("unreachable")

    @staticmethod
    def parts(text: str) -> list[str]:
        if not text or not text.strip():
            raise UserError("nothing to say: the text is empty")
        return pack(text.strip(), MAX_INPUT_CHARS)

    def _stream(self, body: dict[str, Any]) -> Iterator[bytes]:
        log.debug("POST /audio/speech model=%s voice=%s chars=%d format=%s", body["model"], body["voice"],
                  len(body["input"]), body["response_format"])
        speech = self.client.audio.speech.with_streaming_response
        response_cm = self._call(lambda: speech.create(**body))
        response = self._call(response_cm.__enter__)  # sends the request, reads the headers
        try:
            ctype = str(response.headers.get("content-type") or "").lower()
            if ctype.startswith(("text/", "application/json")):
                preview = self._call(lambda: response.read()[:200])
                raise bad_response(f"the speech API answered with {ctype.split(';')[0]} instead of audio: "
                                   f"{_preview(preview)}")
            iterator = response.iter_bytes()  # pieces as they arrive
            while (piece := self._call(lambda: next(iterator, None))) is not None:
                if piece:
                    yield piece
        finally:
            response_cm.__exit__(None, None, None)

