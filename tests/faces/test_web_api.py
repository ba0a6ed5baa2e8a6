"""The web page's JSON API without a browser: a real aiohttp server on 127.0.0.1 (port 0) in front
of a fake of the loop's turn-event contract."""
from __future__ import annotations

import asyncio
import contextlib
import json

import aiohttp
import pytest

from assistant.config import load_config, with_overrides
from assistant.errors import UserError
from assistant.faces.web import WebFace, parse_address
from assistant.faces.web.security import is_loopback
from tests.faces.web_fake import FakeAssistant


def make_cfg(tmp_path):
    return with_overrides(load_config(), images={"output_dir": str(tmp_path / "images")},
                          service={"history": str(tmp_path / "history.jsonl")})


@contextlib.asynccontextmanager
async def serving(tmp_path, address="127.0.0.1:0", **fake):
    cfg = make_cfg(tmp_path)
    assistant = FakeAssistant(cfg, draw_delay=0.05, **fake)
    face = WebFace(cfg, address, reply_dir=tmp_path / "replies")
    await face.start(assistant)
    try:
        async with aiohttp.ClientSession(base_url=face.url.rstrip("/"), cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            yield face, assistant, http
    finally:
        await face.stop()


def run(coro):
    return asyncio.run(coro)


async def sse(http, path, until, limit=200):
    """Read SSE updates from ``path`` until ``until(name, data)`` is true; returns them all."""
    got = []
    async with http.get(path) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
        name = data = None
        while len(got) < limit:
            line = (await asyncio.wait_for(resp.content.readline(), 10)).decode("utf-8").rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "" and name is not None:
                got.append((name, data))
                if until(name, data):
                    return got
                name = data = None
    raise AssertionError(f"stream ended early: {got}")


def test_empty_state_shapes(tmp_path):
    async def scenario():
        async with serving(tmp_path) as (face, _, http):
            turns = await (await http.get("/api/turns")).json()
            assert turns["turns"] == [] and isinstance(turns["seq"], int) and turns["now"]["state"] == "listening"
            images = await (await http.get("/api/images")).json()
            assert images["images"] == [] and images["pending"] == []
            settings = await (await http.get("/api/settings")).json()
            assert settings["voice"] == "alloy" and settings["reply_language"] == "auto" and settings["translate"] is False
            assert "alloy" in settings["choices"]["voice"]
            stats = await (await http.get("/api/stats")).json()
            assert stats == {"stages": [], "points": []}
            page = await http.get("/")
            text = await page.text()
            assert page.status == 200 and "<title>Assistant</title>" in text and 'src="/app.js"' in text
            assert "script-src 'self'" in page.headers["Content-Security-Policy"]
            for path, kind in (("/app.js", "text/javascript"), ("/style.css", "text/css")):
                r = await http.get(path)
                assert r.status == 200 and r.content_type == kind
    run(scenario())


def test_typed_draw_streams_placeholder_then_image_and_turn(tmp_path):
    async def scenario():
        async with serving(tmp_path) as (face, assistant, http):
            seq = (await (await http.get("/api/turns")).json())["seq"]

            async def ask():
                await asyncio.sleep(0.1)
                r = await http.post("/api/ask", json={"text": "draw a red fox"})
                assert r.status == 202, await r.text()
                return await r.json()

            asking = asyncio.create_task(ask())
            got = await sse(http, f"/api/events?after={seq}",
                            lambda n, d: n == "turn" and d["finished"] and d["intent"] == "draw")
            answer = await asking
            assert answer["turn"] == 1 and assistant.asked == [("draw a red fox", None, "local")]
            images = [d for n, d in got if n == "image"]
            assert images[0]["pending"] is True and images[0]["prompt"] == "a red fox"
            assert any(d.get("progress", {}) and d["progress"]["step"] == 2 for d in images if d.get("pending"))
            saved = images[-1]
            assert saved["replaces"] == images[0]["id"] and saved["url"].startswith("/api/images/")
            assert saved["prompt"] == "a red fox" and saved["model"] == "gpt-image-2" and saved["size"] == "256x256"
            turn = got[-1][1]
            assert turn["text"] == "draw a red fox" and turn["result"] == "done" and turn["typed"] is True
            assert turn["images"] == [saved["id"]] and turn["timings"]["eos_to_first_audio"] == 1.4
            # the gallery lists it, the PNG is served, the placeholder is gone
            listing = await (await http.get("/api/images")).json()
            assert [i["id"] for i in listing["images"]] == [saved["id"]] and listing["pending"] == []
            png = await http.get(saved["url"])
            body = await png.read()
            assert png.status == 200 and png.content_type == "image/png" and body.startswith(b"\x89PNG")
            # reply audio was kept and is served as WAV
            await asyncio.sleep(0.2)
            turns = (await (await http.get("/api/turns")).json())["turns"]
            audio = [r["audio"] for r in turns[0]["replies"] if r["audio"]]
            assert len(audio) == 2
            wav = await http.get(audio[0])
            assert wav.status == 200 and (await wav.read()).startswith(b"RIFF")
            stats = await (await http.get("/api/stats")).json()
            assert stats["points"][0]["seconds"] == 1.4 and stats["points"][0]["typed"] is False
            assert stats["stages"][0]["stage"] == "eos_to_first_audio"
    run(scenario())


def test_ask_wait_returns_the_replies_and_korean_round_trips(tmp_path):
    async def scenario():
        async with serving(tmp_path) as (face, assistant, http):
            r = await http.post("/api/ask", json={"text": "안녕하세요 <b>", "wait": True})
            answer = await r.json()
            assert r.status == 200 and answer["replies"][0]["text"] == "You said: 안녕하세요 <b>"
            assert answer["replies"][0]["language"] == "ko"
            turns = (await (await http.get("/api/turns")).json())["turns"]
            assert turns[0]["text"] == "안녕하세요 <b>" and turns[0]["language"] == "ko"
    run(scenario())


def test_settings_change_the_live_session_state(tmp_path):
    async def scenario():
        async with serving(tmp_path) as (face, assistant, http):
            r = await http.post("/api/settings", json={"voice": "nova", "speed": 1.5, "reply_language": "ko", "translate": True})
            assert r.status == 200, await r.text()
            state = assistant.session("local").state
            assert (state.voice, state.speed, state.reply_language, state.translate) == ("nova", 1.5, "ko", True)
            state.speed = 0.75  # a voice command changes it: the page reads the same state
            assert (await (await http.get("/api/settings")).json())["speed"] == 0.75
            for bad, word in (({"speed": 9}, "speed"), ({"speed": True}, "speed"), ({"voice": "<script>"}, "voice"),
                              ({"reply_language": "fr"}, "reply_language"), ({"translate": "yes"}, "translate"),
                              ({"volume": 3}, "unknown setting"), ({}, "nothing"), ([1], "JSON object")):
                r = await http.post("/api/settings", json=bad)
                body = await r.json()
                assert r.status == 400 and word in body["error"], (bad, body)
            assert state.voice == "nova"
    run(scenario())


def test_bad_requests_get_clear_json_errors(tmp_path):
    async def scenario():
        async with serving(tmp_path) as (face, _, http):
            cases = [
                (http.post("/api/ask", data="text=hi", headers={"Content-Type": "application/x-www-form-urlencoded"}), 415, "JSON"),
                (http.post("/api/ask", data="{nope", headers={"Content-Type": "application/json"}), 400, "not valid JSON"),
                (http.post("/api/ask", json={"text": ""}), 400, "empty"),
                (http.post("/api/ask", json={"text": 5}), 400, "text"),
                (http.post("/api/ask", json={"text": "x" * 2001}), 400, "too long"),
                (http.post("/api/ask", json={"text": "hi", "language": "fr"}), 400, "language"),
                (http.post("/api/ask", data=b"{" + b" " * 70000 + b"}", headers={"Content-Type": "application/json"}), 413, "too large"),
                (http.get("/api/ask"), 405, "not allowed"),
                (http.get("/api/nothing"), 404, "not found"),
                (http.get("/api/events?after=x"), 400, "after"),
                (http.post("/api/ask", json={"text": "hi"}, headers={"Origin": "http://evil.example"}), 403, "cross-origin"),
                (http.get("/api/turns", headers={"Host": "evil.example:8765"}), 421, "Host"),
            ]
            for request, status, word in cases:
                r = await request
                body = await r.json()
                assert r.status == status and word in body["error"], (status, body)
                assert "Traceback" not in json.dumps(body)
    run(scenario())


def test_files_only_from_the_store_and_traversal_is_404(tmp_path):
    async def scenario():
        async with serving(tmp_path) as (face, assistant, http):
            await http.post("/api/ask", json={"text": "draw a fox"})
            for _ in range(100):
                if (await (await http.get("/api/images")).json())["images"]:
                    break
                await asyncio.sleep(0.05)
            store = tmp_path / "images"
            (store / "stray.png").write_bytes(b"\x89PNG not in the index")
            (tmp_path / "secret.png").write_bytes(b"\x89PNG secret")
            (store / "link.png").symlink_to(tmp_path / "secret.png")
            with open(store / "index.jsonl", "a") as f:
                f.write(json.dumps({"file": "link.png", "prompt": "x"}) + "\n")
                f.write(json.dumps({"file": str(tmp_path / "secret.png"), "prompt": "elsewhere"}) + "\n")
            for path in ("/api/images/..%2Fsecret.png", "/api/images/%2E%2E%2Fsecret.png", "/api/images/../secret.png",
                         "/api/images/stray.png", "/api/images/link.png", "/api/images/index.jsonl",
                         "/api/images/last", "/api/images/.hidden.png", f"/api/images/{tmp_path}/secret.png",
                         "/api/replies/..%2F..%2Fhistory.jsonl", "/api/replies/x.wav", "/api/images/%00.png",
                         "/static/../../etc/passwd", "/index.html"):
                r = await http.get(path)
                assert r.status == 404, (path, r.status)
                assert b"secret" not in await r.read()
            listing = (await (await http.get("/api/images")).json())["images"]
            elsewhere = next(i for i in listing if i["prompt"] == "elsewhere")
            assert elsewhere["url"] is None  # listed, never served
    run(scenario())


def test_history_is_shown_on_start(tmp_path):
    cfg = make_cfg(tmp_path)
    record = {"time": 1764500000.0, "turn": 7, "text": "speak faster", "language": "en", "intent": "setting",
              "result": "done", "reason": "", "files": [], "replies": ["Okay, faster."],
              "timings": {"stt": 0.3, "eos_to_first_audio": 0.9}}
    ignored = {"time": 1764500001.0, "turn": 8, "text": "", "result": "ignored", "reason": "no speech", "timings": {}}
    (tmp_path / "history.jsonl").write_text(json.dumps(record) + "\n" + json.dumps(ignored) + "\n{torn")

    async def scenario():
        face = WebFace(cfg, "127.0.0.1:0", reply_dir=tmp_path / "replies")
        await face.start(FakeAssistant(cfg))
        try:
            async with aiohttp.ClientSession() as http:
                turns = (await (await http.get(face.url + "api/turns")).json())["turns"]
                stats = await (await http.get(face.url + "api/stats")).json()
        finally:
            await face.stop()
        assert [t["turn"] for t in turns] == [7, 8]
        assert turns[0]["replies"][0]["text"] == "Okay, faster." and turns[1]["reason"] == "no speech"
        assert stats["points"] == [{"time": 1764500000.0, "turn": 7, "seconds": 0.9, "typed": False}]
    run(scenario())


def test_token_rule(tmp_path, monkeypatch):
    cfg = make_cfg(tmp_path)
    monkeypatch.delenv("ASSISTANT_HTTP_TOKEN", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with pytest.raises(UserError, match="not a loopback address, without a token"):
        WebFace(cfg, "0.0.0.0:8765")
    with pytest.raises(UserError, match="without a token"):
        WebFace(cfg, "myhost.lan:8765")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "http_token").write_text("from-a-systemd-credential-0123\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert WebFace(cfg, "0.0.0.0:8765").token == "from-a-systemd-credential-0123"
    monkeypatch.setenv("ASSISTANT_HTTP_TOKEN", "short")
    with pytest.raises(UserError, match="too short"):
        WebFace(cfg, "0.0.0.0:8765")
    token = "t0ken-for-the-test-0123456789"
    monkeypatch.setenv("ASSISTANT_HTTP_TOKEN", token)

    async def scenario():
        async with serving(tmp_path) as (face, _, http):
            assert face.token == token
            for path in ("/", "/api/turns", "/api/images", "/api/events"):
                r = await http.get(path)
                assert r.status == 401 and "token" in (await r.json())["error"]
            r = await http.get("/api/turns", headers={"Authorization": "Bearer wrong-token-0123456789"})
            assert r.status == 401
            r = await http.get("/api/turns", headers={"Authorization": f"Bearer {token}"})
            assert r.status == 200
            r = await http.get(f"/?token={token}")  # the browser's way in: a cookie from then on
            assert r.status == 200 and "HttpOnly" in r.headers["Set-Cookie"] and "SameSite=Strict" in r.headers["Set-Cookie"]
            r = await http.get("/api/settings")
            assert r.status == 200
    run(scenario())


def test_config_file_token_is_never_read(tmp_path, monkeypatch):
    monkeypatch.delenv("ASSISTANT_HTTP_TOKEN", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    conf = tmp_path / "c.toml"
    conf.write_text('[service]\nhttp = "0.0.0.0:8765"\n')
    cfg = load_config(conf)
    assert cfg.service.http == "0.0.0.0:8765"
    with pytest.raises(UserError, match="token"):
        WebFace(cfg, cfg.service.http)


@pytest.mark.parametrize("text,expected", [
    ("127.0.0.1:8765", ("127.0.0.1", 8765)), ("[::1]:80", ("::1", 80)), ("localhost:0", ("localhost", 0)),
    ("0.0.0.0:8765", ("0.0.0.0", 8765))])
def test_parse_address(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["8765", ":8765", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:70000", "::1:80", "[::1:80", ""])
def test_parse_address_rejects(text):
    with pytest.raises(UserError, match="--http"):
        parse_address(text)


def test_loopback_names():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.3.4.5")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("example.com")


def test_port_in_use_is_one_clear_error(tmp_path):
    async def scenario():
        async with serving(tmp_path) as (face, _, http):
            cfg = make_cfg(tmp_path)
            other = WebFace(cfg, f"127.0.0.1:{face.port}")
            with pytest.raises(Exception, match="cannot serve the page on 127.0.0.1"):
                await other.start(FakeAssistant(cfg))
    run(scenario())


def test_cli_refuses_a_public_address_without_a_token(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from assistant.cli import main

    monkeypatch.delenv("ASSISTANT_HTTP_TOKEN", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    import numpy as np
    import soundfile as sf

    wav = tmp_path / "quiet.wav"
    sf.write(wav, np.zeros(1600, np.int16), 16000)
    for args, why in ((["serve", "--http", "0.0.0.0:8765"], "without a token"), (["serve", "--http", "8765"], "HOST:PORT"),
                      (["run", "--http", "192.168.1.5:8765", "--input", str(wav)], "without a token")):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.startswith("error: ") and why in result.output and "Traceback" not in result.output
