"""What each OpenAI speech model accepts, as data (from the prose of the official OpenAPI spec).

- AudioResponseFormat: "For gpt-4o-transcribe and gpt-4o-mini-transcribe, the only supported
  format is json. For gpt-4o-transcribe-diarize, the supported formats are json, text, and
  diarized_json."
- timestamp_granularities: "response_format must be set verbose_json"; "not available for
  gpt-4o-transcribe-diarize".
- prompt: "not supported when using gpt-4o-transcribe-diarize".
- chunking_strategy: "Required when using gpt-4o-transcribe-diarize for inputs longer than 30 s".
- CreateTranslationRequest.model: "Only whisper-1 ... is currently available"; it has no
  `language` field.
- gpt-transcribe: the spec lists no formats for it; we treat it like the gpt-4o family (json only).
Unknown model ids (OpenAI-compatible servers such as faster-whisper-server) follow whisper-1.
"""
from __future__ import annotations

from dataclasses import dataclass

ALL_FORMATS = frozenset({"json", "text", "srt", "vtt", "verbose_json"})
TIMESTAMP_FORMATS = frozenset({"srt", "vtt", "verbose_json"})


@dataclass(frozen=True)
class ModelRules:
    family: str
    response_formats: frozenset[str]
    timestamp_granularities: bool  # only ever sent together with verbose_json
    prompt: bool
    language: bool
    chunking_auto: bool = False  # send chunking_strategy="auto" (diarize, long inputs)

    @property
    def timestamps(self) -> bool:
        """Can this model answer with segment times (verbose_json)?"""
        return "verbose_json" in self.response_formats


WHISPER = ModelRules("whisper", ALL_FORMATS, True, True, True)
GPT4O = ModelRules("gpt-4o-transcribe", frozenset({"json"}), False, True, True)
DIARIZE = ModelRules("gpt-4o-transcribe-diarize", frozenset({"json", "text", "diarized_json"}),
                     False, False, True, chunking_auto=True)

TRANSLATION_MODELS = frozenset({"whisper-1"})
# CreateTranscriptionRequest.model's enum: the ids the OpenAI API takes (config validation).
TRANSCRIPTION_MODELS = ("whisper-1", "gpt-transcribe", "gpt-4o-transcribe", "gpt-4o-mini-transcribe",
                        "gpt-4o-mini-transcribe-2025-12-15", "gpt-4o-transcribe-diarize")

# `language` must be ISO-639-1. Whisper's own codes that are not: "jw" is Javanese ("jv");
# Hawaiian ("haw") and Cantonese ("yue") have no ISO-639-1 code, so no hint is sent for them.
WHISPER_TO_ISO_639_1: dict[str, str | None] = {"jw": "jv", "haw": None, "yue": None}


def api_language(code: str | None) -> str | None:
    """The ISO-639-1 code to send for a Whisper language code, or None (let the model detect)."""
    if not code:
        return None
    return WHISPER_TO_ISO_639_1.get(code, code)


def rules_for(model: str) -> ModelRules:
    m = model.lower()
    if "diarize" in m:
        return DIARIZE
    if m.startswith(("gpt-4o", "gpt-transcribe", "gpt-live-transcribe")) or "transcribe" in m:
        return GPT4O
    return WHISPER


def translation_accepts(model: str) -> bool:
    return model in TRANSLATION_MODELS
