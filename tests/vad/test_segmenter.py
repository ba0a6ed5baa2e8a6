"""Segmenter on synthetic frames and on the noisy speech fixtures."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from assistant.audio.format import FRAME_BYTES, split_frames
from assistant.audio.sources import FileSource
from assistant.config import VadConfig
from assistant.events import SpeechStarted, Utterance
from assistant.vad.noise import LevelMeter, NoiseFloor, frame_db, frame_levels, has_dc
from assistant.vad.segmenter import Segmenter
from tests.audio.speech import RATE, SPEECH, TOLERANCE_S, entry, int16, manifest, silence, voice, white


def run(frames, cfg: VadConfig = VadConfig()) -> list:
    seg = Segmenter(cfg)
    events = []
    for f in frames:
        events += seg.process(f)
    events += seg.flush()
    return events


def utts(events) -> list[Utterance]:
    return [e for e in events if isinstance(e, Utterance)]


def pcm_frames(x: np.ndarray) -> list[bytes]:
    return split_frames(int16(x))


_FIXTURE_FRAMES: dict[str, list[bytes]] = {}


def fixture_frames(name: str) -> list[bytes]:
    if name not in _FIXTURE_FRAMES:
        _FIXTURE_FRAMES[name] = list(FileSource(SPEECH / name).iter_frames())
    return _FIXTURE_FRAMES[name]


# ---------------------------------------------------------------- synthetic
def test_digital_silence_gives_nothing():
    assert run(pcm_frames(silence(3))) == []


@pytest.mark.parametrize("amp", [30, 300, 3000])
def test_steady_noise_only_gives_nothing(amp):
    assert run(pcm_frames(white(5, amp, seed=amp))) == []


def test_steady_tone_is_background_not_speech():
    t = np.arange(5 * RATE) / RATE
    hum = 2000 * (np.sin(2 * np.pi * 50 * t) + 0.5 * np.sin(2 * np.pi * 150 * t))
    assert run(pcm_frames(hum)) == []


def test_two_bursts_in_noise_are_two_utterances_with_edges():
    x = np.concatenate([silence(1), voice(1.5), silence(1), voice(1.2), silence(1)])
    x = x + white(len(x) / RATE, 300, seed=1)
    found = utts(run(pcm_frames(x)))
    assert [(round(u.start, 1), round(u.end, 1)) for u in found] == [(1.0, 2.5), (3.5, 4.7)]
    events = run(pcm_frames(x))
    assert isinstance(events[0], SpeechStarted) and events[0].start == pytest.approx(found[0].start)


def test_blip_shorter_than_min_speech_is_dropped():
    x = np.concatenate([silence(1), voice(0.15), silence(1)]) + white(2.15, 200)
    assert utts(run(pcm_frames(x))) == []
    x = np.concatenate([silence(1), voice(0.4), silence(1)]) + white(2.4, 200)
    assert len(utts(run(pcm_frames(x)))) == 1


def test_long_monologue_is_cut_at_max_utterance_and_continues():
    x = np.concatenate([silence(0.5), voice(7), silence(1)])
    found = utts(run(pcm_frames(x), VadConfig(max_utterance_s=2.0)))
    assert len(found) == 4
    for a, b in zip(found, found[1:]):
        assert b.start == pytest.approx(a.end)  # continues without a gap
    assert all(u.duration <= 2.0 + 0.03 for u in found)
    assert found[0].start == pytest.approx(0.5, abs=0.06) and found[-1].end == pytest.approx(7.5, abs=0.09)


def test_audio_includes_pre_roll_and_padding():
    x = np.concatenate([silence(1), voice(1.0), silence(1)]) + white(3, 100)
    (u,) = utts(run(pcm_frames(x)))
    assert u.sample_rate == RATE and u.audio.dtype == np.int16
    assert u.audio_start == pytest.approx(u.start - 0.3, abs=1e-6)
    assert len(u.audio) == round((u.end + 0.15 - u.audio_start) * RATE)
    # the pre-roll really is the audio before the start edge
    lead = int16(x)[round(u.audio_start * RATE) : round(u.audio_start * RATE) + 480]
    assert np.array_equal(u.audio[:480], lead)


def test_pre_roll_clipped_at_stream_start():
    x = np.concatenate([silence(0.1), voice(1.0), silence(1)])
    (u,) = utts(run(pcm_frames(x)))
    assert u.audio_start == 0.0 and u.start == pytest.approx(0.09, abs=0.04)


def test_flush_closes_speech_at_end_of_stream_and_reset_restarts_time():
    frames = pcm_frames(np.concatenate([silence(0.5), voice(1.0)]))
    seg = Segmenter()
    for f in frames:
        seg.process(f)
    assert seg.in_speech
    (u,) = seg.flush()
    assert not seg.in_speech and u.end == pytest.approx(1.5, abs=0.06)
    seg.reset()
    assert seg.time == 0.0 and seg.flush() == []


def test_wrong_frame_size_is_rejected():
    with pytest.raises(ValueError):
        Segmenter().process(b"\0" * (FRAME_BYTES - 2))


def test_noise_floor_follows_level_changes():
    floor = NoiseFloor()
    for _ in range(50):
        floor.update(40.0, speech=False)
    assert floor.level == pytest.approx(40.0, abs=0.5)
    for _ in range(100):  # a fan turns on: +10 dB, reached within ~3 s
        floor.update(50.0, speech=False)
    assert floor.level == pytest.approx(50.0, abs=0.5)
    for _ in range(100):  # during speech the floor barely moves
        floor.update(75.0, speech=True)
    assert floor.level < 53
    assert frame_db(b"\0" * FRAME_BYTES) < -20


# ---------------------------------------------------------------- fixtures
@pytest.mark.parametrize("name", [e["file"] for e in manifest()])
def test_fixture_count_and_edges(name):
    truth = entry(name)["sentences"]
    found = utts(run(fixture_frames(name)))
    assert len(found) == len(truth), [(u.start, u.end) for u in found]
    for u, t in zip(found, truth):
        assert abs(u.start - t["start"]) <= TOLERANCE_S, (u.start, t)
        assert abs(u.end - t["end"]) <= TOLERANCE_S, (u.end, t)


def test_short_pauses_inside_a_sentence_do_not_split():
    e = entry("en_short_pauses.wav")
    assert e["intra_pauses_s"] and all(0.2 <= p <= 0.3 for p in e["intra_pauses_s"])
    assert len(utts(run(fixture_frames("en_short_pauses.wav")))) == len(e["sentences"]) == 2


def test_pre_roll_on_fixture_contains_real_audio():
    (first, *_) = utts(run(fixture_frames("en_five_noisy.wav")))
    assert first.audio_start == pytest.approx(first.start - 0.3, abs=1e-6)
    assert np.abs(first.audio[:480].astype(np.int32)).max() > 0  # noise, not zero padding


# ---------------------------------------------------------------- more noise on top of the fixtures
def _with_noise(name: str, kind: str, snr_db: float) -> list[bytes]:
    from tests.fixtures.make_speech import noise

    pcm = np.frombuffer(b"".join(fixture_frames(name)), np.int16).astype(np.float64)
    mask = np.zeros(len(pcm), bool)
    for t in entry(name)["sentences"]:
        mask[int(t["start"] * RATE) : int(t["end"] * RATE)] = True
    level = np.sqrt(np.mean(pcm[mask] ** 2) / 10 ** (snr_db / 10))
    return pcm_frames(pcm + level * noise(kind, len(pcm), RATE, np.random.default_rng(7)))


_NOISY_CASES = [(n, k, 20.0) for n in ("en_five_noisy.wav", "ko_two_noisy.wav", "en_short_pauses.wav")
                for k in ("pink", "brown", "hiss", "hum50", "hum60")]
_NOISY_CASES += [(n, k, 15.0) for n in ("en_five_noisy.wav", "ko_two_noisy.wav") for k in ("brown", "hum50", "hum60")]


@pytest.mark.parametrize("name,kind,snr_db", _NOISY_CASES)
def test_fixture_with_extra_noise_keeps_count_and_edges(name, kind, snr_db):
    """Fan hum, rumble, hiss or pink noise added on top (SNR 15-20 dB over the whole file)."""
    truth = entry(name)["sentences"]
    found = utts(run(_with_noise(name, kind, snr_db)))
    assert len(found) == len(truth), [(u.start, u.end) for u in found]
    for u, t in zip(found, truth):
        assert abs(u.start - t["start"]) <= TOLERANCE_S and abs(u.end - t["end"]) <= TOLERANCE_S, (u, t)


def test_lone_noise_peak_in_a_pause_does_not_extend_speech():
    x = np.concatenate([silence(0.5), voice(1.0), silence(0.12), white(0.03, 3000), silence(1)]) + white(2.65, 100, seed=3)
    (u,) = utts(run(pcm_frames(x)))
    assert u.end == pytest.approx(1.5, abs=0.06)


# ---------------------------------------------------------------- transients
def _slam(seconds: float, amp: float, seed: int) -> np.ndarray:
    """A door slam: a low-passed noise burst with an instant onset, decaying over ~0.3 s."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    burst = np.convolve(rng.standard_normal(n), np.ones(16) / 16, mode="same")
    return amp * burst / np.abs(burst).max() * np.exp(-np.arange(n) / (0.1 * RATE))


@pytest.mark.parametrize("seed", [1, 2])
def test_door_slam_in_a_pause_is_not_an_utterance(seed):
    x = np.concatenate([silence(1.0), _slam(0.5, 20000, seed), silence(1.0)])
    x = x + white(len(x) / RATE, 150, seed=2)
    assert utts(run(pcm_frames(x))) == []


def test_short_plosive_word_is_not_taken_for_a_slam():
    """An abrupt, decaying but voiced (pitched) word like "Back." stays, even with min_speech low."""
    word = voice(0.3) * np.exp(-np.arange(int(0.3 * RATE)) / (0.1 * RATE))
    x = np.concatenate([silence(1.0), word, silence(1.0)]) + white(2.3, 150, seed=5)
    assert len(utts(run(pcm_frames(x), VadConfig(min_speech_ms=60)))) == 1


def test_slam_then_a_word_keeps_the_word():
    """The start of a word right after a slam is not lost."""
    x = np.concatenate([silence(1.0), _slam(0.2, 20000, 3), silence(0.1), voice(0.45), silence(1.0)])
    x = x + white(len(x) / RATE, 150, seed=4)
    found = utts(run(pcm_frames(x)))
    assert len(found) == 1
    assert found[0].start <= 1.3 + 0.09 and found[0].end == pytest.approx(1.75, abs=0.09)


@pytest.mark.parametrize("amp,noise", [(100, 3), (300, 10)])
def test_quiet_talker_in_a_quiet_room_every_sentence(amp, noise):
    """webrtcvad tracks the noise by the minima of the frames it is fed: fed only loud frames it
    took the first sentence for noise and never heard the next ones."""
    x = np.concatenate([silence(1), voice(1.0, amp=amp), silence(1), voice(0.8, amp=amp), silence(1),
                        voice(0.8, amp=amp), silence(1.5), voice(0.6, amp=amp), silence(1)])
    x = x + white(len(x) / RATE, noise, seed=6)
    found = utts(run(pcm_frames(x)))
    assert [(round(u.start, 1), round(u.end, 1)) for u in found] == [(1.0, 2.0), (3.0, 3.8), (4.8, 5.6), (7.1, 7.7)]


# ---------------------------------------------------------------- DC offset
@pytest.mark.parametrize("offset", [300, 1000, -2000])
def test_dc_offset_does_not_hide_a_quiet_talker(offset):
    """A cheap mic's DC offset is no signal: a quiet voice in a quiet room is still found."""
    x = np.concatenate([silence(1), voice(1.0, amp=100), silence(1), voice(0.8, amp=100), silence(1)])
    x = x + white(len(x) / RATE, 3, seed=6) + offset
    found = utts(run(pcm_frames(x)))
    assert [(round(u.start, 1), round(u.end, 1)) for u in found] == [(1.0, 2.0), (3.0, 3.8)]


def test_centred_levels_leave_out_the_offset():
    meter = LevelMeter()
    frame = int16(white(0.03, 50, seed=8))
    plain = meter(frame.tobytes())
    shifted = meter.centred(int16(frame.astype(np.float64) + 1500).tobytes())
    assert shifted == pytest.approx(plain, abs=0.3)


def test_has_dc_tells_an_offset_from_rumble():
    t = np.arange(RATE) / RATE
    rumble = 400 * np.sin(2 * np.pi * 25 * t + 0.3) + white(1, 30, seed=9)
    assert not has_dc(int16(rumble[:4800])) and not has_dc(int16(rumble[:480]))
    assert has_dc(int16(white(0.3, 30, seed=9) + 200)) and has_dc(int16(white(0.03, 30, seed=9) - 200))


# ---------------------------------------------------------------- blocks
def _key(event) -> tuple:
    e = getattr(event, "utterance", event)  # a SpeechPaused carries an utterance
    return type(event).__name__, e.start, getattr(e, "end", None), getattr(e, "audio", np.zeros(0)).tobytes()


def _same(a: list, b: list) -> bool:
    return [_key(e) for e in a] == [_key(e) for e in b]


@pytest.mark.parametrize("offset", [0, 600])  # 600: a DC offset (the centred level meter)
@pytest.mark.parametrize("block", [1, 5, 34])
def test_blocks_give_the_events_of_frames(offset, block):
    """process_block is process frame by frame, bit for bit (levels, decisions, edges, audio)."""
    pcm = np.frombuffer(b"".join(_with_noise("en_five_noisy.wav", "brown", 15.0)), np.int16).astype(np.int32)
    frames = pcm_frames(pcm + offset)
    seg = Segmenter()
    events = []
    for k in range(0, len(frames), block):
        events += seg.process_block(b"".join(frames[k : k + block]))
    events += seg.flush()
    expected = run(frames)
    assert len(utts(expected)) == 5 and _same(events, expected)


def test_a_block_of_partial_frames_is_rejected():
    with pytest.raises(ValueError):
        Segmenter().process_block(b"\0" * (5 * FRAME_BYTES - 2))


def test_the_segmenters_floors_are_noise_floor_excess():
    """Segmenter._run inlines NoiseFloor.excess for its two floors (the per-frame cost): frame by
    frame they agree with NoiseFloor's own, through digital silence, dither, warm-up, speech and a
    gain change (but at the frames where the stale check lifts a floor: NoiseFloor's methods)."""
    from assistant.vad import segmenter as seg_mod

    speech = np.frombuffer(b"".join(_with_noise("en_five_noisy.wav", "brown", 15.0)), np.int16).astype(np.float64)
    dither = np.random.default_rng(3).integers(-2, 3, RATE)
    x = np.concatenate([silence(0.5), speech[: len(speech) // 2], dither, silence(1),
                        speech[len(speech) // 2 :] * 4.0, silence(0.3)])  # +12 dB for the second half
    seg, lifted, compared = Segmenter(), [], 0
    stale = seg._stale
    seg._stale = lambda i, *a: (lifted.append(i), stale(i, *a))[1]
    for k, frame in enumerate(pcm_frames(np.clip(x, -32768, 32767))):
        ref = copy.deepcopy((seg._floor, seg._floor_hp))
        relax = seg_mod._HYSTERESIS if seg.in_speech else 1.0
        for floor, db in zip(ref, frame_levels(frame)):
            floor.excess(db, seg.in_speech, seg.cfg.noise_margin_db, relax)
        seg.process(frame)
        if lifted and lifted[-1] == k:
            continue
        compared += 1
        for want, got in zip(ref, (seg._floor, seg._floor_hp)):
            assert vars(want) == vars(got), k
    assert len(lifted) > 3 and compared > 0.95 * (len(x) // FRAME_BYTES * 2)
