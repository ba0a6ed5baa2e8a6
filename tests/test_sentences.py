"""[[sentences]]: parsing with one-line errors, matching EN/KO templates, a real command and a
real HTTP receiver on 127.0.0.1, and the loop recording the exit / HTTP status in the history."""
from __future__ import annotations

import asyncio
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant import sentences as S
from assistant.config import build_config, load_config
from assistant.errors import ConfigError
from assistant.history import HistoryWriter
from assistant.loop import Assistant

from .loop.fakes import EventSource, engines

LIGHTS = {"templates": ["turn {state:on|off} the {room} light", "{room} 불 {state:켜|꺼}줘"],
          "reply": "Okay, the {room} light is {state}."}


def one(**entry):
    return S.parse([entry])


@pytest.mark.parametrize("text,slots", [
    ("Turn on the kitchen light.", {"state": "on", "room": "kitchen"}),
    ("turn off the living room light", {"state": "off", "room": "living room"}),
    ("거실 불 켜줘", {"room": "거실", "state": "켜"}),
    ("거실불꺼줘", {"room": "거실", "state": "꺼"}),
])
def test_templates_match_with_slots(text, slots):
    hit = S.match(one(**LIGHTS), text)
    assert hit is not None and hit.slots == slots and hit.index == 0


@pytest.mark.parametrize("text", ["turn up the kitchen light", "turn onthe kitchen light", "what time is it", ""])
def test_other_text_does_not_match(text):
    assert S.match(one(**LIGHTS), text) is None


@pytest.mark.parametrize("entry,error", [
    ({"templates": ["x {a}"], "run": ["/bin/echo", "{b}"]}, "sentences[0].run: {b} is not a slot of every template"),
    ({"templates": ["x {a}", "y"], "reply": "{a}"}, "sentences[0].reply: {a} is not a slot of every template"),
    ({"templates": [], "reply": "x"}, "sentences[0].templates must be a non-empty list"),
    ({"templates": ["x"]}, "sentences[0]: needs run, http or reply"),
    ({"templates": ["x"], "run": "echo hi"}, "sentences[0].run must be a non-empty list of strings"),
    ({"templates": ["x"], "run": ["a"], "http": {"url": "http://h/"}}, "either run or http"),
    ({"templates": ["x"], "http": {"url": "ftp://x"}}, "sentences[0].http.url must be an http://"),
    ({"templates": ["x"], "http": {"url": "http://x", "method": "BREW"}}, "sentences[0].http.method must be one of"),
    ({"templates": ["x {a:}"], "reply": "y"}, "empty choice"),
    ({"templates": ["x {a} {a}"], "reply": "y"}, "slot {a} twice"),
    ({"templates": ["x"], "reply": "y", "shell": True}, "unknown key 'shell'"),
    ({"templates": ["x"], "reply": "y", "timeout_s": 0}, "timeout_s must be a number"),
])
def test_bad_entries_are_one_line_errors(entry, error):
    with pytest.raises(ConfigError) as err:
        build_config({"sentences": [entry]}, "my.toml")
    text = str(err.value)
    assert error in text and text.endswith("in my.toml") and "\n" not in text


def test_real_command_gets_filled_argv_and_no_shell(tmp_path):
    out = tmp_path / "ran.json"
    script = tmp_path / "lights.py"
    script.write_text("import json, sys\nopen(sys.argv[1], 'w').write(json.dumps(sys.argv[2:]))\nprint('light', sys.argv[3])\n")
    (s,) = one(templates=["turn {state:on|off} the {room} light"], run=[sys.executable, str(script), str(out), "{room}", "{state}"],
               reply="{output}, {room}")
    hit = S.match((s,), "Turn on the kid's room light; rm -rf")
    assert hit is None  # the whole utterance must match
    hit = S.match((s,), "Turn on the kid's room light")
    done = S.perform(hit)
    assert done.ok and done.status == 0 and done.kind == "run"
    assert json.loads(out.read_text()) == ["kid's room", "on"]  # one argument each, never a shell
    assert S.reply_text(hit, done) == "light on, kid's room"


def test_failing_missing_and_slow_commands(tmp_path):
    (fail,) = one(templates=["fail"], run=[sys.executable, "-c", "import sys; sys.exit(3)"])
    done = S.perform(S.match((fail,), "fail"))
    assert not done.ok and done.status == 3 and "exited with status 3" in done.error
    (missing,) = one(templates=["missing"], run=[str(tmp_path / "nope")])
    done = S.perform(S.match((missing,), "missing"))
    assert not done.ok and done.status is None and done.error.startswith("no such command")
    (slow,) = one(templates=["slow"], run=[sys.executable, "-c", "import time; time.sleep(5)"], timeout_s=0.2)
    done = S.perform(S.match((slow,), "slow"))
    assert not done.ok and "did not finish within 0.2 s" in done.error


class Receiver:
    """A real HTTP server on 127.0.0.1 that records requests and answers with ``status``."""

    def __init__(self, status=200):
        self.requests: list[tuple[str, str, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.append((self.command, self.path, json.loads(body) if body else {}))
                self.send_response(outer.status)
                self.send_header("Content-Length", "3")
                self.end_headers()
                self.wfile.write(b"ok\n")

            do_POST = do_GET = do_PUT = _any

        self.status = status
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_http_post_json_with_slots(receiver):
    (s,) = one(templates=["{room} 불 {state:켜|꺼}줘"],
               http={"url": receiver.url + "/api/webhook/{room}", "method": "POST", "json": {"room": "{room}", "on": "{state}", "n": 1}})
    done = S.perform(S.match((s,), "거실 불 켜줘"))
    assert done.ok and done.status == 200 and done.kind == "http"
    method, path, body = receiver.requests[-1]
    assert method == "POST" and path == "/api/webhook/%EA%B1%B0%EC%8B%A4" and body == {"room": "거실", "on": "켜", "n": 1}
    receiver.status = 500
    done = S.perform(S.match((s,), "거실 불 꺼줘"))
    assert not done.ok and done.status == 500 and "HTTP 500" in done.error


def test_loop_runs_own_sentences_first_and_records_the_status(tmp_path, receiver):
    script = tmp_path / "lights.py"
    script.write_text("import sys\nsys.exit(0 if sys.argv[1] == 'kitchen' else 4)\n")
    cfg = build_config({"sentences": [
        {**LIGHTS, "run": [sys.executable, str(script), "{room}", "{state}"]},
        {"templates": ["goodnight", "good night", "잘 자"], "http": {"url": receiver.url + "/night", "method": "PUT"}},
        {"templates": ["what time is it"], "reply": "Time for tea."},
    ]})
    texts = [("Turn on the kitchen light", "en"), ("turn off the garage light", "en"), ("Good night!", "en"),
             ("잘 자", "ko"), ("what time is it?", "en"), ("what's the date", "en")]
    eng = engines(texts)
    hist = tmp_path / "h.jsonl"
    asyncio.run(Assistant(cfg, eng, history=HistoryWriter([hist]), turn_based=True).run(lambda: EventSource(len(texts))))
    rows = [json.loads(line) for line in hist.read_text().splitlines()]
    assert [r["intent"] for r in rows] == ["sentence"] * 5 + ["clock"]
    assert rows[0]["slots"] == {"sentence": 0, "state": "on", "room": "kitchen", "run": 0} and rows[0]["result"] == "done"
    assert rows[1]["slots"]["run"] == 4 and rows[1]["result"] == "failed" and "status 4" in rows[1]["reason"]
    assert rows[2]["slots"] == {"sentence": 1, "http": 200} and rows[3]["slots"]["http"] == 200
    spoken = [s[0] for s in eng.synthesizer.spoken]
    assert spoken[0] == "Okay, the kitchen light is on." and spoken[2] == "Done." and spoken[3] == "했어요."
    assert spoken[4] == "Time for tea."  # before the built-in clock
    assert [r[0] for r in receiver.requests] == ["PUT", "PUT"]


def test_defaults_have_no_sentences():
    assert load_config().sentences == ()


def test_reload_brings_new_sentences_and_ask_uses_them():
    """SIGHUP -> Assistant.reload(new config): the next utterance matches the new sentences."""
    first = build_config({"sentences": [{"templates": ["cheese"], "reply": "Cheddar."}]})
    second = build_config({"sentences": [{"templates": ["cheese"], "reply": "Brie."}]})
    eng = engines([])

    async def main():
        a = Assistant(first, eng)
        serving = asyncio.create_task(a.serve())
        r1 = await (await a.handle_text("Cheese!")).finished()
        a.reload(second)
        r2 = await (await a.handle_text("cheese")).finished()
        a.stop()
        await serving
        return r1, r2

    r1, r2 = asyncio.run(main())
    assert (r1["intent"], r1["replies"]) == ("sentence", ["Cheddar."])
    assert (r2["intent"], r2["replies"]) == ("sentence", ["Brie."])


def test_many_free_slots_are_refused_and_long_utterances_never_hold_the_loop():
    """8 free slots over a 40-word utterance held the event loop 9 s (the regex backtracks
    polynomially); 4 over 400 words, 56 s. Now: at most 4 free slots, at most 40 words / 200
    characters tried, each template in milliseconds."""
    import time

    from assistant.errors import ConfigError
    from assistant.sentences import parse, match

    with pytest.raises((ConfigError, ValueError), match="more than 4 free slots"):
        parse([{"templates": ["{a} {b} {c} {d} {e} {f} {g} {h} end"], "reply": "x"}])
    sentences = parse([{"templates": ["{a} {b} {c} {d} end", "x {a} and {b} and {c} and {d} end"], "reply": "x"},
                       {"templates": ["{a}{b} 와 {c}{d} 켜줘"], "reply": "x"}])
    texts = [" ".join(["w"] * n) + " nope" for n in (39, 400)] + ["x " + " and w" * 19 + " nope",
                                                                   "x" + " and" * 200, "가그리고" * 50 + "끝"]
    start = time.process_time()
    for text in texts:
        assert match(sentences, text) is None
    assert time.process_time() - start < 2.0  # was minutes (CPU time, not wall-clock: a loaded machine waits, it does not count)
    assert match(sentences, "one two three four end").slots == {"a": "one", "b": "two", "c": "three", "d": "four"}
