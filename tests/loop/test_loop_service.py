"""Service behaviour of the loop: a microphone that fails and comes back, sd_notify, reload,
the wake word gate, and the whole loop on the local engines over the bundled recording."""
from __future__ import annotations

import asyncio
import io
import json
import os
from pathlib import Path

import pytest

from assistant.config import load_config, with_overrides
from assistant.loop import Assistant, SourceLost

from . import event_shape
from .fakes import EventSource, engines

ROOT = Path(__file__).resolve().parents[2]


class RecordingNotifier:
    def __init__(self):
        self.events: list[str] = []

    def ready(self):
        self.events.append("READY")

    def status(self, text):
        self.events.append(f"STATUS={text}")

    def watchdog(self):
        self.events.append("WATCHDOG")

    def stopping(self):
        self.events.append("STOPPING")


class FlakyMic:
    """Fails ``failures`` times (device gone), then delivers utterances."""

    opened = 0

    def __init__(self, failures: int, count: int):
        self.failures, self.count = failures, count

    def __call__(self):
        FlakyMic.opened += 1
        if FlakyMic.opened <= self.failures:
            return _Broken()
        return EventSource(self.count)


class _Broken:
    async def frames(self):
        raise SourceLost("device unplugged")
        yield b""  # pragma: no cover


def test_microphone_lost_and_back_resumes_listening():
    FlakyMic.opened = 0
    notifier = RecordingNotifier()
    eng = engines([("help", "en"), ("speak slower", "en")])
    assistant = Assistant(load_config(), eng, notifier=notifier, turn_based=True)
    assistant.reopen_backoff = (0.01, 0.04)
    turns = asyncio.run(assistant.run(FlakyMic(failures=3, count=2)))
    assert [t.intent for t in turns] == ["help", "setting"]
    assert FlakyMic.opened == 4
    assert notifier.events.count("STATUS=microphone lost, retrying") == 3
    assert "READY" in notifier.events and notifier.events[-1] != "STOPPING"


def test_backoff_doubles_up_to_its_cap():
    sleeps: list[float] = []

    async def fake_sleep(seconds):
        sleeps.append(seconds)

    FlakyMic.opened = 0
    assistant = Assistant(load_config(), engines([("help", "en")]), turn_based=True)
    real = asyncio.sleep

    async def main():
        asyncio.sleep = lambda s, *a: fake_sleep(s) if s > 0 else real(s)
        try:
            return await assistant.run(FlakyMic(failures=7, count=1))
        finally:
            asyncio.sleep = real

    asyncio.run(main())
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]


def test_reload_applies_voice_and_reports_changed_sections():
    assistant = Assistant(load_config(), engines([("help", "en")]))
    cfg = with_overrides(load_config(), tts={"voice": "onyx"}, vad={"hangover_ms": 400})
    changed = assistant.reload(cfg)
    assert set(changed) == {"tts", "vad"}
    assert assistant.state.voice == "onyx"


class FakeWake:
    def __init__(self, heard_at):
        self.heard_at = heard_at

    def feed(self, frame):
        return False

    def heard_between(self, start, end):
        return any(start <= t <= end for t in self.heard_at)


def test_wake_word_gate_and_follow_up_window():
    # utterances start at 0.5, 2.5, 4.5 and 20.5 s (EventSource spaces them 2 s apart: add gaps)
    eng = engines([("help", "en"), ("speak slower", "en"), ("help", "en")])
    cfg = with_overrides(load_config(), router={"follow_up_s": 3.0})
    assistant = Assistant(cfg, eng, turn_based=True, wake_gate=FakeWake([2.3]))
    turns = asyncio.run(assistant.run(lambda: EventSource(3)))
    # 1st: no wake word heard yet -> ignored; 2nd: wake word just before it; 3rd: follow-up window
    assert [t.result for t in turns] == ["ignored", "done", "done"]
    assert turns[0].reason == "no wake word"


def test_real_wake_word_model_loads_and_stays_quiet_on_silence():
    pytest.importorskip("pymicro_wakeword")
    from assistant.vad.wakeword import WakeGate, available_wake_words

    assert "okay_nabu" in available_wake_words()
    gate = WakeGate("okay_nabu")
    assert not any(gate.feed(bytes(960)) for _ in range(200))
    with pytest.raises(Exception, match="unknown wake word"):
        WakeGate("abracadabra")


@pytest.mark.slow
def test_local_engines_over_the_bundled_recording(tmp_path):
    from assistant.service.runner import run_assistant

    out = tmp_path / "out"
    out.mkdir()
    stream = io.StringIO()
    turns = run_assistant(load_config(), input_path=str(ROOT / "assistant/data/recordings/demo.wav"),
                          output_dir=out, echo=lambda _l: None, events=stream)
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    event_shape.check_rules(events)
    if os.environ.get("ASSISTANT_UPDATE_FIXTURES"):
        event_shape.write_fixture(events)
    assert event_shape.shape(events) == event_shape.load_fixture()
    expected = json.loads((ROOT / "assistant/data/recordings/demo.json").read_text())
    assert len(turns) == len(expected)
    heard = [(t.intent, t.language) for t in turns]
    assert heard == [(e["intent"], e["language"]) for e in expected], heard  # the Korean turns too
    assert turns[0].result == "failed" and "no image backend" in turns[0].reason  # offline drawing
    replies = sorted(out.glob("reply-*.wav"))
    assert len(replies) >= len(turns)
    records = [json.loads(l) for l in (out / "turns.jsonl").read_text().splitlines()]
    assert len(records) == len(turns)
