"""What each OpenAI TTS model accepts, as data (from the official OpenAPI document and TTS guide)."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import UserError

MAX_INPUT_CHARS = 4096  # CreateSpeechRequest.input maxLength (and instructions maxLength)
SPEED_RANGE = (0.25, 4.0)  # CreateSpeechRequest.speed minimum/maximum
RESPONSE_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
PCM_RATE = 24_000  # response_format "pcm": 24 kHz, signed 16-bit little-endian, mono

# The built-in voices CreateSpeechRequest.voice lists.
ALL_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer",
              "verse", "marin", "cedar")
# tts-1 / tts-1-hd only know the original set (ballad, verse, marin, cedar are gpt-4o-mini-tts voices).
CLASSIC_VOICES = ("alloy", "ash", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer")


@dataclass(frozen=True)
class TtsModel:
    name: str
    instructions: bool  # takes `instructions`
    voices: tuple[str, ...]
    sse: bool  # stream_format "sse" allowed (we always use the default "audio")


MODELS: dict[str, TtsModel] = {m.name: m for m in (
    TtsModel("tts-1", False, CLASSIC_VOICES, False),
    TtsModel("tts-1-hd", False, CLASSIC_VOICES, False),
    TtsModel("gpt-4o-mini-tts", True, ALL_VOICES, True),
    TtsModel("gpt-4o-mini-tts-2025-12-15", True, ALL_VOICES, True),
)}


def model_rules(name: str) -> TtsModel:
    """Known models from the table; other names (a compatible server's models) take what the spec allows."""
    if name in MODELS:
        return MODELS[name]
    if name.startswith("tts-1"):
        return TtsModel(name, False, CLASSIC_VOICES, False)
    return TtsModel(name, True, ALL_VOICES, True)


def check_speed(speed: float) -> float:
    lo, hi = SPEED_RANGE
    try:
        value = float(speed)
    except (TypeError, ValueError):
        raise UserError(f"speed must be a number between {lo:g} and {hi:g}, got {speed!r}") from None
    if not lo <= value <= hi:
        raise UserError(f"speed must be between {lo:g} and {hi:g}, got {value:g}")
    return value


def check_request(model: str, voice: str, speed: float, instructions: str | None) -> TtsModel:
    """UserError (one line) for anything the spec forbids for ``model``."""
    rules = model_rules(model)
    if not model:
        raise UserError("no TTS model configured (tts.model)")
    if voice not in rules.voices:
        raise UserError(f"unknown voice {voice!r} for {model}; valid voices: {', '.join(rules.voices)}")
    check_speed(speed)
    if instructions:
        if not rules.instructions:
            raise UserError(f"{model} does not take instructions; use gpt-4o-mini-tts or drop --instructions")
        if len(instructions) > MAX_INPUT_CHARS:
            raise UserError(f"instructions are {len(instructions)} characters; the limit is {MAX_INPUT_CHARS}")
    return rules
