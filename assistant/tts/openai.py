"""openai backend: POST /audio/speech through the openai SDK, streamed as 24 kHz pcm.

Requests carry only fields the spec allows for the model (``instructions`` never for tts-1 /
tts-1-hd; ``stream_format`` left at its default "audio"). Inputs over 4096 characters are split
at sentence boundaries and the parts' pcm is concatenated, so the join is seamless.
"""
from __future__ import annotations

import logging
from typing import Any, Iterator

import numpy as np

from ..config import TtsConfig
from ..errors import UserError
from .models import MAX_INPUT_CHARS, PCM_RATE, RESPONSE_FORMATS, check_request
from .text import pack

from ..openai_client import ApiBacked

log = logging.getLogger(__name__)


def pcm_chunks(byte_chunks: Iterator[bytes]) -> Iterator[np.ndarray]:
    """s16le bytes in arbitrary pieces -> int16 arrays; an odd trailing byte waits for the next piece."""
    rest = b""
    for piece in byte_chunks:
        data = rest + piece
        cut = len(data) - (len(data) % 2)
        rest = data[cut:]
        if cut:
            yield np.frombuffer(data[:cut], dtype="<i2").astype(np.int16)


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

    def __init__(self, cfg: TtsConfig | None = None, client: Any = None):
        self.cfg = cfg or TtsConfig()
        self._client = client

    @property
    def model(self) -> str:
        return self.cfg.model

    def validate(self, voice: str, speed: float, instructions: str | None) -> None:
        check_request(self.model, voice, speed, instructions)

    def synthesize(self, text: str, *, voice: str, speed: float = 1.0, language: str | None = None,
                   instructions: str | None = None) -> Iterator[np.ndarray]:
        """Stream pcm for each part of the text; chunks are yielded as the bytes arrive."""
        self.validate(voice, speed, instructions)
        parts = self.parts(text)
        for part in parts:
            body = request_body(self.model, part, voice, speed, "pcm", instructions)
            yield from pcm_chunks(self._stream(body))

    def fetch(self, text: str, *, voice: str, speed: float = 1.0, instructions: str | None = None,
              response_format: str = "mp3") -> bytes:
        """One request for the whole text in an encoded ``response_format`` (text must fit one request)."""
        self.validate(voice, speed, instructions)
        parts = self.parts(text)
        if len(parts) != 1:
            raise UserError(f"text is longer than {MAX_INPUT_CHARS} characters: cannot fetch it as one {response_format} file")
        body = request_body(self.model, parts[0], voice, speed, response_format, instructions)
        return b"".join(self._stream(body))

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
            iterator = response.iter_bytes()  # pieces as they arrive
            while (piece := self._call(lambda: next(iterator, None))) is not None:
                if piece:
                    yield piece
        finally:
            response_cm.__exit__(None, None, None)

