"""The live settings the page shows and changes: the session state that voice commands change too
(voice, speed, reply language, translate mode). Validation is pure; applying sets the state."""
from __future__ import annotations

from typing import Any

from ...skills.state import SPEED_MAX, SPEED_MIN

LANGUAGES = ("auto", "en", "ko")
FIELDS = ("voice", "speed", "reply_language", "translate")


class SettingsError(ValueError):
    """A bad value; the message names the field and what it may be."""


def voices(assistant: Any) -> list[str]:
    from ...tts.models import ALL_VOICES, model_rules

    try:
        return list(model_rules(assistant.cfg.tts.model).voices)
    except Exception:  # noqa: BLE001
        return list(ALL_VOICES)


def state_of(assistant: Any, session: str) -> Any:
    """The session's mutable state (``Assistant.session(name).state``)."""
    return assistant.session(session).state


def current(assistant: Any, session: str) -> dict[str, Any]:
    state = state_of(assistant, session)
    return {"session": session, "voice": state.voice, "speed": float(state.speed),
            "reply_language": state.reply_language, "translate": bool(state.translate),
            "choices": {"voice": voices(assistant), "speed": [SPEED_MIN, SPEED_MAX], "reply_language": list(LANGUAGES)}}


def check(changes: Any, known_voices: list[str]) -> dict[str, Any]:
    """A JSON object of changes -> validated values (SettingsError for anything else)."""
    if not isinstance(changes, dict):
        raise SettingsError("send a JSON object like {\"speed\": 1.25}")
    unknown = [k for k in changes if k not in FIELDS]
    if unknown:
        raise SettingsError(f"unknown setting {unknown[0]!r}; settings: {', '.join(FIELDS)}")
    if not changes:
        raise SettingsError(f"nothing to change; settings: {', '.join(FIELDS)}")
    out: dict[str, Any] = {}
    if "voice" in changes:
        voice = changes["voice"]
        if not isinstance(voice, str) or voice not in known_voices:
            raise SettingsError(f"voice must be one of {', '.join(known_voices)}")
        out["voice"] = voice
    if "speed" in changes:
        speed = changes["speed"]
        if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not SPEED_MIN <= speed <= SPEED_MAX:
            raise SettingsError(f"speed must be a number from {SPEED_MIN:g} to {SPEED_MAX:g}")
        out["speed"] = round(float(speed), 2)
    if "reply_language" in changes:
        if changes["reply_language"] not in LANGUAGES:
            raise SettingsError(f"reply_language must be one of {', '.join(LANGUAGES)}")
        out["reply_language"] = changes["reply_language"]
    if "translate" in changes:
        if not isinstance(changes["translate"], bool):
            raise SettingsError("translate must be true or false")
        out["translate"] = changes["translate"]
    return out


def apply(assistant: Any, session: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Set validated ``changes`` on the live session state; the synthesizer vets a new voice/speed."""
    state = state_of(assistant, session)
    if "voice" in changes or "speed" in changes:
        try:
            assistant.validate_voice(changes.get("voice", state.voice), changes.get("speed", state.speed))
        except Exception as exc:  # noqa: BLE001 - the engine's one-line reason
            raise SettingsError(str(exc)) from None
    for key, value in changes.items():
        setattr(state, key, value)
    return current(assistant, session)
