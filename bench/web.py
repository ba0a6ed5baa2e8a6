"""The web page's live updates: turn event -> a page's EventSource, over real HTTP on 127.0.0.1.

A fake loop emits NOTICE events carrying their send time; 1, then 10 pages follow /api/events
(aiohttp clients in the same process); the delay from emission to each page reading the update is
reported as p50/p95, and the 10-page figure as a ratio of the 1-page one (what fan-out costs). Also
the gallery listing (/api/images) over an index of 1000 pictures against reading the same index
with json alone (the listing's overhead as a ratio).

Usage: python bench/web.py [--events N]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from _common import p50_p95, row  # noqa: F401  (sets sys.path)

import aiohttp

from assistant.config import load_config, with_overrides
from assistant.events import EventType
from assistant.faces.web import WebFace
from tests.faces.web_fake import FakeAssistant


async def fan_out(face: WebFace, assistant: FakeAssistant, pages: int, events: int) -> list[float]:
    delays: list[float] = []

    async def follow(http: aiohttp.ClientSession, ready: asyncio.Event) -> None:
        async with http.get(face.url + "api/events") as resp:
            ready.set()
            seen = 0
            async for raw in resp.content:
                line = raw.decode()
                if line.startswith("data: ") and '"bench ' in line:
                    delays.append(time.perf_counter() - float(json.loads(line[6:])["text"].split()[1]))
                    seen += 1
                    if seen == events:
                        return

    async with aiohttp.ClientSession() as http:
        readies = [asyncio.Event() for _ in range(pages)]
        tasks = [asyncio.create_task(follow(http, r)) for r in readies]
        for r in readies:
            await r.wait()
        await asyncio.sleep(0.2)
        for _ in range(events):
            assistant.emit(EventType.NOTICE, None, text=f"bench {time.perf_counter()!r}")
            await asyncio.sleep(0.005)
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
    return delays


async def listing(face: WebFace, store: Path, rounds: int) -> tuple[list[float], list[float]]:
    lines = [json.dumps({"file": f"20261130-2000{i:02d}-fox-{i}.png", "prompt": f"a fox {i}", "model": "gpt-image-2",
                         "size": "1024x1024", "kind": "draw", "time": "2026-11-30T20:00:00+0000"}) for i in range(1000)]
    store.mkdir(parents=True, exist_ok=True)
    (store / "index.jsonl").write_text("\n".join(lines) + "\n")
    api, plain = [], []
    async with aiohttp.ClientSession() as http:
        for _ in range(rounds):
            t = time.perf_counter()
            async with http.get(face.url + "api/images") as resp:
                assert len((await resp.json())["images"]) == 500
            api.append(time.perf_counter() - t)
            t = time.perf_counter()
            [json.loads(line) for line in (store / "index.jsonl").read_text().splitlines()]
            plain.append(time.perf_counter() - t)
    return api, plain


async def main(events: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-web-"))
    cfg = with_overrides(load_config(), images={"output_dir": str(tmp / "images")}, service={"history": str(tmp / "h.jsonl")})
    assistant = FakeAssistant(cfg)
    face = WebFace(cfg, "127.0.0.1:0", reply_dir=tmp / "replies")
    await face.start(assistant)
    try:
        print(row("measure", "n", "p50 ms", "p95 ms"))
        one = await fan_out(face, assistant, 1, events)
        ten = await fan_out(face, assistant, 10, events)
        for name, values in (("event -> 1 page", one), ("event -> each of 10 pages", ten)):
            p50, p95 = p50_p95(values)
            print(row(name, len(values), p50 * 1000, p95 * 1000))
        print(f"10 pages / 1 page (p50): {p50_p95(ten)[0] / p50_p95(one)[0]:.2f}x")
        api, plain = await listing(face, tmp / "images", 30)
        for name, values in (("GET /api/images (1000 in index)", api), ("json.loads of the index alone", plain)):
            p50, p95 = p50_p95(values)
            print(row(name, len(values), p50 * 1000, p95 * 1000))
        print(f"listing / plain parse (p50): {p50_p95(api)[0] / p50_p95(plain)[0]:.2f}x")
    finally:
        await face.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200)
    asyncio.run(main(parser.parse_args().events))
