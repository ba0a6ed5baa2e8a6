"""Hallucination guard and per-model request rules (pure logic)."""
from __future__ import annotations

import pytest

from assistant.config import load_config
from assistant.stt import guard
from assistant.stt.base import Segment, Transcript
from assistant.stt.languages import check_code, to_code
from assistant.stt.local import choose_model
from assistant.stt.models import DIARIZE, GPT4O, WHISPER, rules_for, translation_accepts

CFG = load_config().stt


@pytest.mark.parametrize("text", ["Thank you for watching!", "thanks for watching.", "시청해주셔서 감사합니다.",
                                  "시청해 주셔서 감사합니다", "Subtitles by the Amara.org community",
                                  "Thank you for watching. Thank you for watching.", "ＭＢＣ 뉴스"])
def test_known_silence_hallucinations_become_empty(text):
    assert guard.apply(Transcript(text, "en"), CFG).text == ""


def test_real_speech_mentioning_a_phrase_is_kept():
    t = Transcript("Thank you for watching the kids yesterday", "en")
    assert guard.apply(t, CFG).text == t.text


def test_no_speech_segments_are_dropped():
    silent = Segment(0, 1, "you", avg_logprob=-1.5, no_speech_prob=0.9)
    speech = Segment(1, 2, "Turn on the lights.", avg_logprob=-0.2, no_speech_prob=0.05)
    assert guard.apply(Transcript("you", "en", segments=(silent,)), CFG).text == ""
    kept = guard.apply(Transcript("you Turn on the lights.", "en", segments=(silent, speech)), CFG)
    assert kept.text == "Turn on the lights." and kept.segments == (speech,)
    # high no_speech_prob alone (confident text) is not silence
    sure = Segment(0, 1, "Yes.", avg_logprob=-0.3, no_speech_prob=0.9)
    assert guard.apply(Transcript("Yes.", "en", segments=(sure,)), CFG).text == "Yes."


def test_hallucinated_segment_among_speech_is_dropped():
    segs = (Segment(0, 2, "Draw a red fox."), Segment(2, 3, "Thanks for watching!"))
    t = guard.apply(Transcript("Draw a red fox. Thanks for watching!", "en", segments=segs), CFG)
    assert t.text == "Draw a red fox."


def test_model_rules_from_the_spec():
    assert rules_for("whisper-1") is WHISPER and WHISPER.timestamps
    for m in ("gpt-4o-transcribe", "gpt-4o-mini-transcribe", "gpt-4o-mini-transcribe-2025-12-15", "gpt-transcribe"):
        assert rules_for(m) is GPT4O
    assert GPT4O.response_formats == {"json"} and not GPT4O.timestamps and GPT4O.prompt
    assert rules_for("gpt-4o-transcribe-diarize") is DIARIZE and not DIARIZE.prompt and DIARIZE.chunking_auto
    assert rules_for("Systran/faster-whisper-small") is WHISPER  # OpenAI-compatible servers
    assert translation_accepts("whisper-1") and not translation_accepts("gpt-4o-transcribe")


def test_language_codes():
    assert to_code("English") == "en" and to_code("korean") == "ko" and to_code("en-US") == "en"
    assert to_code("") is None and check_code("KO") == "ko"
    with pytest.raises(ValueError):
        check_code("klingon")


def test_auto_local_model_rule():
    assert choose_model("auto", "transcribe", "en") == "tiny.en"
    assert choose_model("auto", "transcribe", None) == "base"
    assert choose_model("auto", "transcribe", "ko") == "base"
    assert choose_model("auto", "translate", "en") == "base"
    assert choose_model("tiny.en", "transcribe", None) == "tiny.en"
    assert choose_model("auto", "transcribe", None, ("en",)) == "tiny.en"
    assert choose_model("auto", "transcribe", None, ("en", "ko")) == "base"
