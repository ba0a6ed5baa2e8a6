"""Conversation: sentence splitting, memory, Chat Completions against the stand-in (checked
against the spec, streamed), and through the loop: answers, memory of drawings, "draw what you
just described", and the short help reply when chat is off."""
from __future__ import annotations

import asyncio
import json

import pytest

from assistant.chat.engine import ChatEngine
from assistant.chat.memory import Memory
from assistant.chat.refer import refers_to_last_answer
from assistant.chat.split import SentenceSplitter
from assistant.config import load_config, with_overrides
from assistant.history import HistoryWriter
from assistant.loop import Assistant
from tests.loop.fakes import EventSource, engines
from tests.standin import StandIn

ANSWER = "The Mona Lisa was painted by Leonardo da Vinci. He began it around 1503. It hangs in the Louvre in Paris."


def test_sentences_come_out_as_soon_as_they_are_complete():
    s = SentenceSplitter()
    out = []
    for piece in ["The Mona", " Lisa was painted by Leonardo", " da Vinci. He", " began it around 1503. It", " hangs."]:
        out.append(s.feed(piece))
    assert out == [[], [], ["The Mona Lisa was painted by Leonardo da Vinci."], ["He began it around 1503."], []]
    assert s.flush() == ["It hangs."]
    short = SentenceSplitter()
    assert short.feed("Yes. ") == [] and short.feed("It is in Paris. ") == ["Yes. It is in Paris."]  # short ones join
    k = SentenceSplitter()
    assert k.feed("모나리자는 레오나르도 다빈치가 그렸어요. 지금은 ") == ["모나리자는 레오나르도 다빈치가 그렸어요."]
    assert SentenceSplitter().feed("**Bold** answer with 3.5 stars.\n- next item here\n") == [
        "Bold answer with 3.5 stars.", "next item here"]


def test_memory_is_bounded_and_keeps_drawings():
    m = Memory(2)
    m.add("hi", "Hello.")
    m.add("draw a fox", "Drawing a fox…", "I drew: a fox (fox.png)")
    m.add("thanks", "You're welcome.")
    assert m.messages() == [
        {"role": "user", "content": "draw a fox"}, {"role": "assistant", "content": "Drawing a fox… [I drew: a fox (fox.png)]"},
        {"role": "user", "content": "thanks"}, {"role": "assistant", "content": "You're welcome."}]
    assert m.last_answer() == "You're welcome."
    Memory(0).add("x", "y")


@pytest.mark.parametrize("prompt,back", [("what you just described", True), ("what you described", True), ("that", True),
                                         ("방금 말한 거", True), ("설명한 거", True), ("a cat", False), ("what you like", False)])
def test_draw_what_you_just_described(prompt, back):
    assert refers_to_last_answer(prompt) is back


@pytest.fixture(scope="module")
def srv():
    with StandIn() as s:
        yield s


@pytest.fixture
def server(srv, monkeypatch):
    srv.reset()
    srv.chat_text = ANSWER
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-chat")
    yield srv
    srv.chat_text = "Hello."
    assert srv.violations == []


def _cfg(server, **chat):
    return with_overrides(load_config(), chat={"base_url": server.base_url, "max_retries": 0, **chat},
                          images={"base_url": server.base_url, "max_retries": 0})


def test_engine_streams_a_spec_valid_request(server):
    cfg = _cfg(server, max_output_tokens=120)
    pieces = list(ChatEngine(cfg.chat).stream([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello."}],
                                              "Who painted the Mona Lisa?", "en"))
    assert len(pieces) > 5 and "".join(pieces) == ANSWER
    body = server.requests[-1].json
    assert body["model"] == "gpt-5.4-mini" and body["stream"] is True and body["max_tokens"] == 120
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
    assert "Korean in, Korean out" in body["messages"][0]["content"]


def test_openai_itself_gets_max_completion_tokens(monkeypatch):
    cfg = load_config()
    body = ChatEngine(cfg.chat).request([], "hi", "ko")
    assert body["max_completion_tokens"] == 300 and "max_tokens" not in body
    assert "answer in Korean" in body["messages"][0]["content"]


def _run(cfg, texts, tmp_path):
    eng = engines(texts)
    hist = tmp_path / "h.jsonl"
    a = Assistant(cfg, eng, history=HistoryWriter([hist]), turn_based=True)
    asyncio.run(a.run(lambda: EventSource(len(texts))))
    return eng, [json.loads(line) for line in hist.read_text().splitlines()], a


def test_questions_are_answered_sentence_by_sentence_with_memory(server, tmp_path):
    texts = [("Who painted the Mona Lisa?", "en"), ("What time is it?", "en"), ("Where is it now?", "en")]
    eng, rows, _ = _run(_cfg(server), texts, tmp_path)
    assert [r["intent"] for r in rows] == ["chat", "clock", "chat"] and all(r["result"] == "done" for r in rows)
    spoken = [s[0] for s in eng.synthesizer.spoken]
    assert spoken[:3] == ["The Mona Lisa was painted by Leonardo da Vinci.", "He began it around 1503.",
                          "It hangs in the Louvre in Paris."]
    assert rows[0]["replies"] == spoken[:3]
    chats = [r for r in server.requests if r.endpoint == "/chat/completions"]
    history = chats[-1].json["messages"]
    assert {"role": "user", "content": "Who painted the Mona Lisa?"} in history
    assert any(m["role"] == "assistant" and m["content"].startswith("The Mona Lisa") for m in history)
    assert history[-2]["content"].startswith("It's ")  # the clock turn is remembered too
    assert history[-1] == {"role": "user", "content": "Where is it now?"}


def test_korean_in_korean_out(server, tmp_path):
    server.chat_text = "모나리자는 레오나르도 다빈치가 그렸어요. 지금은 파리 루브르 박물관에 있어요."
    eng, rows, _ = _run(_cfg(server), [("모나리자는 누가 그렸어?", "ko")], tmp_path)
    assert rows[0]["intent"] == "chat"
    assert [(s[0], s[3]) for s in eng.synthesizer.spoken] == [
        ("모나리자는 레오나르도 다빈치가 그렸어요.", "ko"), ("지금은 파리 루브르 박물관에 있어요.", "ko")]
    assert "answer in Korean" in server.requests[-1].json["messages"][0]["content"]


def test_draw_what_you_just_described_and_remember_the_drawing(server, tmp_path):
    server.chat_text = "A lighthouse on a cliff at sunset, with waves below."
    texts = [("Describe a calm seaside scene.", "en"), ("Draw what you just described.", "en"), ("What did you draw?", "en")]
    eng = engines(texts)
    eng.image_service = None  # the real service against the stand-in
    from assistant.images.factory import make_image_service

    cfg = _cfg(server)
    eng.image_service = lambda: make_image_service(cfg)
    hist = tmp_path / "h.jsonl"
    asyncio.run(Assistant(cfg, eng, history=HistoryWriter([hist]), turn_based=True).run(lambda: EventSource(3)))
    rows = {r["turn"]: r for r in (json.loads(line) for line in hist.read_text().splitlines())}
    assert rows[1]["intent"] == "chat" and rows[2]["intent"] == "draw"
    assert rows[2]["slots"]["prompt"] == "A lighthouse on a cliff at sunset, with waves below."
    generations = [r for r in server.requests if r.endpoint == "/images/generations"]
    assert generations[0].json["prompt"] == "A lighthouse on a cliff at sunset, with waves below."
    assert rows[3]["intent"] in ("show_image", "chat")


def test_chat_off_or_offline_gives_the_short_help(server, tmp_path, monkeypatch):
    eng, rows, _ = _run(_cfg(server, backend="off"), [("Who painted the Mona Lisa?", "en")], tmp_path)
    assert rows[0]["intent"] == "unknown" and eng.synthesizer.spoken[0][0].startswith("Sorry, I didn't get that")
    monkeypatch.delenv("OPENAI_API_KEY")
    eng, rows, _ = _run(load_config(), [("Who painted the Mona Lisa?", "en")], tmp_path / "2")
    assert rows[0]["intent"] == "unknown"


def test_server_errors_are_said_and_recorded(server, tmp_path):
    from tests.standin import Reply

    server.script("/v1/chat/completions", [Reply(status=500, json={"error": {"message": "boom", "type": "server_error"}})])
    eng, rows, _ = _run(_cfg(server), [("Who painted the Mona Lisa?", "en"), ("help", "en")], tmp_path)
    assert rows[0]["intent"] == "chat" and rows[0]["result"] == "failed" and "500" in rows[0]["reason"]
    assert eng.synthesizer.spoken[0][0] == "Sorry, I can't answer that right now."
    assert rows[1]["result"] == "done"
