"""The local language decision: Whisper's multilingual evidence times a prior, never tiny.en's
confidence. Real recordings from ../shared/corpus (skipped when absent)."""
from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import load_config, with_overrides
from assistant.stt import local
from assistant.stt.languages import posterior, prior
from assistant.stt.local import _repetitive, build, english_first
from tests import corpus

HANGUL = range(0xAC00, 0xD7A4)


def test_prior_is_uniform_over_the_languages_or_leans_to_the_last_one():
    assert prior(["en", "ko"]) == {"en": 0.5, "ko": 0.5}
    assert prior(["en", "ko"], last="ko") == pytest.approx({"en": 0.4, "ko": 0.6})
    assert prior(["en", "ko"], last="en", wake="korean") == pytest.approx({"en": 0.4, "ko": 0.6})  # wake word wins
    assert prior(["en", "ko"], last="fr") == {"en": 0.5, "ko": 0.5}
    assert prior(["en"]) == {"en": 1.0} and prior([]) == {}


def test_posterior_keeps_clear_evidence_and_lets_the_prior_break_ties():
    korean = {"ko": 0.95, "en": 0.02, "ja": 0.03}
    assert next(iter(posterior(korean, prior(["en", "ko"], last="en", weight=0.9)))) == "ko"
    unsure = {"en": 0.30, "ko": 0.28, "cy": 0.4}
    assert next(iter(posterior(unsure, prior(["en", "ko"], last="ko")))) == "ko"
    assert next(iter(posterior(unsure, prior(["en", "ko"], last="en")))) == "en"
    assert next(iter(posterior(unsure, None))) == "cy"
    assert posterior({"fr": 1.0}, {"en": 0.5, "ko": 0.5}) == {}


def test_repetition_detector():
    assert _repetitive("I'll come to you, I'll go to you, I'll go to you, I'll go to you")
    assert not _repetitive("Edit the picture: give her a hat in the top left corner and a scarf")
    assert not _repetitive("stop stop")
    assert _repetitive("Cool, Tom, y'all, t-t-t-t-t-t-t-t-t-t-t")


def test_english_first_only_with_more_than_english():
    cfg = load_config()
    assert english_first(cfg.stt)
    assert not english_first(with_overrides(cfg, stt={"english_first": False}).stt)
    assert not english_first(with_overrides(cfg, stt={"languages": ["en"]}).stt)


@pytest.fixture(scope="module")
def transcriber():
    corpus.need_corpus()
    tr = build(load_config().stt)
    tr.warm_up()
    return tr


@pytest.mark.slow
@pytest.mark.parametrize("clip", [c.name for c in corpus.select(language="ko")] or ["-"])
def test_korean_recordings_are_heard_as_korean(transcriber, clip):
    c = next(c for c in corpus.select(language="ko") if c.name == clip)
    t = transcriber.transcribe(c.pcm(), prior=prior(["en", "ko"], last="en"))  # right after an English turn
    assert t.language == "ko", (clip, t)
    assert sum(ord(ch) in HANGUL for ch in t.text) >= 3, t.text
    assert transcriber.last_route.decoder == "base"  # tiny.en never sees Korean speech


@pytest.mark.slow
def test_english_command_decided_by_base_decoded_by_tiny_en(transcriber):
    c = next(c for c in corpus.select(language="en", kind="command") if c.name == "rhasspy_turn_on_living_room_lamp")
    t = transcriber.transcribe(c.pcm(), prior=prior(["en", "ko"], last="ko"))
    assert t.language == "en" and "living room" in t.text.lower()
    route = transcriber.last_route
    assert route.evidence == "short" and route.decoder == "tiny.en" and route.encodes < 1.3
