"""wyoming backend: text to speech on a remote Wyoming tts server (wyoming-piper, or another
machine's `assistant serve`), at ``tts.uri``. The audio is resampled to SAMPLE_RATE so the
speaker sees one rate whatever the server speaks. Unreachable -> ApiError without a status
(the local fallback takes over)."""
from __future__ import annotations

from typing import Iterator

import numpy as np
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStop
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeVoice

from ..audio.resample import StreamResampler
from ..config import TtsConfig
from ..errors import UserError
from ..faces.wyoming.client import Connection
from ..faces.wyoming.uri import SERVER_PORT
from .models import check_speed

WHAT = "Wyoming speech synthesis"
SAMPLE_RATE = 22_050  # what the local voices speak; remote audio is brought to it


class WyomingSynthesizer:
    sample_rate = SAMPLE_RATE

    def __init__(self, cfg: TtsConfig):
        if not cfg.uri:
            raise UserError("tts.backend = \"wyoming\" needs tts.uri = \"tcp://HOST:PORT\"")
        self.cfg = cfg
        Connection(cfg.uri, SERVER_PORT, cfg.timeout, WHAT)  # a bad address fails now
        self._voices: dict[str, list[str]] | None = None

    def _connect(self) -> Connection:
        return Connection(self.cfg.uri, SERVER_PORT, self.cfg.timeout, WHAT)

    def voices(self) -> dict[str, list[str]]:
        """The server's voices and their languages (asked once with Describe)."""
        if self._voices is None:
            with self._connect() as conn:
                conn.send(Describe().event())
                conn.flush()
                info = Info.from_event(conn.receive_until(lambda e: Info.is_type(e.type)))
            self._voices = {v.name: list(v.languages) for p in info.tts for v in p.voices if v.installed}
        return self._voices

    def load(self, voice: str) -> None:
        pass  # the server loads its own voices

    def warm_up(self, voice: str) -> None:
        pass  # the server loads its own voices

    def validate(self, voice: str, speed: float, instructions: str | None) -> None:
        check_speed(speed)

    def _voice(self, voice: str) -> SynthesizeVoice | None:
        """``tts.voice`` when the server has a voice of that name (e.g. "en_US-joe-medium"), else
        the server's default voice (servers list voices they have not downloaded, so none is guessed)."""
        return SynthesizeVoice(name=voice) if voice in self.voices() else None

    def synthesize(self, text: str, *, voice: str, speed: float = 1.0, language: str | None = None,
                   instructions: str | None = None) -> Iterator[np.ndarray]:
        if not text or not text.strip():
            raise UserError("nothing to say: the text is empty")
        wanted = self._voice(voice)
        with self._connect() as conn:
            conn.send(Synthesize(text=text, voice=wanted).event())
            conn.flush()
            converter = AudioChunkConverter(width=2, channels=1)
            resampler: StreamResampler | None = None
            while True:
                event = conn.receive()
                if AudioChunk.is_type(event.type):
                    chunk = converter.convert(AudioChunk.from_event(event))
                    if resampler is None or resampler.rate_in != chunk.rate:
                        resampler = StreamResampler(chunk.rate, SAMPLE_RATE)
                    out = resampler.process(np.frombuffer(chunk.audio, dtype="<i2"))
                    if len(out):
                        yield out
                elif AudioStop.is_type(event.type):
                    if resampler is not None:
                        tail = resampler.process(np.zeros(0, np.int16), last=True)
                        if len(tail):
                            yield tail
                    return
