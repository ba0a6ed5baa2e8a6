"""The local language decision: Whisper's multilingual evidence times a prior, never tiny.en's
confidence. Real recordings from ../shared/corpus (skipped when absent)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.config import load_config, with_overrides
from assistant.stt import local
from assistant.stt.languages import posterior, prior
from assistant.stt.base import Segment, Transcript
from assistant.stt.local import _contenders, _reading, _repetitive, build, english_first
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


def test_unsure_evidence_decodes_the_two_likeliest_languages():
    assert _contenders({"en": 0.58, "ko": 0.42}) == ["en", "ko"]
    assert _contenders({"ko": 0.95, "en": 0.05}) == []  # sure: one decode
    assert _contenders({"en": 0.97, "ko": 0.03}) == []
    assert _contenders({"en": 0.86, "ko": 0.04, "ja": 0.10}) == ["en", "ja"]
    assert _contenders({"en": 0.5}) == ["en"]  # nothing else to try


def test_reading_is_the_mean_token_logprob_and_no_text_never_wins():
    segs = (Segment(0, 1, "에이", -0.3, 0.1), Segment(1, 2, "컴퓨터", -0.5, 0.1))
    assert _reading(Transcript("에이 컴퓨터", "ko", 0.4, 2.0, segs, "transcribe")) == pytest.approx(-0.4)
    assert _reading(Transcript("", "en", 0.6, 2.0, (), "transcribe")) == float("-inf")


def _decoded_as(readings: dict[str, float], post: dict[str, float]) -> str:
    """Which language ``_decoded_both`` keeps when decoding in each language reads as given."""
    tr = local.WhisperTranscriber(load_config().stt)

    def finish(pcm, model, name, feats, encoded, task, code, *rest, **_kw):
        return Transcript(f"text in {code}", code, post[code], 1.0, (Segment(0, 1, f"text in {code}", readings[code]),), task)

    tr._finish = finish
    return tr._decoded_both(None, None, "base", None, None, None, post, list(post)).language


def test_the_surer_reading_wins_weighed_with_the_evidence():
    assert _decoded_as({"en": -0.81, "ko": -0.39}, {"en": 0.58, "ko": 0.42}) == "ko"  # "에이 컴퓨터"
    assert _decoded_as({"en": -1.02, "ko": -0.93}, {"en": 0.84, "ko": 0.16}) == "en"  # "on" / "온": the evidence
    # no reading base trusts (below stt.logprob_threshold, -1.0): the evidence alone decides
    assert _decoded_as({"ko": -1.51, "en": -1.39}, {"ko": 0.57, "en": 0.43}) == "ko"


def test_contenders_are_read_greedily_and_only_the_kept_language_falls_back():
    """The losers' temperature fallbacks were 0.3-0.5 s of a 1.4-2.1 s turn, thrown away."""
    tr = local.WhisperTranscriber(load_config().stt)
    calls = []

    def reading_as(readings):
        def finish(pcm, model, name, feats, encoded, task, code, *rest, temperatures=local.TEMPERATURES):
            calls.append((code, temperatures))
            text = "1, 2, " * 12 if readings[code] == "loop" else f"text in {code}"
            score = -0.2 if readings[code] == "loop" else readings[code]
            return Transcript(text, code, 0.5, 1.0, (Segment(0, 1, text, score),), task)
        return finish

    post = {"en": 0.58, "ko": 0.42}
    tr._finish = reading_as({"en": -0.81, "ko": -0.39})
    assert tr._decoded_both(None, None, "base", None, None, None, post, list(post)).language == "ko"
    assert calls == [("en", (0.0,)), ("ko", (0.0,))]  # the kept one read surely: no fallback at all
    calls.clear()
    tr._finish = reading_as({"en": -1.3, "ko": -1.5})  # nothing read surely: the evidence, with fallbacks
    assert tr._decoded_both(None, None, "base", None, None, None, post, list(post)).language == "en"
    assert calls == [("en", (0.0,)), ("ko", (0.0,)), ("en", local.TEMPERATURES)]
    calls.clear()
    tr._finish = reading_as({"en": -0.9, "ko": "loop"})  # a loop reads "surely" but is no reading
    assert tr._decoded_both(None, None, "base", None, None, None, post, list(post)).language == "en"
    assert calls == [("en", (0.0,)), ("ko", (0.0,))]


def test_a_short_window_decodes_greedily_and_a_fallback_goes_to_the_full_window(monkeypatch):
    """The short window's fallbacks would be doubtful (thrown away) anyway."""
    tr = local.WhisperTranscriber(load_config().stt)
    seen = []

    def decode(model, feats, encoded, frames, task, lang, prompt, duration, temperatures=local.TEMPERATURES):
        seen.append((frames, temperatures))
        ratio = 3.0 if frames < 3000 else 1.2  # the greedy text compresses too well: faster-whisper would fall back
        return [type("S", (), dict(start=0.0, end=1.0, text="ok", avg_logprob=-0.3, no_speech_prob=0.0,
                                   temperature=0.0, compression_ratio=ratio))()]

    monkeypatch.setattr(tr, "_decode", decode)
    monkeypatch.setattr(local, "is_multilingual", lambda model: True)
    feats = np.zeros((80, 200), np.float32)
    t = tr._finish(np.zeros(32000, np.int16), None, "base", feats, None, "transcribe", "ko", None, 1.0, "given", 1.0)
    assert [f for f, _ in seen] == [1000, 3000] and seen[0][1] == (0.0,) and seen[1][1] == local.TEMPERATURES
    assert t.text == "ok"


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


# The live loop's cut of the keyword list (``assistant listen``: 1.17-2.43 s "헤이 컴퓨터", 6.63-7.32 s
# "아이스크림"), with 0.3 s either side. base's evidence is unsure on both (P(ko) 0.42-0.66), and
# decoded as English they read "Hey computer!", "Ice cream": loanwords, said in Korean.
KEYWORDS = {"hey computer": (1.17, 2.43), "ice cream": (6.63, 7.32)}


@pytest.mark.slow
@pytest.mark.parametrize("last", [None, "en"])  # (after a Korean turn the prior only helps; ~4 s each)
@pytest.mark.parametrize("word", sorted(KEYWORDS))
def test_korean_loanwords_cut_live_are_heard_as_korean(transcriber, word, last):
    pcm = corpus.load_pcm(str(corpus.corpus_dir() / "ko" / "porcupine_keywords_ko.wav"))
    a, b = KEYWORDS[word]
    t = transcriber.transcribe(pcm[int((a - 0.3) * 16000):int((b + 0.3) * 16000)], prior=prior(["en", "ko"], last=last))
    assert t.language == "ko" and any(ord(ch) in HANGUL for ch in t.text), (word, last, t)


@pytest.mark.slow
def test_a_one_word_english_command_stays_english_after_a_korean_turn(transcriber):
    """"on" (speech_commands, one speaker): decoded as Korean it reads "온" a little more surely
    (-0.93 against -1.02 per token); the evidence (P(en) 0.84) keeps it English."""
    c = next(c for c in corpus.select(language="en") if c.name.startswith("speech_commands_on_439c84f4"))
    t = transcriber.transcribe(c.pcm(), prior=prior(["en", "ko"], last="ko"))
    assert t.language == "en", t
