"""The turn-event contract: subscribe, handle_text, handle_utterance, sessions, serve/stop,
tickets; `assistant ask` and `run --events` as its faces."""
from __future__ import annotations

import asyncio
import io
import json

import numpy as np
import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.config import load_config
from assistant.events import EventType
from assistant.loop import Assistant

from . import event_shape
from .fakes import EventSource, FakeImageService, FakeSpeaker, engines


def collect(assistant):
    events = []
    assistant.subscribe(events.append)
    return events


def types(events, turn=None):
    return [e.type.value for e in events if e.type not in (EventType.LEVEL, EventType.STATE)
            and (turn is None or e.turn == turn)]


def test_a_spoken_turn_emits_its_events_in_order(tmp_path):
    eng = engines([("speak slower", "en"), ("", "en")])
    a = Assistant(load_config(), eng, turn_based=True)
    events = collect(a)
    asyncio.run(a.run(lambda: EventSource(2)))
    assert types(events, 1) == ["heard", "transcribed", "routed", "reply.started", "reply.audio", "reply.audio",
                                "reply.audio", "reply.finished", "turn.finished"]
    assert types(events, 2) == ["heard", "transcribed", "ignored", "turn.finished"]
    routed = next(e for e in events if e.type is EventType.ROUTED)
    assert routed.data == {"intent": "setting", "slots": {"setting": "speed", "value": "slower"}, "language": "en"}
    audio = [e for e in events if e.type is EventType.REPLY_AUDIO]
    assert audio[0].data["audio"].dtype == np.int16 and audio[0].data["samples"] == 160
    assert "audio" not in audio[0].to_json()["data"]
    finished = [e for e in events if e.type is EventType.TURN_FINISHED]
    assert [e.data["result"] for e in finished] == ["done", "ignored"]
    assert finished[0].data["record"]["replies"] == [eng.synthesizer.spoken[0][0]]
    states = [e.data["state"] for e in events if e.type is EventType.STATE]
    assert states[0] == "listening" and "thinking" in states and "speaking" in states and states[-1] == "listening"
    event_shape.check_rules([e.to_json() for e in events])


def test_handle_text_and_tickets_with_a_background_job(tmp_path):
    service = FakeImageService(tmp_path)
    eng = engines([], images=lambda: service)
    a = Assistant(load_config(), eng)
    events = collect(a)

    async def main():
        serving = asyncio.create_task(a.serve())
        ticket = await a.handle_text("draw a red fox")
        replies = await ticket.replied()
        record = await ticket.finished()
        a.stop()
        await serving
        return ticket, replies, record

    ticket, replies, record = asyncio.run(main())
    assert [r.kind for r in replies] == ["ack"] and "fox" in replies[0].text
    assert record["result"] == "done" and record["intent"] == "draw" and record["files"]
    assert len(record["replies"]) == 2  # the ack and "your picture is ready"
    t = types(events, ticket.id)
    assert t[:3] == ["transcribed", "routed", "image.queued"] and "image.saved" in t and t[-1] == "turn.finished"
    saved = next(e for e in events if e.type is EventType.IMAGE_SAVED)
    assert saved.data["path"] == record["files"][0] and saved.data["prompt"] == "a red fox"


def test_sessions_have_their_own_state_and_unspoken_replies_still_stream():
    eng = engines([])
    a = Assistant(load_config(), eng)
    events = collect(a)

    async def main():
        serving = asyncio.create_task(a.serve())
        a.session("kitchen", room="kitchen")
        await (await a.handle_text("speak slower", session="kitchen")).finished()
        record = await (await a.handle_text("help")).finished()
        a.stop()
        await serving
        return record

    record = asyncio.run(main())
    assert a.sessions["kitchen"].state.speed == 0.75 and a.state.speed == 1.0
    assert record["result"] == "done"
    kitchen_audio = [e for e in events if e.type is EventType.REPLY_AUDIO and e.session == "kitchen"]
    assert kitchen_audio and eng.speaker.played == [3]  # only the local reply reached the speaker


def test_handle_utterance_and_unsubscribe():
    eng = engines([("help", "en")])
    a = Assistant(load_config(), eng)
    events = collect(a)
    seen = []
    unsubscribe = a.subscribe(seen.append)
    unsubscribe()

    async def main():
        serving = asyncio.create_task(a.serve())
        ticket = await a.handle_utterance(np.zeros(16000, np.int16), session="satellite")
        record = await ticket.finished()
        a.stop()
        await serving
        return record

    record = asyncio.run(main())
    assert record["intent"] == "help" and record["end"] == 1.0
    assert types(events)[:2] == ["heard", "transcribed"] and not seen
    assert all(e.session == "satellite" for e in events if e.turn is not None)


def test_a_raising_listener_does_not_stop_the_loop():
    eng = engines([("help", "en"), ("speak slower", "en")])
    a = Assistant(load_config(), eng, turn_based=True)

    def bad(_event):
        raise RuntimeError("listener bug")

    a.subscribe(bad)
    turns = asyncio.run(a.run(lambda: EventSource(2)))
    assert [t.result for t in turns] == ["done", "done"]


def test_stop_ends_serve_and_fails_what_was_pending():
    speaker = FakeSpeaker(block=True)
    eng = engines([], speaker=speaker)
    a = Assistant(load_config(), eng)

    async def main():
        serving = asyncio.create_task(a.serve())
        ticket = await a.handle_text("say a very long story")
        await asyncio.to_thread(speaker.started.wait, 5)
        a.stop()
        await serving
        return await ticket.finished()

    record = asyncio.run(main())
    assert record["turn"] == 1 and record["replies"]


# ------------------------------------------------------------------ assistant ask
def test_ask_offline_draw_says_it_needs_a_key():
    res = CliRunner().invoke(main, ["ask", "draw a red fox", "--no-play"])
    assert res.exit_code == 0, res.output
    assert "key" in res.stdout.lower() and "image server" in res.stdout.lower()


def test_ask_json_prints_the_turns_events_and_out_keeps_the_reply(tmp_path):
    out = tmp_path / "reply.wav"
    res = CliRunner().invoke(main, ["ask", "천천히 말해줘", "--json", "--no-play", "--out", str(out)])
    assert res.exit_code == 0, res.output
    events = [json.loads(line) for line in res.stdout.splitlines()]
    assert [e["type"] for e in events][:2] == ["transcribed", "routed"]
    assert events[-1]["type"] == "turn.finished" and events[-1]["data"]["result"] == "done"
    assert events[1]["data"]["language"] == "ko"
    import soundfile as sf

    data, rate = sf.read(out)
    assert len(data) > rate // 4


@pytest.mark.parametrize("text", ["😀🎉🔥", "uh", "\u200b\u200d"])
def test_ask_says_why_a_turn_was_ignored(text):
    """Only emoji (taken for a hesitation) printed nothing at all and exited 0 (hostile run)."""
    res = CliRunner().invoke(main, ["ask", text, "--no-play"])
    assert res.exit_code == 0, res.output
    assert res.stderr.startswith("ignored: ") and res.stdout == ""


@pytest.mark.parametrize("args, words", [
    (["ask", ""], "empty"),
    (["ask", "hi", "--language", "fr"], "en or ko"),
    (["ask", "hi", "--out", "/nonexistent-dir/x.wav"], "does not exist"),
    (["ask", "hi", "--out", "x.xyz"], "xyz"),
])
def test_ask_bad_input_is_one_line_and_exit_2(args, words):
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2, res.output
    assert len(res.stderr.strip().splitlines()) == 1 and words in res.stderr


def test_ask_draw_against_the_standin_saves_the_picture(tmp_path, monkeypatch):
    from PIL import Image

    from tests.standin import StandIn

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-ask-0123456789")
    with StandIn() as srv:
        cfg = tmp_path / "config.toml"
        cfg.write_text(f'[images]\nbackend = "openai"\nbase_url = "{srv.base_url}"\noutput_dir = "{tmp_path / "img"}"\n'
                       f'[tts]\nbackend = "openai"\nbase_url = "{srv.base_url}"\n')
        res = CliRunner().invoke(main, ["--config", str(cfg), "ask", "draw a red fox", "--no-play"])
        assert srv.violations == []
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert "fox" in lines[0].lower() and "ready" in lines[-1].lower()
    (png,) = (tmp_path / "img").glob("*.png")
    with Image.open(png) as im:
        im.verify()


# ------------------------------------------------------------------ run --events
def test_run_events_writes_json_lines(tmp_path, monkeypatch):
    import assistant.service.runner as runner

    seen = {}

    def fake_run(cfg, **kwargs):
        seen.update(kwargs)
        kwargs["events"].write('{"type": "state"}\n')
        kwargs["echo"]("you: hello")
        return []

    monkeypatch.setattr(runner, "run_assistant", fake_run)
    wav = tmp_path / "in.wav"
    import soundfile as sf

    sf.write(wav, np.zeros(1600, np.int16), 16000)
    target = tmp_path / "events.jsonl"
    res = CliRunner().invoke(main, ["run", "--input", str(wav), "--events", str(target), "--quiet"])
    assert res.exit_code == 0, res.output
    assert target.read_text() == '{"type": "state"}\n'
    res = CliRunner().invoke(main, ["run", "--input", str(wav), "--events", "-"])
    assert res.exit_code == 0, res.output
    assert res.stdout == '{"type": "state"}\n' and "you: hello" in res.stderr
    (tmp_path / "link").symlink_to(target)
    res = CliRunner().invoke(main, ["run", "--input", str(wav), "--events", str(tmp_path / "link")])
    assert res.exit_code == 2 and "symlink" in res.stderr


def test_json_lines_listener_flushes_each_event():
    from assistant.listeners import JsonLinesListener

    eng = engines([("help", "en")])
    a = Assistant(load_config(), eng, turn_based=True)
    stream = io.StringIO()
    a.subscribe(JsonLinesListener(stream))
    asyncio.run(a.run(lambda: EventSource(1)))
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert event_shape.shape(events) == [["heard", "transcribed", "routed", "reply.started", "reply.audio",
                                          "reply.finished", "turn.finished"]]


class _Frames:
    def __init__(self, pcm: np.ndarray):
        self._bytes = pcm.astype(np.int16).tobytes()

    async def frames(self):
        for i in range(0, len(self._bytes) - 959, 960):
            yield self._bytes[i:i + 960]


def test_a_dropped_start_returns_the_state_to_listening():
    """A 150 ms burst starts speech and is dropped (shorter than vad.min_speech_ms): no turn, and
    the session is not left "hearing" until the next utterance (the web page showed it so)."""
    rng = np.random.default_rng(0)
    pcm = np.concatenate([rng.normal(0, 20, 16000), rng.normal(0, 6000, 2400), rng.normal(0, 20, 32000)])
    a = Assistant(load_config(), engines([]), turn_based=True)
    events = collect(a)
    turns = asyncio.run(a.run(lambda: _Frames(pcm)))
    states = [e.data["state"] for e in events if e.type is EventType.STATE]
    assert turns == [] and "hearing" in states
    assert states[-1] == "listening" and states.index("hearing") < len(states) - 1
