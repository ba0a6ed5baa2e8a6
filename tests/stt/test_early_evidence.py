"""Early language evidence (``stt.early_evidence_s``): the evidence pass heard while the user still
speaks is reused at the end only for the audio it heard, and only when it is sure; otherwise the
utterance is heard as without it. Fakes first; then the real models on ../shared/corpus."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from assistant.config import load_config
from assistant.events import Utterance
from assistant.stt.cascade import EARLY_CONFIDENCE, EnglishFirst
from assistant.stt.languages import prior
from assistant.stt.local import Evidence, Guess, build
from assistant.vad.segmenter import Segmenter
from tests import corpus

from .test_wrappers import FakeWindow

EN_PRIOR = {"en": 0.6, "ko": 0.4}  # right after an English turn
PCM = (np.arange(32000) % 200 + 1).astype(np.int16)  # 2 s, every sample distinct from its neighbours


@dataclass
class Multilingual(FakeWindow):
    """The general model: ``probs`` is Whisper's evidence on any audio; records the early passes."""
    probs: dict = field(default_factory=lambda: {"en": 0.99, "ko": 0.01})
    evidence: list = field(default_factory=list)

    def language_evidence(self, pcm):
        self.evidence.append(len(pcm))
        return Evidence(dict(self.probs), 0.1)


def cascade(probs, *, guess=None, parallel=True):
    general = Multilingual(guess=guess, probs=probs)
    english = FakeWindow("tiny.en")
    return EnglishFirst(general, english, parallel=parallel), general, english


def test_sure_early_english_runs_tiny_en_alone_after_the_end():
    stt, general, english = cascade({"en": 0.99, "ko": 0.01}, guess=Guess("en", 0.99, 0.1))
    stt.listen_ahead(PCM[:20000])
    t = stt.transcribe(PCM, prior=EN_PRIOR)
    assert t.text == "tiny.en heard" and t.language == "en"
    assert general.calls == []  # no evidence pass after the end of speech, no base decode
    assert [c["language"] for c in english.calls] == ["en"]  # one tiny.en run, not a parallel try
    assert stt.last_route.evidence == "early" and stt.early_used == 1


def test_sure_early_korean_is_decoded_by_the_multilingual_model_in_korean():
    stt, general, english = cascade({"ko": 0.98, "en": 0.01})
    stt.listen_ahead(PCM[:20000])
    t = stt.transcribe(PCM, prior=EN_PRIOR)
    assert t.language == "ko" and english.calls == []
    assert [c.get("language") for c in general.calls] == ["ko"]


@pytest.mark.parametrize("early", [
    PCM[:10000],  # heard under half the utterance
    np.concatenate([PCM[:19999], [7]]).astype(np.int16),  # other audio (a re-cut, another utterance)
    PCM[:20000].copy()[::-1],
])
def test_early_evidence_on_other_audio_is_ignored(early):
    stt, general, english = cascade({"en": 0.99, "ko": 0.01}, guess=Guess("en", 0.95, 0.1))
    stt.listen_ahead(early)
    stt.transcribe(PCM, prior=EN_PRIOR)
    assert general.calls[0] == {"guess": True, "prior": EN_PRIOR}  # the evidence pass as today
    assert stt.last_route.evidence == "short" and stt.early_used == 0


def test_unsure_early_evidence_changes_nothing():
    """Below EARLY_CONFIDENCE with the prior known at the end (here it leans to Korean): today's path,
    the same calls and text as with no early pass at all."""
    probs = {"en": 0.9, "ko": 0.1}
    assert Evidence(probs, 0.1).guess({"en": 0.4, "ko": 0.6}).probability < EARLY_CONFIDENCE
    outcomes = []
    for ahead in (False, True):
        stt, general, english = cascade(probs, guess=Guess("en", 0.6, 0.1))
        if ahead:
            stt.listen_ahead(PCM[:20000])
        t = stt.transcribe(PCM, prior={"en": 0.4, "ko": 0.6})
        outcomes.append((t, stt.last_route, general.calls, english.calls))
    assert outcomes[0] == outcomes[1]


def test_a_late_early_pass_of_the_last_utterance_changes_nothing():
    """A pass that finished after its utterance was cut (the next one is heard now) is ignored."""
    stt, general, _english = cascade({"ko": 0.99, "en": 0.01}, guess=Guess("en", 0.99, 0.1))
    stt.listen_ahead(PCM[::-1][:20000].copy())  # the last utterance's audio
    t = stt.transcribe(PCM, prior=EN_PRIOR)
    assert t.language == "en" and general.calls[0]["guess"]


def test_given_language_and_translation_ignore_early_evidence():
    stt, general, english = cascade({"ko": 0.99, "en": 0.01})
    stt.listen_ahead(PCM[:20000])
    stt.transcribe(PCM, language="en")
    stt.transcribe(PCM, task="translate")
    assert stt.early_used == 0 and [c.get("language") for c in general.calls] == ["en", None]


# ---------------------------------------------------------------- the real models, real speech
def heard_live(stt, pcm: np.ndarray, cfg) -> list[tuple[int, Utterance]]:
    """``pcm`` through the live segmenter; the engine listens ahead as the loop lets it (at
    ``early_evidence_s`` of speech, then each time the utterance has grown by half). Returns the
    cut utterances with how many early passes each had."""
    seg = Segmenter(cfg.vad)
    due, passes, out = cfg.stt.early_evidence_s, 0, []
    for k in range(0, len(pcm) - 479, 480):
        for event in seg.process(pcm[k:k + 480].tobytes()):
            if isinstance(event, Utterance):
                out.append((passes, event))
                due, passes = cfg.stt.early_evidence_s, 0
        if seg.in_speech and seg.voiced and seg.speech_s >= due:
            stt.listen_ahead(seg.so_far().audio)
            due, passes = seg.speech_s * 1.5, passes + 1
    return out


@pytest.fixture(scope="module")
def engines():
    corpus.need_corpus()
    cfg = load_config()
    stt = build(cfg.stt)
    stt.warm_up()
    return cfg, stt


def padded(clip) -> np.ndarray:
    return np.concatenate([np.zeros(8000, np.int16), clip.pcm(), np.zeros(16000, np.int16)])


@pytest.mark.slow
@pytest.mark.parametrize("clip", [c.name for c in corpus.select(language="ko")] or ["-"])
def test_korean_stays_korean_with_early_evidence(engines, clip):
    """Right after an English turn (the prior leans to English), each Korean utterance heard live
    with its early passes comes out as it does without them (the same text and language), and an
    early decision is never English."""
    cfg, stt = engines
    c = next(c for c in corpus.select(language="ko") if c.name == clip)
    en_prior = prior(["en", "ko"], last="en")
    for _passes, utt in heard_live(stt, padded(c), cfg):
        early = stt.transcribe(utt.audio, prior=en_prior)
        route = stt.last_route
        stt.window._ahead = None  # heard as without early evidence
        plain = stt.transcribe(utt.audio, prior=en_prior)
        assert (early.text, early.language) == (plain.text, plain.language), clip
        if route.evidence == "early":
            assert early.language == "ko" and route.decoder == "base", (clip, early)


@pytest.mark.slow
def test_english_sentence_is_decided_early_with_the_same_text(engines):
    cfg, stt = engines
    c = next(c for c in corpus.select(language="en") if c.name == "rhasspy_turn_on_living_room_lamp")
    [(passes, utt)] = heard_live(stt, padded(c), cfg)
    before = stt.window.early_used
    early = stt.transcribe(utt.audio, prior=prior(["en", "ko"], last="ko"))
    assert passes >= 1 and stt.window.early_used == before + 1 and stt.last_route.evidence == "early"
    stt.window._ahead = None  # forget it: heard as without early evidence
    plain = stt.transcribe(utt.audio, prior=prior(["en", "ko"], last="ko"))
    assert stt.last_route.evidence == "short" and plain.text == early.text and "living room" in plain.text.lower()
