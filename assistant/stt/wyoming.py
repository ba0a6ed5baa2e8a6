"""wyoming backend: speech to text on a remote Wyoming asr server (wyoming-faster-whisper, or
another machine's `assistant serve`), at ``stt.uri``. Unreachable -> ApiError without a status,
so ``service.fallback_local`` switches to the local engine and says so once."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
from wyoming.asr import Transcribe, Transcript as WyTranscript
from wyoming.audio import AudioStart, AudioStop
from wyoming.info import Describe, Info

from ..audio.format import SAMPLE_RATE
from ..config import SttConfig
from ..errors import UserError
from ..faces.wyoming.audio import audio_chunks
from ..faces.wyoming.client import Connection
from ..faces.wyoming.info import TRANSLATE_SUFFIX
from ..faces.wyoming.uri import SERVER_PORT
from .audio import as_pcm
from .base import Task, Transcript

WHAT = "Wyoming speech recognition"


class WyomingTranscriber:
    def __init__(self, cfg: SttConfig):
        if not cfg.uri:
            raise UserError("stt.backend = \"wyoming\" needs stt.uri = \"tcp://HOST:PORT\"")
        self.cfg = cfg
        Connection(cfg.uri, SERVER_PORT, cfg.timeout, WHAT)  # a bad address fails now, not mid-turn
        self._translate_model: str | None = None

    def _connect(self) -> Connection:
        return Connection(self.cfg.uri, SERVER_PORT, self.cfg.timeout, WHAT)

    def translate_model(self) -> str:
        """The server's model that translates to English (asked once with Describe)."""
        if self._translate_model is None:
            with self._connect() as conn:
                conn.send(Describe().event())
                conn.flush()
                info = Info.from_event(conn.receive_until(lambda e: Info.is_type(e.type)))
            names = [m.name for p in info.asr for m in p.models]
            found = [n for n in names if n.endswith(TRANSLATE_SUFFIX)]
            if not found:
                raise UserError(f"the Wyoming server at {self.cfg.uri} does not translate "
                                f"(its asr models: {', '.join(names) or 'none'})")
            self._translate_model = found[0]
        return self._translate_model

    def transcribe(self, pcm: np.ndarray, *, task: Task = "transcribe", language: str | None = None,
                   prompt: str | None = None, want_timestamps: bool = False,
                   prior: Mapping[str, float] | None = None) -> Transcript:
        pcm = as_pcm(pcm)
        name = self.translate_model() if task == "translate" else None
        language = language or self.cfg.language or None
        with self._connect() as conn:
            conn.send(Transcribe(name=name, language=language).event())
            conn.send(AudioStart(rate=SAMPLE_RATE, width=2, channels=1).event())
            for chunk in audio_chunks(pcm, SAMPLE_RATE):
                conn.send(chunk.event())
            conn.send(AudioStop().event())
            conn.flush()
            result = WyTranscript.from_event(conn.receive_until(lambda e: WyTranscript.is_type(e.type)))
        text = (result.text or "").strip()
        lang = result.language or (language if task == "transcribe" else "en")
        return Transcript(text=text, language=lang, duration=len(pcm) / SAMPLE_RATE, task=task)

    def transcribe_file(self, path: Path, **_options: Any) -> None:
        return None  # decoded to samples by files.FileInput

    def warm_up(self) -> None:
        pass  # the server loads its own models

    def listen_ahead(self, pcm: np.ndarray) -> None:
        pass  # the server hears the whole utterance at once
