"""The bundled demo recording: eight spoken commands in room noise, including the one-word
"Stop." whose voiced core is shorter than min_speech (its "st" is unvoiced)."""
from __future__ import annotations

import json
from pathlib import Path

from assistant.audio.sources import FileSource
from assistant.config import load_config
from assistant.events import Utterance
from assistant.vad.segmenter import Segmenter

DEMO = Path(__file__).resolve().parents[2] / "assistant/data/recordings"


def test_every_command_is_one_utterance_with_close_edges():
    expected = json.loads((DEMO / "demo.json").read_text())
    seg = Segmenter(load_config().vad)
    got = []
    for frame in FileSource(DEMO / "demo.wav").iter_frames():
        got += [e for e in seg.process(frame) if isinstance(e, Utterance)]
    got += [e for e in seg.flush() if isinstance(e, Utterance)]
    assert len(got) == len(expected)
    for utt, exp in zip(got, expected):
        assert abs(utt.start - exp["start"]) <= 0.13, exp["text"]  # an unvoiced "St-" onset starts late
        assert abs(utt.end - exp["end"]) <= 0.15, exp["text"]  # a final "p" release is faint
    stop = got[-1]
    assert stop.start <= expected[-1]["start"] + 0.03  # the unvoiced "st" belongs to the word
