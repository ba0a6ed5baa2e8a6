"""What the Wyoming server offers (the ``Info`` answered to ``Describe``), built from config alone.

Home Assistant asks for it with a 1 s timeout when it adds the server, so nothing here loads a
model or touches the network: the languages come from tables, not from the engines.
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from wyoming.info import (AsrModel, AsrProgram, Attribution, HandleModel, HandleProgram, Info, TtsProgram,
                          TtsVoice)

from ...config import Config
from ...router.intents import KINDS
from ...stt.languages import LANGUAGES
from ...tts.models import ALL_VOICES, model_rules

ATTRIBUTION = Attribution(name="assistant", url="https://github.com/")
TRANSLATE_SUFFIX = "-translate-en"  # an asr model name ending in this translates to English
INTENTS = tuple(k for k in KINDS if k != "unknown")


def _version() -> str:
    try:
        return version("assistant")
    except PackageNotFoundError:
        return "0"


def first_languages(codes: list[str] | tuple[str, ...]) -> list[str]:
    """en and ko first (the assistant's own languages), then the rest in a stable order."""
    rest = sorted(c for c in codes if c not in ("en", "ko"))
    return [c for c in ("en", "ko") if c in codes] + rest


def stt_model_name(cfg: Config, backend: str) -> str:
    if backend == "local":
        return f"faster-whisper-{cfg.stt.local_model}"
    if backend == "wyoming":
        return "remote-wyoming-asr"
    return cfg.stt.model


def stt_languages(cfg: Config, backend: str) -> list[str]:
    if backend == "local" and cfg.stt.local_model.endswith(".en"):
        return ["en"]
    return first_languages(list(LANGUAGES))


def tts_voices(cfg: Config, backend: str) -> list[tuple[str, list[str], str]]:
    """(voice, languages, description) for every voice the configured backend speaks."""
    if backend == "local":
        langs = ["en", "ko"]  # piper (English) and espeak-ng (Korean), chosen per sentence
        return [(v, langs, f"{v} (local piper/espeak-ng)") for v in ALL_VOICES]
    if backend == "wyoming":
        return [(cfg.tts.voice, ["en", "ko"], f"{cfg.tts.voice} (remote Wyoming)")]
    langs = first_languages(list(LANGUAGES))  # the OpenAI voices speak Whisper's languages
    return [(v, langs, f"{v} ({cfg.tts.model})") for v in model_rules(cfg.tts.model).voices]


def build_info(cfg: Config, stt_backend: str, tts_backend: str) -> Info:
    """The Info for ``Describe``: asr (plus translation to English), tts (every voice), handle."""
    ver = _version()
    model = stt_model_name(cfg, stt_backend)
    languages = stt_languages(cfg, stt_backend)
    asr_models = [AsrModel(name=model, languages=languages, attribution=ATTRIBUTION, installed=True,
                           description=f"speech to text ({stt_backend})", version=ver)]
    if languages != ["en"]:
        asr_models.append(AsrModel(name=model + TRANSLATE_SUFFIX, languages=languages, attribution=ATTRIBUTION,
                                   installed=True, description="speech in any language to English text",
                                   version=ver))
    voices = [TtsVoice(name=name, languages=langs, attribution=ATTRIBUTION, installed=True, description=desc,
                       version=ver) for name, langs, desc in tts_voices(cfg, tts_backend)]
    return Info(
        asr=[AsrProgram(name="assistant-asr", attribution=ATTRIBUTION, installed=True, version=ver,
                        description=f"assistant speech to text ({stt_backend})", models=asr_models)],
        tts=[TtsProgram(name="assistant-tts", attribution=ATTRIBUTION, installed=True, version=ver,
                        description=f"assistant text to speech ({tts_backend})", voices=voices,
                        supports_synthesize_streaming=True)],
        handle=[HandleProgram(name="assistant", attribution=ATTRIBUTION, installed=True, version=ver,
                              description="assistant: " + ", ".join(INTENTS),
                              models=[HandleModel(name="assistant-intents", languages=["en", "ko"],
                                                  attribution=ATTRIBUTION, installed=True, version=ver,
                                                  description="intents: " + ", ".join(INTENTS))])],
    )
