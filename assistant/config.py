"""TOML configuration -> frozen dataclasses.

The defaults live in ``assistant/data/default.toml`` (``config/default.toml`` is the same file).
A user file is layered over them; unknown keys and wrong types are errors naming key and file.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigError

Backend = Literal["auto", "local", "openai"]


@dataclass(frozen=True)
class AudioConfig:
    input_device: str = ""
    output_device: str = ""
    mic_rate: int = 0
    realtime: bool = False


@dataclass(frozen=True)
class VadConfig:
    aggressiveness: int = 2
    start_window_ms: int = 150
    start_ratio: float = 0.6
    pre_roll_ms: int = 300
    hangover_ms: int = 300
    padding_ms: int = 150
    min_speech_ms: int = 250
    min_word_ms: int = 250
    max_utterance_s: float = 30.0
    noise_margin_db: float = 6.0
    engine: str = "webrtc"


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
    no_speech_threshold: float = 0.6
    logprob_threshold: float = -1.0
    hallucinations: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en", "ko")
    english_first: bool = True
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
    source: tuple[str, ...] = ()  # files the values came from, defaults first


# Values a key may take beyond its type.
_CHOICES: dict[str, tuple[Any, ...]] = {
    "stt.backend": ("auto", "local", "openai", "wyoming"),
    "tts.backend": ("auto", "local", "openai", "wyoming"),
    "images.backend": ("auto", "local", "openai"),
    "tts.local_engine": ("auto", "piper", "espeak"),
    "images.fit": ("pad", "crop", "stretch"),
    "router.reply_language": ("auto", "en", "ko"),
    "service.log_level": ("debug", "info", "warning", "error"),
    "vad.engine": ("webrtc", "silero", "both"),
}
_RANGES: dict[str, tuple[float, float]] = {
    "vad.aggressiveness": (0, 3),
    "vad.start_ratio": (0.0, 1.0),
    "tts.speed": (0.25, 4.0),
    "images.max_jobs": (1, 16),
    "images.partial_images": (0, 3),
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
        try:
            text = user.read_text("utf-8-sig")  # a BOM (Windows editors) is not TOML's business
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {user}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file {user}: {exc}") from None
        _merge(merged, _parse(text, str(user)))
        sources.append(str(user))
    return build_config(merged, sources[-1], tuple(sources))


def build_config(data: dict[str, Any], filename: str = "<config>", sources: tuple[str, ...] = ()) -> Config:
    sections = {}
    for f in dataclasses.fields(Config):
        if f.name == "source":
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
    data = dataclasses.asdict(cfg)
    data.pop("source", None)
    return data


def _parse(text: str, filename: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML in {filename}: {exc}") from None


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
            raise ConfigError(f"'{dotted}' must be a list of strings in {filename}")
        return tuple(value)
    expected = {int: (int,), float: (int, float), str: (str,), bool: (bool,)}[hint]
    if not isinstance(value, expected) or (hint is not bool and isinstance(value, bool)):
        raise ConfigError(f"'{dotted}' must be {hint.__name__}, got {type(value).__name__} {value!r} in {filename}")
    value = hint(value)
    choices = _CHOICES.get(dotted)
    if choices and value not in choices:
        raise ConfigError(f"'{dotted}' must be one of {', '.join(map(str, choices))}, got {value!r} in {filename}")
    bounds = _RANGES.get(dotted)
    if bounds and not bounds[0] <= value <= bounds[1]:
        raise ConfigError(f"'{dotted}' must be between {bounds[0]} and {bounds[1]}, got {value!r} in {filename}")
    return value
