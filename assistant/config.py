"""TOML configuration -> frozen dataclasses.

The defaults live in ``assistant/data/default.toml`` (``config/default.toml`` is the same file).
A user file is layered over them; unknown keys and wrong types are errors naming key and file.
"""
from __future__ import annotations

import dataclasses
import math
import os
import tomllib
import typing
import urllib.parse
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigError, UserError
from .paths import read_regular_file
from .sentences import Sentence, parse as parse_sentences

Backend = Literal["auto", "local", "openai"]


@dataclass(frozen=True)
class AudioConfig:
    input_device: str = ""
    output_device: str = ""
    mic_rate: int = 0
    realtime: bool = False
    echo_cancel: str = "auto"
    noise_suppression: bool = False
    auto_gain: bool = False
    earcons: tuple[str, ...] = ("heard", "done")  # tones: heard (wake word), done (turn ended); [] = off
    earcon_volume: float = 0.3


@dataclass(frozen=True)
class VadConfig:
    aggressiveness: int = 2
    start_window_ms: int = 150
    start_ratio: float = 0.6
    pre_roll_ms: int = 300
    hangover_ms: int = 300
    padding_ms: int = 150
    min_speech_ms: int = 250
    min_word_ms: int = 200
    max_utterance_s: float = 30.0
    noise_margin_db: float = 6.0
    engine: str = "webrtc"
    speculate_ms: int = 150  # silence after which the loop starts transcribing before the hangover ends; 0 = off
    end_early: bool = False  # live input: a speculative transcript that is a complete command ends the turn then


@dataclass(frozen=True)
class ServiceBackend:
    """Keys shared by stt, tts and images."""

    backend: str = "auto"
    model: str = ""
    base_url: str = ""
    timeout: float = 30.0
    max_retries: int = 2


@dataclass(frozen=True)
class SttConfig(ServiceBackend):
    model: str = "gpt-4o-mini-transcribe"
    translate_model: str = "whisper-1"
    timestamps_model: str = "whisper-1"
    translate_fallback_model: str = "gpt-4o-mini"
    language: str = ""
    local_model: str = "auto"
    local_threads: int = 2
    local_compute_type: str = "int8"
    local_window_s: float = 10.0  # base's decoding window: speech + 1 s, at least this; 30 = Whisper's full window
    no_speech_threshold: float = 0.6
    logprob_threshold: float = -1.0
    hallucinations: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en", "ko")
    english_first: bool = True
    english_parallel: bool = True  # local: the tiny.en try beside the language evidence (a second thread)
    early_evidence_s: float = 1.0  # live, local: language evidence after this much speech, reused at the end; 0 = off
    last_language_weight: float = 0.6  # prior mass on the session's last heard language (0 = uniform)
    english_first_logprob: float = -0.8
    uri: str = ""  # backend "wyoming": tcp://HOST:PORT of a Wyoming asr server


@dataclass(frozen=True)
class TtsConfig(ServiceBackend):
    model: str = "gpt-4o-mini-tts"
    voice: str = "alloy"
    speed: float = 1.0
    instructions: str = ""
    local_engine: str = "auto"
    deterministic: bool = False
    uri: str = ""  # backend "wyoming": tcp://HOST:PORT of a Wyoming tts server
    cache_phrases: bool = True  # local voices: the fixed replies' first sentences prepared after warm-up


@dataclass(frozen=True)
class ImagesConfig(ServiceBackend):
    model: str = "gpt-image-2"
    timeout: float = 120.0
    size: str = "auto"
    quality: str = "auto"
    style: str = ""
    output_format: str = "png"
    output_dir: str = ""
    max_jobs: int = 2
    fit: str = "pad"
    partial_images: int = 0
    download_max_mb: int = 50
    max_megapixels: float = 50.0


@dataclass(frozen=True)
class ChatConfig(ServiceBackend):
    """Answers to what is not a command, by a chat model (Chat Completions); "off" = the short help."""

    model: str = "gpt-5.4-mini"
    instructions: str = ""          # "" = the built-in: short, speakable, in the user's language
    max_output_tokens: int = 300
    history_turns: int = 6


@dataclass(frozen=True)
class RouterConfig:
    reply_language: str = "auto"
    wake_word: str = ""
    follow_up_s: float = 8.0
    echo_window_s: float = 10.0


@dataclass(frozen=True)
class ServiceConfig:
    history: str = ""
    log_level: str = "info"
    fallback_local: bool = True
    history_max_mb: float = 10.0  # rotate history.jsonl past this size (0 = never)
    history_keep: int = 3  # rotated generations kept: history.jsonl.1 .. .N
    http: str = ""  # the web page's HOST:PORT for run/serve ("" = off); never a token here
    wyoming: str = ""  # tcp://HOST:PORT: serve Wyoming (Home Assistant) beside the loop; "" = off
    satellites: tuple[str, ...] = ()  # tcp://HOST:PORT of wyoming-satellite servers to drive


@dataclass(frozen=True)
class Config:
    audio: AudioConfig = field(default_factory=AudioConfig)
    vad: VadConfig = field(default_factory=VadConfig)
    stt: SttConfig = field(default_factory=SttConfig)
    tts: TtsConfig = field(default_factory=TtsConfig)
    images: ImagesConfig = field(default_factory=ImagesConfig)
    router: RouterConfig = field(default_factory=RouterConfig)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    chat: ChatConfig = field(default_factory=ChatConfig)
    sentences: tuple[Sentence, ...] = ()  # [[sentences]]: the user's own commands (sentences.py)
    source: tuple[str, ...] = ()  # files the values came from, defaults first


# ------------------------------------------------------------------------------ rules (data)
@dataclass(frozen=True)
class Rule:
    """What one key may hold beyond its type. Floats are always finite (no nan/inf)."""

    lo: float | None = None  # inclusive minimum
    hi: float | None = None  # inclusive maximum
    above: float | None = None  # exclusive minimum (timeout > 0)
    choices: tuple[Any, ...] = ()
    url: bool = False  # "" or http(s)://host...
    tcp: bool = False  # "" or tcp://HOST:PORT (Wyoming peers)
    hostport: bool = False  # "" or HOST:PORT (the web page)
    also: tuple[Any, ...] = ()  # extra values allowed besides the range (mic_rate = 0)


_BACKENDS = ("auto", "local", "openai")
_SERVICE = {"backend": Rule(choices=_BACKENDS), "base_url": Rule(url=True), "timeout": Rule(above=0, hi=3600),
            "max_retries": Rule(lo=0, hi=10), "model": Rule()}
_MS = Rule(lo=0, hi=10_000)

RULES: dict[str, Rule] = {
    "audio.input_device": Rule(), "audio.output_device": Rule(),
    "audio.mic_rate": Rule(lo=1000, hi=384_000, also=(0,)), "audio.realtime": Rule(),
    "vad.aggressiveness": Rule(lo=0, hi=3), "vad.start_window_ms": Rule(lo=30, hi=3000),
    "vad.start_ratio": Rule(above=0, hi=1), "vad.pre_roll_ms": _MS, "vad.hangover_ms": _MS, "vad.speculate_ms": _MS, "vad.end_early": Rule(),
    "vad.padding_ms": _MS, "vad.min_speech_ms": Rule(lo=30, hi=10_000), "vad.min_word_ms": Rule(lo=30, hi=10_000),
    "vad.max_utterance_s": Rule(above=0, hi=600), "vad.noise_margin_db": Rule(lo=-60, hi=60),
    "vad.engine": Rule(choices=("webrtc", "silero", "both")),
    **{f"stt.{k}": r for k, r in _SERVICE.items()},
    "stt.backend": Rule(choices=(*_BACKENDS, "wyoming")), "stt.uri": Rule(tcp=True),
    "stt.translate_model": Rule(), "stt.timestamps_model": Rule(), "stt.translate_fallback_model": Rule(),
    "stt.language": Rule(), "stt.local_model": Rule(), "stt.local_threads": Rule(lo=0, hi=64),
    "stt.local_compute_type": Rule(choices=("int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16",
                                            "float16", "bfloat16", "float32", "default", "auto")),
    "stt.no_speech_threshold": Rule(lo=0, hi=1), "stt.logprob_threshold": Rule(lo=-20, hi=0),
    "stt.hallucinations": Rule(), "stt.languages": Rule(), "stt.english_first": Rule(), "stt.english_parallel": Rule(), "stt.early_evidence_s": Rule(lo=0, hi=30), "stt.local_window_s": Rule(lo=1, hi=30), "stt.last_language_weight": Rule(lo=0, hi=1),
    "stt.english_first_logprob": Rule(lo=-20, hi=0),
    **{f"tts.{k}": r for k, r in _SERVICE.items()},
    "tts.backend": Rule(choices=(*_BACKENDS, "wyoming")), "tts.uri": Rule(tcp=True),
    "tts.voice": Rule(), "tts.speed": Rule(lo=0.25, hi=4.0), "tts.instructions": Rule(hi=4096),
    "tts.local_engine": Rule(choices=("auto", "piper", "espeak")), "tts.deterministic": Rule(), "tts.cache_phrases": Rule(),
    **{f"images.{k}": r for k, r in _SERVICE.items()},
    "images.size": Rule(), "images.quality": Rule(choices=("auto", "low", "medium", "high", "standard", "hd")),
    "images.style": Rule(choices=("", "vivid", "natural")), "images.output_format": Rule(choices=("png", "jpeg", "webp")),
    "images.output_dir": Rule(), "images.max_jobs": Rule(lo=1, hi=16), "images.fit": Rule(choices=("pad", "crop", "stretch")),
    "images.partial_images": Rule(lo=0, hi=3), "images.download_max_mb": Rule(lo=1, hi=1024),
    "images.max_megapixels": Rule(above=0, hi=1000),
    "router.reply_language": Rule(choices=("auto", "en", "ko")), "router.wake_word": Rule(),
    "router.follow_up_s": Rule(lo=0, hi=3600), "router.echo_window_s": Rule(lo=0, hi=3600),
    "service.history": Rule(), "service.log_level": Rule(choices=("debug", "info", "warning", "error")),
    "service.fallback_local": Rule(), "service.history_max_mb": Rule(lo=0, hi=100_000),
    "service.history_keep": Rule(lo=1, hi=100),
    "service.http": Rule(hostport=True), "service.wyoming": Rule(tcp=True), "service.satellites": Rule(tcp=True),
    "audio.earcons": Rule(choices=("heard", "done")), "audio.earcon_volume": Rule(lo=0.0, hi=1.0),
    "audio.echo_cancel": Rule(choices=("auto", "on", "off")), "audio.noise_suppression": Rule(), "audio.auto_gain": Rule(),
    **{f"chat.{k}": r for k, r in _SERVICE.items()},
    "chat.backend": Rule(choices=("auto", "openai", "off")), "chat.instructions": Rule(hi=4096),
    "chat.max_output_tokens": Rule(lo=16, hi=4096), "chat.history_turns": Rule(lo=0, hi=50),
}


def default_config_text() -> str:
    return resources.files("assistant").joinpath("data/default.toml").read_text("utf-8")


def user_config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """--config PATH, else $ASSISTANT_CONFIG, else $XDG_CONFIG_HOME/assistant/config.toml if present."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("ASSISTANT_CONFIG")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    candidate = base / "assistant" / "config.toml"
    return candidate if candidate.is_file() else None


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Defaults layered with the user's file (see ``user_config_path``)."""
    merged = _parse(default_config_text(), "default.toml")
    sources = ["default.toml"]
    user = user_config_path(path)
    if user is not None:
        _merge(merged, _parse(_read_config_file(user), str(user)))
        sources.append(str(user))
    return validate(build_config(merged, sources[-1], tuple(sources)))


MAX_CONFIG_BYTES = 1 << 20  # a config file is a few KB; more is a mistake (or /dev/zero)


def _read_config_file(path: Path) -> str:
    """The user's file as text. Opened without blocking and refused unless it is a regular file
    (a FIFO or /dev/zero would hang the start or a SIGHUP reload); /dev/null reads as empty."""
    try:
        data = read_regular_file(path, MAX_CONFIG_BYTES, null_is_empty=True)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"cannot read config file {path}: larger than {MAX_CONFIG_BYTES // 1024} KB")
    try:
        return data.decode("utf-8-sig")  # a BOM (Windows editors) is not TOML's business
    except UnicodeDecodeError as exc:
        raise ConfigError(f"cannot read config file {path}: not UTF-8 text (byte {exc.start})") from None


def build_config(data: dict[str, Any], filename: str = "<config>", sources: tuple[str, ...] = ()) -> Config:
    sections = {}
    for f in dataclasses.fields(Config):
        if f.name == "source":
            continue
        if f.name == "sentences":
            sections[f.name] = parse_sentences(data.pop(f.name, []), filename)
            continue
        sections[f.name] = _build_section(f.name, _hint(Config, f.name), data.pop(f.name, {}), filename)
    for key in data:
        raise ConfigError(f"unknown key '{key}' in {filename}")
    return Config(**sections, source=sources)


def with_overrides(cfg: Config, **sections: dict[str, Any]) -> Config:
    """A copy of ``cfg`` with some keys replaced, validated like file values."""
    changes = {}
    for name, values in sections.items():
        current = dataclasses.asdict(getattr(cfg, name))
        current.update({k: v for k, v in values.items() if v is not None})
        changes[name] = _build_section(name, _hint(Config, name), current, "<command line>")
    return dataclasses.replace(cfg, **changes)


def as_dict(cfg: Config) -> dict[str, Any]:
    data = {f.name: dataclasses.asdict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)
            if f.name not in ("source", "sentences")}
    data["sentences"] = [{k: v for k, v in dataclasses.asdict(s).items() if k != "patterns" and v not in ("", (), None)}
                         for s in cfg.sentences]
    return data


def _parse(text: str, filename: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML in {filename}: {exc}") from None
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        raise ConfigError(f"invalid TOML in {filename}: nested too deeply") from None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> None:
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def _hint(cls: type, name: str) -> Any:
    return typing.get_type_hints(cls)[name]


def _build_section(section: str, cls: type, values: Any, filename: str) -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"'{section}' must be a table in {filename}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        dotted = f"{section}.{key}"
        if key not in known:
            raise ConfigError(f"unknown key '{dotted}' in {filename}")
        kwargs[key] = _check_value(dotted, _hint(cls, key), value, filename)
    return cls(**kwargs)


def _check_value(dotted: str, hint: Any, value: Any, filename: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"'{dotted}' must be a list of strings, got {value!r} in {filename}")
        rule = RULES.get(dotted, Rule())
        for item in value:
            _check_tcp(dotted, rule, item, filename)
            if rule.choices and item not in rule.choices:
                raise ConfigError(f"'{dotted}' may hold {', '.join(rule.choices)}, got {item!r} in {filename}")
        return tuple(value)
    expected = {int: (int,), float: (int, float), str: (str,), bool: (bool,)}[hint]
    if not isinstance(value, expected) or (hint is not bool and isinstance(value, bool)):
        raise ConfigError(f"'{dotted}' must be {hint.__name__}, got {type(value).__name__} {value!r} in {filename}")
    value = hint(value)
    rule = RULES.get(dotted, Rule())
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"'{dotted}' must be a finite number, got {value!r} in {filename}")
    if isinstance(value, str) and "\0" in value:
        raise ConfigError(f"'{dotted}' must not contain NUL characters in {filename}")
    if rule.choices and value not in rule.choices:
        shown = ", ".join(repr(c) if c == "" else str(c) for c in rule.choices)
        raise ConfigError(f"'{dotted}' must be one of {shown}, got {value!r} in {filename}")
    if rule.url and value and not _http_url(value):
        raise ConfigError(f"'{dotted}' must be an http:// or https:// URL, got {value!r} in {filename}")
    _check_tcp(dotted, rule, value, filename)
    if isinstance(value, str):
        if rule.hi is not None and len(value) > rule.hi:
            raise ConfigError(f"'{dotted}' may be at most {rule.hi:g} characters, got {len(value)} in {filename}")
        return value
    if isinstance(value, bool) or value in rule.also:
        return value
    if rule.above is not None and not value > rule.above:
        raise ConfigError(f"'{dotted}' must be greater than {rule.above:g}, got {value!r} in {filename}")
    if rule.lo is not None and value < rule.lo or rule.hi is not None and value > rule.hi:
        lo = "" if rule.lo is None else f"{rule.lo:g}"
        hi = "" if rule.hi is None else f"{rule.hi:g}"
        what = f"between {lo} and {hi}" if lo and hi else (f"at least {lo}" if lo else f"at most {hi}")
        raise ConfigError(f"'{dotted}' must be {what}, got {value!r} in {filename}")
    return value


def _check_tcp(dotted: str, rule: Rule, value: Any, filename: str) -> None:
    """Network addresses, checked by the parsers their faces use (pure, no socket)."""
    if not ((rule.tcp or rule.hostport) and isinstance(value, str) and value):
        return
    try:
        if rule.tcp:
            from .faces.wyoming.uri import parse_uri  # noqa: PLC0415 - lives with its face

            parse_uri(value, 10400, default_host=None)
        else:
            from .faces.web.security import parse_address  # noqa: PLC0415

            parse_address(value)
    except UserError as exc:
        raise ConfigError(f"'{dotted}': {exc} in {filename}") from None


def _http_url(value: str) -> bool:
    try:
        parts = urllib.parse.urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in value)


# ------------------------------------------------------------------------------ cross-key checks
def validate(cfg: Config, filename: str | None = None) -> Config:
    """Checks that need more than one key or the engines' tables: model ids, voices, wake words,
    languages, local model. ConfigError (one line naming key, value and file) or ``cfg``."""
    where = filename or (cfg.source[-1] if cfg.source else "<config>")

    def bad(key: str, value: Any, why: str) -> ConfigError:
        return ConfigError(f"'{key}' = {value!r} {why} in {where}")

    from .secrets import server_url  # noqa: PLC0415 - small, but keeps config importable alone
    from .stt.languages import LANGUAGES  # noqa: PLC0415
    from .stt.models import TRANSLATION_MODELS, TRANSCRIPTION_MODELS  # noqa: PLC0415
    from .tts.models import ALL_VOICES, MODELS as TTS_MODELS, model_rules  # noqa: PLC0415
    from .images.models import MODELS as IMAGE_MODELS, parse_size, size_allowed  # noqa: PLC0415

    # Model ids: the capability tables for the OpenAI API; a compatible server (base_url or
    # $OPENAI_BASE_URL) names its own models, so any non-empty id is taken there.
    stt_server, tts_server, img_server = (server_url(getattr(cfg, s).base_url) for s in ("stt", "tts", "images"))
    # A Wyoming peer names its own models and voices; it needs its address.
    for section in ("stt", "tts"):
        if getattr(cfg, section).backend == "wyoming" and not getattr(cfg, section).uri:
            raise bad(f"{section}.uri", "", f"is needed with {section}.backend = \"wyoming\" (tcp://HOST:PORT)")
    stt_server = stt_server or ("wyoming" if cfg.stt.backend == "wyoming" else "")
    tts_server = tts_server or ("wyoming" if cfg.tts.backend == "wyoming" else "")
    for key, value, known, server, empty_ok in (
        ("stt.model", cfg.stt.model, TRANSCRIPTION_MODELS, stt_server, False),
        ("stt.translate_model", cfg.stt.translate_model, TRANSLATION_MODELS, stt_server, False),
        ("stt.timestamps_model", cfg.stt.timestamps_model, TRANSCRIPTION_MODELS, stt_server, True),
        ("tts.model", cfg.tts.model, tuple(TTS_MODELS), tts_server, False),
        ("images.model", cfg.images.model, tuple(IMAGE_MODELS), img_server, False),
    ):
        if not value.strip():
            if empty_ok and value == "":
                continue
            raise bad(key, value, "is empty; name a model")
        if not server and value not in known:
            raise bad(key, value, f"is not a known model; known: {', '.join(known)}")
    if not cfg.stt.translate_fallback_model.strip():
        raise bad("stt.translate_fallback_model", cfg.stt.translate_fallback_model, "is empty; name a chat model")
    if cfg.chat.backend != "off" and not cfg.chat.model.strip():  # every answer would be an API error
        raise bad("chat.model", cfg.chat.model, 'is empty; name a chat model (or chat.backend = "off")')

    # Voices: what the configured backend takes (auto may use either, so the model's list).
    voices = ALL_VOICES if cfg.tts.backend == "local" else model_rules(cfg.tts.model).voices
    if cfg.tts.backend != "wyoming" and cfg.tts.voice not in voices:
        raise bad("tts.voice", cfg.tts.voice, f"is not a voice of {'the local engines' if cfg.tts.backend == 'local' else cfg.tts.model}; "
                  f"valid: {', '.join(voices)}")
    if cfg.tts.instructions and cfg.tts.backend in ("auto", "openai") and not model_rules(cfg.tts.model).instructions:
        raise bad("tts.instructions", cfg.tts.instructions[:40], f"is not taken by {cfg.tts.model}; use gpt-4o-mini-tts")

    # Languages.
    if cfg.stt.language and cfg.stt.language not in LANGUAGES:
        raise bad("stt.language", cfg.stt.language, "is not a Whisper language code (en, ko, ja, ...)")
    for code in cfg.stt.languages:
        if code not in LANGUAGES:
            raise bad("stt.languages", code, "is not a Whisper language code (en, ko, ja, ...)")

    # Local Whisper model: a name we ship or a CTranslate2 directory.
    local = cfg.stt.local_model
    if local not in ("auto", "tiny.en", "base"):
        if not (Path(local).expanduser() / "model.bin").is_file():
            raise bad("stt.local_model", local, "must be auto, tiny.en, base or a CTranslate2 model directory (with model.bin)")

    # Images: the configured defaults must be something some model takes.
    size = cfg.images.size
    if size != "auto" and not any(size_allowed(m, size) for m in IMAGE_MODELS.values()):
        why = "is not WIDTHxHEIGHT" if parse_size(size) is None else "is a size no image model takes"
        raise bad("images.size", size, f"{why} (auto, 1024x1024, 1536x1024, ...)")

    # Wake word: the models pymicro-wakeword ships.
    if cfg.router.wake_word:
        from .vad.wakeword import available_wake_words  # noqa: PLC0415

        words = available_wake_words()
        if not words:
            raise bad("router.wake_word", cfg.router.wake_word, "needs the pymicro-wakeword package (pip install pymicro-wakeword)")
        if cfg.router.wake_word not in words:
            raise bad("router.wake_word", cfg.router.wake_word, f"is not a known wake word; choose one of: {', '.join(words)}")
    return cfg
