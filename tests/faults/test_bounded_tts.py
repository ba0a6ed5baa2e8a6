"""Issue 17 item 5: local TTS cuts long or unpunctuated text into bounded pieces and streams them,
so memory does not grow with the input (1000 unpunctuated words once took 10 GB)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.tts import local
from assistant.tts.local import MAX_CHUNK_CHARS, LocalSynthesizer, chunks

WORDS = "the quick brown fox jumps over a lazy dog while seven bright owls watch".split()


def unpunctuated(n: int) -> str:
    return " ".join(WORDS[i % len(WORDS)] for i in range(n))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("abc 가나, .!?\n") + ["longword" * 40]), max_size=400).map("".join))
def test_chunks_are_bounded_and_keep_every_word(text):
    pieces = list(chunks(text))
    assert all(0 < len(p) <= MAX_CHUNK_CHARS for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


def test_unpunctuated_words_reach_the_engine_in_bounded_pieces(monkeypatch):
    seen: list[str] = []

    def fake(text, *args, **kwargs):
        seen.append(text)
        import numpy as np
        return np.zeros(10, np.int16)

    monkeypatch.setattr(local, "piper_synth", fake)
    monkeypatch.setattr(local, "espeak_synth", fake)
    monkeypatch.setattr(local, "piper_available", lambda: True)
    out = list(LocalSynthesizer().synthesize(unpunctuated(1000), voice="alloy"))
    assert len(seen) > 20 and max(map(len, seen)) <= MAX_CHUNK_CHARS
    assert " ".join(seen).split() == unpunctuated(1000).split()
    assert len(out) == len(seen)
    seen.clear()
    list(LocalSynthesizer().synthesize("가나다라 " * 500, voice="alloy"))
    assert max(map(len, seen)) <= MAX_CHUNK_CHARS


def test_pieces_are_made_lazily(monkeypatch):
    """The first audio comes before the whole text has been synthesized (streamed)."""
    calls = []
    monkeypatch.setattr(local, "espeak_synth", lambda text, *a, **k: calls.append(text) or __import__("numpy").ones(5, "int16"))
    monkeypatch.setattr(local, "piper_available", lambda: False)
    stream = LocalSynthesizer().synthesize(unpunctuated(2000), voice="alloy")
    next(stream)
    assert len(calls) == 1


RSS_SCRIPT = """
import resource, sys
from assistant.config import TtsConfig
from assistant.tts.local import LocalSynthesizer
words = "the quick brown fox jumps over a lazy dog while seven bright owls watch".split()
text = " ".join(words[i % len(words)] for i in range(int(sys.argv[1])))
synth = LocalSynthesizer(TtsConfig(local_engine=sys.argv[2]))
samples = sum(len(c) for c in synth.synthesize(text, voice="alloy"))
try:  # this process's own peak: ru_maxrss keeps the forking parent's (pytest's) high-water mark across exec
    peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(samples, peak_kb // 1024)
"""


@pytest.mark.slow
def test_2000_unpunctuated_words_stay_under_1_gb():
    pytest.importorskip("espeakng_loader")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}   # this checkout's package, not an installed one
    run = subprocess.run([sys.executable, "-c", RSS_SCRIPT, "2000", "espeak"], capture_output=True,
                         text=True, timeout=300, cwd=root, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    samples, peak_mb = map(int, run.stdout.split())
    assert samples > 22050 * 60 * 5          # minutes of speech came out
    assert peak_mb <= 1024, f"peak RSS {peak_mb} MB"


def test_say_out_streams_into_the_file(tmp_path, monkeypatch):
    """`say --out` without playing never gathers the whole clip (render() is not used)."""
    pytest.importorskip("espeakng_loader")
    import soundfile as sf
    from click.testing import CliRunner

    from assistant.cli import main
    from assistant.tts import speak

    monkeypatch.setattr(speak, "render", lambda *a, **k: (_ for _ in ()).throw(AssertionError("gathered")))
    conf = tmp_path / "c.toml"
    conf.write_text('[tts]\nlocal_engine = "espeak"\n')
    for fmt in ("wav", "flac"):
        out = tmp_path / f"x.{fmt}"
        r = CliRunner().invoke(main, ["--config", str(conf), "say", unpunctuated(120), "--backend", "local",
                                      "--no-play", "--out", str(out)])
        assert r.exit_code == 0, r.output
        assert sf.info(str(out)).frames > 22050 * 10
