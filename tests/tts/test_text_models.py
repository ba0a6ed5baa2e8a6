"""Pure logic: language by script, sentence splitting, packing, model and voice tables."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.errors import UserError
from assistant.tts import models
from assistant.tts.text import detect_language, pack, sentences
from assistant.tts.voices import ALIASES, SIX, local_voice

SPEC = Path("/work/shared/openai/openapi.json")


@pytest.mark.parametrize("text,lang", [
    ("Hello there.", "en"), ("안녕하세요, 반갑습니다.", "ko"), ("오늘 weather 어때?", "ko"),
    ("Please say 안녕 to everyone in the room today.", "en"), ("こんにちは", "ja"), ("12345", "en"),
])
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def test_sentences_en_ko():
    assert sentences("Hi there! How are you? Fine.") == ["Hi there!", "How are you?", "Fine."]
    assert sentences("안녕하세요. 오늘 날씨가 좋네요! 산책할까요?") == ["안녕하세요.", "오늘 날씨가 좋네요!", "산책할까요?"]
    assert sentences("line one\nline two") == ["line one", "line two"]
    assert sentences("Version 3.5 is out. Yes.") == ["Version 3.5 is out.", "Yes."]
    assert sentences("  \n ") == []


def test_pack_limits_and_keeps_text():
    text = " ".join(f"Sentence number {i} is here." for i in range(300))
    parts = pack(text, 500)
    assert all(len(p) <= 500 for p in parts)
    assert " ".join(parts) == text
    assert all(p.endswith(".") for p in parts)


def test_pack_splits_a_giant_sentence_at_commas_or_spaces():
    text = ", ".join(["word " * 20] * 40)
    parts = pack(text, 300)
    assert all(0 < len(p) <= 300 for p in parts)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")
    assert pack("x" * 1000, 300) == ["x" * 300, "x" * 300, "x" * 300, "x" * 100]


def test_model_table_matches_spec():
    schema = json.loads(SPEC.read_text())["components"]["schemas"]["CreateSpeechRequest"]
    props = schema["properties"]
    assert props["input"]["maxLength"] == models.MAX_INPUT_CHARS
    assert (props["speed"]["minimum"], props["speed"]["maximum"]) == models.SPEED_RANGE
    assert tuple(props["response_format"]["enum"]) == models.RESPONSE_FORMATS
    described = props["voice"]["description"]
    assert all(f"`{v}`" in described for v in models.ALL_VOICES)
    enum_models = props["model"]["anyOf"][1]["enum"]
    assert set(enum_models) == set(models.MODELS)
    assert "tts-1" in props["instructions"]["description"]


def test_check_request():
    assert models.check_request("gpt-4o-mini-tts", "cedar", 4.0, "calm").instructions
    with pytest.raises(UserError, match="does not take instructions"):
        models.check_request("tts-1", "nova", 1.0, "calm")
    with pytest.raises(UserError, match="valid voices"):
        models.check_request("tts-1-hd", "verse", 1.0, None)
    with pytest.raises(UserError, match="between 0.25 and 4"):
        models.check_speed(0.1)
    # a compatible server's own model: the spec's rules only
    assert models.model_rules("kokoro").instructions


def test_voice_table_covers_every_openai_voice():
    assert set(SIX) == {"alloy", "echo", "fable", "nova", "onyx", "shimmer"}
    for voice in models.ALL_VOICES:
        assert local_voice(voice).name in SIX
    assert set(ALIASES) | set(SIX) == set(models.ALL_VOICES)
    assert local_voice("nova").espeak_variant.startswith("f") and local_voice("nova").pitch > 1
    with pytest.raises(UserError, match="valid voices"):
        local_voice("bob")
