"""History files that are not what they should be: `stats` and the web page's backfill read
what they can. A binary line made the whole file "not a history file"; a line nested 100,000
deep was a RecursionError (exit 1); a FIFO or /dev/zero as --history hung for ever; NaN,
negative and 1e308 timings gave "-5000ms" and an `Infinity` that is not JSON on /api/stats."""
from __future__ import annotations

import asyncio
import json
import os
import threading

import aiohttp
from click.testing import CliRunner

from assistant.cli import main
from assistant.errors import UserError
from assistant.history import latency_table, read_history

CORRUPT = [
    b'{"turn": 1, "result": "done", "timings": {"eos_to_first_audio": 0.5, "stt": 0.2}}',
    b'{"turn": "x", "result": [1], "timings": "nope", "session": {"a": 1}}',
    b'{"turn": 9, "timings": {"eos_to_first_audio": "fast", "stt": NaN, "route": Infinity}}',
    b'[1, 2, 3]', b'"text"', b'12', b'null', b'\x00\x00\x00\x00',
    b'\xff\xfe binary \x80',
    b'{"turn": 2, "result": "done", "timings": {"eos_to_first_audio": 1e308, "stt": -5}}',
    b'{"turn": 3, "replies": [{"text": 5, "spoken": "yes"}, 5, null], "intent": 5, "typed": "yes"}',
    b'{"a": ' + b'[' * 100_000 + b']' * 100_000 + b'}',
    b'{"turn": 4, "text": "' + b'a' * 1_000_000 + b'"}',
    b'{"turn": 5, "result": "do',
]


def test_stats_reads_what_it_can_of_a_corrupt_history(tmp_path):
    history = tmp_path / "history.jsonl"
    history.write_bytes(b"\n".join(CORRUPT))
    records = read_history(history)
    assert [r.get("turn") for r in records] == [1, "x", 9, 2, 3, 4]
    rows = {name: (n, p50, p95) for name, n, p50, p95 in latency_table(records)}
    assert rows["eos_to_first_audio"] == (1, 0.5, 0.5) and rows["stt"] == (1, 0.2, 0.2)
    result = CliRunner().invoke(main, ["stats", "--history", str(history)])
    assert result.exit_code == 0, result.output
    assert "500ms" in result.output and "-5000ms" not in result.output


def test_a_fifo_or_device_as_history_is_one_line_not_a_hang(tmp_path):
    fifo = tmp_path / "history.jsonl"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero"):
        outcome = {}

        def read():
            try:
                read_history(path if isinstance(path, os.PathLike) else __import__("pathlib").Path(path))
            except UserError as exc:
                outcome["error"] = str(exc)

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        thread.join(10)
        assert not thread.is_alive(), f"reading {path} hangs"
        assert "cannot read history" in outcome["error"] and "not a regular file" in outcome["error"]


def test_the_web_page_shows_a_corrupt_history_as_valid_json(tmp_path):
    from tests.faces.test_web_api import serving

    (tmp_path / "history.jsonl").write_bytes(b"\n".join(line for line in CORRUPT if b"\xff" not in line))

    async def scenario():
        async with serving(tmp_path) as (face, assistant, http):
            bodies = {}
            for path in ("/api/turns", "/api/stats"):
                async with http.get(path) as resp:
                    assert resp.status == 200
                    bodies[path] = await resp.text()
            return bodies

    for path, body in asyncio.run(scenario()).items():
        json.loads(body, parse_constant=lambda c: (_ for _ in ()).throw(AssertionError(f"{path}: {c}")))
