"""Shared by `assistant say` and api.say: resolve options, synthesize, play while streaming, save."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np

from ..config import Config, with_overrides
from ..errors import UserError
from ..secrets import resolve_backend
from .base import Speech, Synthesizer
from .factory import make_synthesizer
from .models import check_speed, model_rules
from .text import speakable

if TYPE_CHECKING:
    from ..audio.playback import Speaker

log = logging.getLogger(__name__)
API_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")


@dataclass(frozen=True)
class Plan:
    synthesizer: Synthesizer
    backend: str
    text: str
    voice: str
    speed: float
    instructions: str | None
    language: str | None


def plan(cfg: Config, text: str, *, voice: str | None = None, model: str | None = None,
         speed: float | None = None, instructions: str | None = None, language: str | None = None,
         backend: str | None = None) -> Plan:
    """Check everything before any request is sent; UserError (one line) on bad input."""
    if text is None or not speakable(str(text)).strip():
        raise UserError("nothing to say: the text is empty")
    chosen = resolve_backend(backend or cfg.tts.backend, cfg.tts.base_url)
    if model:
        cfg = with_overrides(cfg, tts={"model": model})
    speed = check_speed(cfg.tts.speed if speed is None else speed)
    if instructions is None and cfg.tts.instructions:
        # configured instructions apply only where the model takes them
        if chosen != "openai" or model_rules(cfg.tts.model).instructions:
            instructions = cfg.tts.instructions
    synth = make_synthesizer(cfg, chosen)
    voice = (voice or cfg.tts.voice).strip().lower()
    synth.validate(voice, speed, instructions or None)
    return Plan(synth, chosen, str(text).strip(), voice, speed, instructions or None, language or None)


def chunks(p: Plan) -> Iterator[np.ndarray]:
    return p.synthesizer.synthesize(p.text, voice=p.voice, speed=p.speed, language=p.language,
                                    instructions=p.instructions)


def render(p: Plan, speaker: "Speaker | None" = None) -> tuple[Speech, bool]:
    """Synthesize; with a ``speaker`` play the chunks as they arrive. (speech, played to the end)."""
    kept: list[np.ndarray] = []

    def tee() -> Iterator[np.ndarray]:
        for chunk in chunks(p):
            kept.append(chunk)
            yield chunk

    finished = True
    if speaker is not None:
        finished = bool(speaker.play(tee(), p.synthesizer.sample_rate))
    else:
        for _ in tee():
            pass
    return Speech.from_chunks(kept, p.synthesizer.sample_rate), finished


def stream_to_file(p: Plan, out: Path, fmt: str, *, overwrite: bool) -> bool:
    """Synthesize straight into ``out`` chunk by chunk (atomically), so memory stays flat for any
    length of text. False (nothing written) when ``fmt`` needs the whole clip (opus resampling)."""
    import soundfile as sf

    from ..paths import atomic_path
    from .base import SAVE_FORMATS, encode

    rate = p.synthesizer.sample_rate
    if fmt not in SAVE_FORMATS or (fmt == "opus" and rate not in (8000, 12000, 16000, 24000, 48000)):
        return False
    encode(np.zeros(1, np.int16), rate, fmt)  # a one-line UserError when libsndfile cannot write it
    container, subtype = SAVE_FORMATS[fmt]
    with atomic_path(out, overwrite=overwrite) as tmp:
        with sf.SoundFile(str(tmp), "w", samplerate=rate, channels=1, format=container, subtype=subtype) as f:
            for chunk in chunks(p):
                f.write(np.asarray(chunk, dtype=np.int16))
    return True


def fetch_encoded(p: Plan, fmt: str) -> bytes | None:
    """openai only: the whole clip in ``fmt`` straight from the API when one request can carry it."""
    from .openai import OpenAISynthesizer

    synth = p.synthesizer
    if not isinstance(synth, OpenAISynthesizer) or fmt not in API_FORMATS or len(synth.parts(p.text)) != 1:
        return None
    return synth.fetch(p.text, voice=p.voice, speed=p.speed, instructions=p.instructions, response_format=fmt)


def default_output(fmt: str = "wav") -> Path:
    """$XDG_DATA_HOME/assistant/speech/<time>.<fmt> (never an existing file)."""
    from ..paths import data_dir, ensure_private_dir, unique_path

    directory = ensure_private_dir(data_dir() / "speech")
    return unique_path(directory, time.strftime("%Y%m%d-%H%M%S"), f".{fmt}")
