"""The loop with deterministic fake engines: ordering, queueing, barge-in, echo, translate."""
from __future__ import annotations

import asyncio
import json
import threading

import soundfile as sf


from assistant.config import load_config, with_overrides
from assistant.history import HistoryWriter
from assistant.loop import Assistant

from .fakes import EventSource, FakeImageService, FakeSpeaker, engines


def run(assistant, source):
    return asyncio.run(assistant.run(lambda: source))


def spoken(eng):
    return [s[0] for s in eng.synthesizer.spoken]


def test_replies_in_order_and_settings(tmp_path):
    texts = [("Speak slower.", "en"), ("Use the onyx voice.", "en"), ("what is the weather", "en"), ("help", "en")]
    eng = engines(texts)
    hist = tmp_path / "h.jsonl"
    a = Assistant(load_config(), eng, history=HistoryWriter([hist]), turn_based=True, output_dir=tmp_path)
    turns = run(a, EventSource(len(texts)))
    assert [t.intent for t in turns] == ["setting", "setting", "unknown", "help"]
    assert all(t.result == "done" for t in turns)
    assert a.state.speed == 0.75 and a.state.voice == "onyx"
    # the third reply is spoken with the new voice and speed
    assert eng.synthesizer.spoken[2][1:3] == ("onyx", 0.75)
    records = [json.loads(l) for l in hist.read_text().splitlines()]
    assert [r["turn"] for r in records] == [1, 2, 3, 4]
    assert all("eos_to_first_audio" in r["timings"] for r in records)
    wavs = sorted(tmp_path.glob("reply-*.wav"))
    assert len(wavs) == 4
    data, rate = sf.read(wavs[0])
    assert rate == 16000 and len(data) == 480


def test_korean_turn_replies_in_korean():
    eng = engines([("천천히 말해줘", "ko")])
    turns = run(Assistant(load_config(), eng, turn_based=True), EventSource(1))
    assert turns[0].intent == "setting"
    text, _, _, language = eng.synthesizer.spoken[0]
    assert language == "ko" and any("\uac00" <= c <= "\ud7a3" for c in text)


def test_draw_offline_says_it_needs_a_key():
    eng = engines([("draw a red fox", "en")])
    turns = run(Assistant(load_config(), eng, turn_based=True), EventSource(1))
    assert turns[0].intent == "draw" and turns[0].result == "failed"
    assert "OPENAI_API_KEY" in spoken(eng)[0] or "key" in spoken(eng)[0].lower()


def test_draw_then_edit_with_image_service(tmp_path):
    service = FakeImageService(tmp_path)
    eng = engines([("draw a red fox", "en"), ("edit it: put a hat on the top left", "en")], images=lambda: service)
    turns = run(Assistant(load_config(), eng, turn_based=True), EventSource(2))
    assert [t.intent for t in turns] == ["draw", "edit"]
    assert [c[0] for c in service.calls] == ["generate", "edit"]
    assert service.calls[1][2]["region"] == "top-left"
    assert all(t.result == "done" and t.files for t in turns)
    said = spoken(eng)
    assert any("img-1.png" in s for s in said) and any("img-2.png" in s for s in said)


def test_jobs_beyond_max_are_queued_and_user_told(tmp_path):
    gate = threading.Event()
    service = FakeImageService(tmp_path, gate)
    texts = [("draw a cat", "en"), ("draw a dog", "en"), ("draw a fox", "en")]
    cfg = with_overrides(load_config(), images={"max_jobs": 1})
    eng = engines(texts, images=lambda: service)

    async def release_after_all(i):
        if i == len(texts) - 1:
            asyncio.get_running_loop().call_later(0.05, gate.set)

    turns = run(Assistant(cfg, eng, turn_based=True), EventSource(3, release_after_all))
    said = spoken(eng)
    assert sum("queue" in s.lower() for s in said) == 2, said
    assert len(service.calls) == 3 and all(t.result == "done" for t in turns)


def test_barge_in_cuts_playback():
    speaker = FakeSpeaker(block=True)
    eng = engines([("say this is a very long story", "en"), ("stop", "en")], speaker=speaker)

    async def wait_until_speaking(_i):
        await asyncio.to_thread(speaker.started.wait, 5)

    a = Assistant(load_config(), eng, turn_based=False)
    turns = run(a, EventSource(2, wait_until_speaking))
    assert speaker.stopped >= 1
    assert speaker.played[0] < 3  # cut before all chunks were played
    assert turns[1].intent == "stop" and "barge-in" in turns[1].reason


def test_a_command_while_speaking_is_a_barge_in_and_handled():
    speaker = FakeSpeaker(block=True)
    eng = engines([("say something long", "en"), ("speak slower", "en")], speaker=speaker)

    async def wait_until_speaking(i):
        await asyncio.to_thread(speaker.started.wait, 5)

    a = Assistant(load_config(), eng, turn_based=False)
    turns = run(a, EventSource(2, wait_until_speaking))
    assert speaker.stopped >= 1 and speaker.played[0] < 3
    assert turns[1].intent == "setting" and turns[1].result == "done" and turns[1].reason == "barge-in"
    assert a.state.speed == 0.75 and spoken(eng)[-1].startswith("Okay")


def test_echo_of_own_reply_is_ignored():
    eng = engines([("say the quick brown fox", "en"), ("the quick brown fox", "en")])
    turns = run(Assistant(load_config(), eng, turn_based=True), EventSource(2))
    assert turns[1].result == "ignored" and "echo" in turns[1].reason
    assert len(eng.synthesizer.spoken) == 1


def test_translate_mode():
    texts = [("번역 모드", "ko"), ("안녕하세요 만나서 반갑습니다", "ko"), ("stop translating", "en"), ("help", "en")]
    eng = engines(texts, translations={"안녕하세요 만나서 반갑습니다": "Hello, nice to meet you."})
    turns = run(Assistant(load_config(), eng, turn_based=True), EventSource(4))
    assert [t.intent for t in turns] == ["translate_on", "translation", "translate_off", "help"]
    assert spoken(eng)[1] == "Hello, nice to meet you."
    assert eng.synthesizer.spoken[1][3] == "en"
    assert [c["task"] for c in eng.transcriber.calls].count("translate") == 1


def test_empty_transcript_is_ignored_and_recorded(tmp_path):
    hist = tmp_path / "h.jsonl"
    eng = engines([("", "en"), ("help", "en")])
    turns = run(Assistant(load_config(), eng, turn_based=True, history=HistoryWriter([hist])), EventSource(2))
    assert turns[0].result == "ignored"
    assert len(hist.read_text().splitlines()) == 2


def test_stats_command(tmp_path):
    from click.testing import CliRunner

    from assistant.cli import main

    hist = tmp_path / "h.jsonl"
    eng = engines([("help", "en")] * 5)
    run(Assistant(load_config(), eng, turn_based=True, history=HistoryWriter([hist])), EventSource(5))
    result = CliRunner().invoke(main, ["stats", "--history", str(hist)])
    assert result.exit_code == 0, result.output
    assert "eos_to_first_audio" in result.output and "p95" in result.output


def test_command_inside_last_reply_is_not_an_echo():
    eng = engines([("say you can ask me to speak slower or draw things", "en"), ("speak slower", "en")])
    turns = run(Assistant(load_config(), eng, turn_based=True), EventSource(2))
    assert turns[1].intent == "setting" and turns[1].result == "done"


def test_a_lone_hesitation_is_ignored_not_answered():
    eng = engines([("Uh.", "en"), ("음...", "ko"), ("help", "en")])
    turns = run(Assistant(load_config(), eng, turn_based=True), EventSource(3))
    assert [t.result for t in turns] == ["ignored", "ignored", "done"]
    assert len(eng.synthesizer.spoken) == 1
