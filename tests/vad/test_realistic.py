"""Segmentation on realistically degraded recordings (tests/vad/degrade.py writes them at test
time from the committed fixtures): count exact, edges within 90 ms of the dry speech edges.

Cases that do NOT hold today (xfail, measured; the lead has the list):
- en5-pink10 / en5-hiss15 / en5-hiss10: the final "-ts" of "lights." (after a ~120 ms "t"
  closure) is at or below the noise (10-15 dB SNR), so the end edge stops at the vowel (-0.26 s);
  en5-telephone: the 300-3400 Hz band removes the "s" itself (-0.23 s). Same known limit as weak
  final plosives ("music": short-pauses-pink15, -0.15 s). (en5-quiet35 held only once a
  fricative after a closure, loud in the high band, joins the end edge.)
- en5-brown10: 10 dB rumble swells pass webrtcvad and the threshold; a start 0.35 s early.
- en5-babble15/10 (and the 20 dB end +0.18 s): babble in the pauses *is* speech to any VAD; no
  frame-level energy/VAD segmenter can tell the wanted talker from the others (needs speaker or
  direction cues). ko2-babble holds because its pause is long.
- en5-transients: a door slam inside the hangover (0.25 s after the last word) glues two
  sentences: webrtcvad calls the low-passed burst speech and the segmenter is still in speech. A
  per-frame onset/rise-time gate fixed it but cost ~0.25 of the 1.5x budget and cut short words
  ("What"), so it is not in. ko2-transients (a slam, then typing, 0.64 s before a sentence):
  the clicks keep the slam voiced until the sentence starts, so its start is 0.64 s early. (It held
  while webrtcvad was starved of quiet frames, see test_quiet_talker_*; a short slam on its own is
  dropped: test_door_slam_in_a_pause_is_not_an_utterance.)
- en5-agc: AGC pumping (+18 dB/s recovery in the pauses) outruns the noise floor's 4 dB/s rise in
  the 0.7 s pauses: the first sentence's end runs 0.34 s long, another's "-ts" is lost. ko2-agc (one
  1 s pause) holds again (it glued once the floor was bounded; a lift now also forgets what the
  stale floor called loud, which had pulled the next start 0.13 s early).
- ko2-reverb45/60: the reverberant tail (RT60 >= 0.45 s) extends the end by 0.12-0.13 s.

Fixed on the way (these cases are the regression tests): en5-quiet35 (final fricative after a
closure), en5-dc, en5-quiet-dc300,
en5-quiet-dc1000 (a DC offset swamped a quiet room's floor in both bands: nothing or garbage was
found; now the levels leave out the offset when the input has one).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.vad import degrade

FAILS = {  # case -> why (see the module docstring)
    "en5-pink10": "final -ts after closure", "en5-hiss15": "final -ts after closure",
    "en5-hiss10": "final -ts after closure", "en5-telephone": "telephone band removes the final s", "short-pauses-pink15": "weak final plosive",
    "en5-brown10": "rumble swells start speech early",
    "en5-babble20": "babble is speech", "en5-babble15": "babble is speech", "en5-babble10": "babble is speech",
    "en5-transients": "door slam in the hangover glues", "ko2-transients": "clicks carry a slam into the next sentence",
"en5-agc": "AGC pumping outruns the floor",
    "ko2-reverb45": "reverberant tail", "ko2-reverb60": "reverberant tail",
}
CASES = {c.name: c for c in degrade.cases()}


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, tuple[Path, degrade.Edges]]:
    d = tmp_path_factory.mktemp("realistic")
    return {name: degrade.write(case, d) for name, case in CASES.items()}


def test_the_known_failures_are_real_cases():
    assert set(FAILS) <= set(CASES)


@pytest.mark.parametrize("name", [n if n not in FAILS else pytest.param(n, marks=pytest.mark.xfail(reason=FAILS[n]))
                                  for n in CASES])
def test_count_and_edges_hold(written, name):
    path, truth = written[name]
    found, why = degrade.measure(path, truth)
    assert not why, (why, found, truth)


def test_listen_json_on_a_degraded_recording(written):
    """The issue's acceptance path: `assistant listen --input X --json` on reverberant speech."""
    from assistant.cli import main

    path, truth = written["en5-reverb45"]
    result = CliRunner().invoke(main, ["listen", "--input", str(path), "--json"])
    assert result.exit_code == 0, result.output
    got = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert len(got) == len(truth)
    for g, (a, b) in zip(got, truth):
        assert abs(g["start"] - a) <= 0.09 and abs(g["end"] - b) <= 0.09, (g, a, b)
