"""Blocks give the events of frames on real speech: ``Segmenter.process_block`` (what a file or a
chunked source hands over) is ``process`` frame by frame, bit for bit — every SpeechStarted,
SpeechPaused and Utterance, its edges and its audio, and the noise floors' state after every
block — through every pause kind of
``tests/vad/sequences.py`` (real corpus sentences), with and without a DC offset."""
from __future__ import annotations

import numpy as np
import pytest

from assistant.audio.format import FRAME_BYTES
from assistant.vad.segmenter import Segmenter
from tests import corpus

pytestmark = pytest.mark.skipif(not corpus.available(), reason=corpus.SKIP_REASON)


def _key(event) -> tuple:
    e = getattr(event, "utterance", event)  # a SpeechPaused carries an utterance
    audio = getattr(e, "audio", None)
    return type(event).__name__, e.start, getattr(e, "end", None), None if audio is None else audio.tobytes()


def _state(seg: Segmenter) -> tuple:
    """The noise floors' state, which a decision need not show at once."""
    return vars(seg._floor).copy(), vars(seg._floor_hp).copy(), seg.in_speech, seg.time


def _events(frames: list[bytes], block: int, by_frame: bool = False) -> tuple[list[tuple], list[tuple]]:
    """The events of ``frames`` handed over ``block`` at a time (or frame by frame), and the state
    after each block."""
    seg, out, states = Segmenter(), [], []
    for k in range(0, len(frames), block):
        chunk = frames[k : k + block]
        if by_frame:
            for f in chunk:
                out += seg.process(f)
        else:
            out += seg.process_block(b"".join(chunk))
        states.append(_state(seg))
    return [_key(e) for e in out + seg.flush()], states


def _stream(kind: str, seed: int) -> list[bytes]:
    from tests.vad import sequences as S

    rng = np.random.default_rng(seed)
    pool = S.pool()
    members = [s for s in pool if S.group(s.name) == S.group(pool[seed % len(pool)].name)] or list(pool)
    n = 3
    return S.build([members[int(rng.integers(len(members)))] for _ in range(n)], list(rng.uniform(0.4, 2.0, n - 1)),
                   kind, lead_zeros=0.1, snr_db=15.0, lsb=2, fan_from=1, seed=seed).frames()


@pytest.mark.parametrize("kind", ["zeros", "dither", "room", "white", "brown", "hum", "fan", "gain"])
def test_blocks_give_the_events_of_frames_on_real_speech(kind):
    frames = _stream(kind, seed=len(kind))
    for block in (4, 7, 34):
        expected = _events(frames, block, by_frame=True)
        assert sum(1 for e in expected[0] if e[0] == "Utterance") >= 2
        assert _events(frames, block) == expected, block


def test_blocks_give_the_events_of_frames_with_a_dc_offset():
    pcm = np.frombuffer(b"".join(_stream("room", seed=5)), np.int16).astype(np.int32) + 700
    pcm = np.clip(pcm, -32768, 32767).astype("<i2").tobytes()
    frames = [pcm[k : k + FRAME_BYTES] for k in range(0, len(pcm), FRAME_BYTES)]
    expected = _events(frames, 34, by_frame=True)
    assert sum(1 for e in expected[0] if e[0] == "Utterance") >= 2
    assert _events(frames, 34) == expected
