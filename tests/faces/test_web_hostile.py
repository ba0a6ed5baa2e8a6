"""The web page's server against a client we do not trust (raw sockets on 127.0.0.1, a fake
of the loop): malformed HTTP, lying lengths, odd charsets, slow and idle clients, too many
connections. Each is a 4xx (or a closed connection) and at most one log line, never a
traceback, and the next request is answered."""
from __future__ import annotations

import asyncio
import logging

import pytest

from assistant.faces.web import server as web_server
from tests.faces.sockets import send_and_read
from tests.faces.test_web_api import serving

JSON = {"Content-Type": "application/json"}


def request(method: str, path: str, body: bytes = b"", headers: dict | None = None) -> bytes:
    h = {"Host": "127.0.0.1", "Connection": "close", **(headers or {})}
    if method == "POST":
        h.setdefault("Content-Length", str(len(body)))
    lines = "".join(f"{k}: {v}\r\n" for k, v in h.items() if v is not None)
    return f"{method} {path} HTTP/1.1\r\n{lines}\r\n".encode("latin-1") + body


async def raw(port: int, data: bytes, wait: float = 3.0) -> tuple[bytes, bool]:
    """(the answer, closed by the server)"""
    return await send_and_read(port, data, wait)


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0


async def answers(port: int) -> bool:
    answer, _ = await raw(port, request("GET", "/api/turns"))
    return status(answer) == 200


def no_traceback(caplog) -> list[str]:
    """The warning lines of this case; fails on an error or a traceback in the log."""
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


CASES = {
    "a charset nobody knows": (request("POST", "/api/ask", b'{"text": "hi"}',
                                       {"Content-Type": "application/json; charset=x-nonsense"}), 415, 0),
    "JSON nested 30000 deep (under the size limit)": (request("POST", "/api/ask", b"[" * 30000 + b"]" * 30000, JSON), 400, 0),
    "?after= a superscript digit": (request("GET", "/api/events?after=%C2%B2"), 400, 0),
    "?after= 5000 digits": (request("GET", "/api/events?after=" + "9" * 5000), 400, 0),
    "Content-Length: -1": (request("POST", "/api/ask", b"", {**JSON, "Content-Length": "-1"}), 400, 1),
    "two Host headers": (b"GET /api/turns HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n", 400, 1),
    "a 100 KB header": (request("GET", "/api/turns", headers={"X-A": "a" * 100_000}), 400, 1),
    "5000 headers": (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(b"X-%d: a\r\n" % i for i in range(5000)) + b"\r\n", 400, 1),
    "a 100 KB request line": (b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400, 1),
    "traversal, encoded": (request("GET", "/api/images/..%2F..%2Fetc%2Fpasswd"), 404, 0),
    "traversal in a reply name": (request("GET", "/api/replies/..%2F..%2Fx.wav"), 404, 0),
    "a rebinding Host": (request("GET", "/api/turns", headers={"Host": "attacker.127.0.0.1.nip.io:8765"}), 421, 0),
    "a POST from another origin": (request("POST", "/api/ask", b'{"text": "hi"}', {**JSON, "Origin": "http://evil.example"}), 403, 0),
    "form data": (request("POST", "/api/ask", b"text=hi", {"Content-Type": "application/x-www-form-urlencoded"}), 415, 0),
}


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_requests_are_a_4xx_and_at_most_one_line(name, tmp_path, caplog):
    data, expected, lines = CASES[name]

    async def scenario():
        async with serving(tmp_path) as (face, assistant, http):
            answer, _ = await raw(face.port, data)
            return answer, await answers(face.port), assistant.asked

    with caplog.at_level(logging.INFO):
        answer, alive, asked = asyncio.run(scenario())
    assert status(answer) == expected, answer[:300]
    assert len(no_traceback(caplog)) == lines
    assert alive and not asked


def test_a_client_gone_mid_body_is_no_fault(tmp_path, caplog):
    async def scenario():
        async with serving(tmp_path) as (face, assistant, http):
            reader, writer = await asyncio.open_connection("127.0.0.1", face.port)
            writer.write(request("POST", "/api/ask", b'{"te', {**JSON, "Content-Length": "1000"}))
            await writer.drain()
            await asyncio.sleep(0.2)
            writer.transport.abort()
            await asyncio.sleep(0.2)
            return await answers(face.port)

    with caplog.at_level(logging.INFO):
        assert asyncio.run(scenario())
    assert no_traceback(caplog) == []


def test_a_body_that_never_ends_is_408(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(web_server, "BODY_S", 0.3)

    async def scenario():
        async with serving(tmp_path) as (face, assistant, http):
            answer, _ = await raw(face.port, request("POST", "/api/ask", b'{"te', {**JSON, "Content-Length": "1000"}))
            return answer, await answers(face.port)

    with caplog.at_level(logging.INFO):
        answer, alive = asyncio.run(scenario())
    assert status(answer) == 408 and alive
    assert no_traceback(caplog) == []


def test_slowloris_headers_are_cut_off(tmp_path, monkeypatch):
    monkeypatch.setattr(web_server, "IDLE_S", 0.5)

    async def scenario():
        async with serving(tmp_path) as (face, assistant, http):
            return await raw(face.port, b"GET /api/turns HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: ", wait=5.0)

    answer, closed = asyncio.run(scenario())
    assert closed and answer == b""


def test_connections_over_the_limit_are_closed_in_one_line(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(web_server, "MAX_CONNECTIONS", 10)

    async def scenario():
        async with serving(tmp_path) as (face, assistant, http):
            idle = [await asyncio.open_connection("127.0.0.1", face.port) for _ in range(10)]
            await asyncio.sleep(0.2)
            refused = [await raw(face.port, request("GET", "/api/turns"), wait=2.0) for _ in range(5)]
            for _, writer in idle:
                writer.close()
            await asyncio.sleep(0.3)
            return refused, await answers(face.port)

    with caplog.at_level(logging.INFO):
        refused, alive = asyncio.run(scenario())
    assert all(answer == b"" and closed for answer, closed in refused)
    assert alive
    (line,) = no_traceback(caplog)
    assert "10 connections open" in line


def test_a_fifo_or_deep_lines_as_the_image_index_never_hold_a_worker(tmp_path):
    """A FIFO planted as index.jsonl blocked a worker thread per request for ever (a few
    requests and the default executor, which the engines share, was used up); a line nested
    100,000 deep was a RecursionError (500)."""
    import os
    import threading

    from assistant.faces.web import gallery

    store = tmp_path / "images"
    store.mkdir()
    os.mkfifo(store / "index.jsonl")
    done = []
    thread = threading.Thread(target=lambda: done.append(gallery.read_index(store)), daemon=True)
    thread.start()
    thread.join(10)
    assert done == [[]], "read_index blocks on a FIFO"
    (store / "index.jsonl").unlink()
    (store / "index.jsonl").write_bytes(b"[" * 100_000 + b"]" * 100_000 + b"\n" + b'{"file": "a.png", "prompt": "fox"}\n')
    (store / "a.png").write_bytes(b"x")
    assert [item["prompt"] for item in gallery.read_index(store)] == ["fox"]
