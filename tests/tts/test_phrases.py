"""The fixed replies' first sentences, prepared once by the local voice and spoken from memory."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.config import TtsConfig
from assistant.skills.messages import MESSAGES, fixed_replies
from assistant.tts import local
from assistant.tts.local import LocalSynthesizer
from assistant.tts.phrases import PhraseStore

ROOT = Path(__file__).resolve().parents[2]
KO = MESSAGES["unknown"]["ko"]  # two sentences, no placeholder (espeak-ng: fast, no model)


def test_fixed_replies_start_without_placeholders():
    replies = fixed_replies()
    assert ("en", MESSAGES["unknown"]["en"]) in replies and ("ko", KO) in replies
    assert ("en", MESSAGES["drawing_ack"]["en"]) not in replies  # "Drawing {subject}…"
    assert all("{" not in next(local.chunks(text)) for _lang, text in replies)


def test_a_prepared_sentence_is_spoken_from_memory(monkeypatch):
    synth = LocalSynthesizer(TtsConfig(local_engine="espeak"))
    assert synth.prepare([("ko", KO)], voice="alloy") == 1
    calls = []
    real = local.espeak_synth
    monkeypatch.setattr(local, "espeak_synth", lambda text, *a: calls.append(text) or real(text, *a))
    chunks = list(synth.synthesize(KO, voice="alloy", language="ko"))
    assert len(chunks) == 2 and calls == [KO.split(". ", 1)[1]]  # only the second sentence is made now
    prepared = next(iter(synth._phrases.values()))
    assert np.array_equal(chunks[0][: len(prepared)], prepared)
    list(synth.synthesize(KO, voice="alloy", speed=1.25, language="ko"))  # another speed: made anew
    assert len(calls) == 3


def test_warm_up_prepares_in_the_background():
    synth = LocalSynthesizer(TtsConfig(local_engine="espeak"), phrases=[("ko", KO), ("ko", "네, 멈췄어요.")])
    synth.warm_up("alloy")
    assert synth.prepared.wait(60)
    assert len(synth._phrases) == 2
    assert LocalSynthesizer(TtsConfig(local_engine="espeak")).prepared.is_set() is False  # nothing to prepare: set at warm-up


def test_prepared_sentences_live_in_an_unlinked_file_and_come_back_whole(tmp_path, monkeypatch):
    store = PhraseStore()
    one, two = np.arange(-500, 500, dtype=np.int16), np.full(7, 3, np.int16)
    store.put("one", one)
    store.put(("two", 1.0), two)
    assert len(store) == 2 and "one" in store and "three" not in store
    assert all(isinstance(where, tuple) for where in store._where.values())  # offsets: not on the heap
    assert list((tmp_path / "xdg" / "cache" / "assistant").iterdir()) == []  # no name in the cache dir
    assert np.array_equal(store.get("one"), one) and np.array_equal(store.get(("two", 1.0)), two)
    assert store.get("three") is None and not store.get("one").flags.writeable
    store.close()
    assert store.get("one") is None and len(store) == 0


def test_prepared_sentences_stay_in_memory_when_the_cache_dir_is_unusable(tmp_path, monkeypatch):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache dir should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    store = PhraseStore()
    audio = np.arange(100, dtype=np.int16)
    store.put("a", audio)
    store.put("b", audio[::-1])
    assert np.array_equal(store.get("a"), audio) and np.array_equal(store.get("b"), audio[::-1])
    assert not store.get("a").flags.writeable


@pytest.mark.slow
def test_exit_while_preparing_is_clean():
    """A daemon thread killed inside onnxruntime at exit aborts the process (exit 134)."""
    code = ("from assistant.tts.local import LocalSynthesizer\n"
            "from assistant.skills.messages import fixed_replies\n"
            "LocalSynthesizer(phrases=fixed_replies()).warm_up('alloy')\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-500:]
