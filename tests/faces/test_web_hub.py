"""The page's pure parts: gallery items from index records (edits, the region overlay, images kept
elsewhere) and the hub turning turn events into views and numbered updates."""
from __future__ import annotations

import json

import numpy as np

from assistant.events import EventType, TurnEvent
from assistant.faces.web import gallery
from assistant.faces.web.hub import Hub


def ev(etype, turn, **data):
    return TurnEvent(etype, turn, 0.0, data, "local")


def test_edit_item_names_its_original_and_region_box(tmp_path):
    record = {"file": "b.png", "prompt": "a hat", "kind": "edit", "source": str(tmp_path / "a.png"),
              "region": "top-left", "model": "gpt-image-2", "size": "1024x1024", "time": "2026-11-30T21:00:00+0000"}
    item = gallery.item(tmp_path, record)
    assert item["url"] == "/api/images/b.png" and item["source"] == "a.png" and item["source_url"] == "/api/images/a.png"
    assert item["mask"] == {"region": "top-left", "boxes": [[0.0, 0.0, 0.5, 0.5]]}
    assert gallery.region_overlay("all~top-left")["boxes"] == [[0.5, 0.0, 1.0, 0.5], [0.0, 0.5, 1.0, 1.0]]
    assert gallery.region_overlay("top-left+bottom-right")["boxes"] == [[0.0, 0.0, 0.5, 0.5], [0.5, 0.5, 1.0, 1.0]]
    ring = gallery.region_overlay("outside-center")["boxes"]  # everything but the centre: 4 boxes
    assert len(ring) == 4 and [0.0, 0.0, 1.0, 0.25] in ring and [0.25, 0.25, 0.75, 0.75] not in ring
    assert gallery.item(tmp_path, dict(record, region="nonsense"))["mask"] is None
    elsewhere = gallery.item(tmp_path, dict(record, file="/elsewhere/c.png", source="/elsewhere/a.png"))
    assert elsewhere["url"] is None and elsewhere["source_url"] is None


def test_index_is_read_newest_first_skipping_torn_lines(tmp_path):
    lines = [json.dumps({"file": f"{i}.png", "prompt": f"p{i}"}) for i in range(3)]
    (tmp_path / "index.jsonl").write_text("\n".join(lines[:2]) + "\n{torn\n[1]\n" + lines[2] + "\n")
    assert [i["id"] for i in gallery.read_index(tmp_path)] == ["2.png", "1.png", "0.png"]
    assert gallery.read_index(tmp_path / "missing") == []


def test_hub_builds_turn_views_and_keeps_levels_out_of_the_ring(tmp_path):
    hub = Hub(tmp_path, tmp_path / "replies")
    queue = hub.connect()
    hub.on_event(ev(EventType.LEVEL, None, db=-30.0))
    hub.on_event(ev(EventType.STATE, None, state="hearing"))
    hub.on_event(ev(EventType.HEARD, 1, start=1.0, end=2.0, duration=1.0))
    hub.on_event(ev(EventType.TRANSCRIBED, 1, text="음", language="ko"))
    hub.on_event(ev(EventType.IGNORED, 1, reason="only a hesitation"))
    hub.on_event(ev(EventType.TURN_FINISHED, 1, result="ignored", reason="only a hesitation",
                    record={"turn": 1, "text": "음", "result": "ignored", "reason": "only a hesitation", "timings": {}}))
    view = hub.turn_list()[0]
    assert (view["text"], view["language"], view["result"], view["reason"], view["finished"]) == (
        "음", "ko", "ignored", "only a hesitation", True)
    names = []
    while not queue.empty():
        names.append(queue.get_nowait()[1])
    assert names[:2] == ["level", "now"] and names.count("turn") == 4
    assert [u[1] for u in hub._ring].count("level") == 0
    late = hub.connect(after=2)  # a page reconnecting gets what it missed
    assert late.qsize() == len(hub._ring) - 2


def test_hub_survives_odd_events_and_keeps_reply_audio(tmp_path):
    hub = Hub(tmp_path, tmp_path / "replies")
    hub.on_event(ev(EventType.REPLY_STARTED, 3, text="Okay.", language="en", kind="reply"))
    hub.on_event(ev(EventType.REPLY_AUDIO, 3, sample_rate=16000, samples=160, audio=np.ones(160, np.int16)))
    hub.on_event(ev(EventType.REPLY_FINISHED, 3, text="Okay.", spoken=True))
    reply = hub.turn_list()[0]["replies"][0]
    assert reply["audio"].startswith("/api/replies/") and reply["spoken"] is True
    assert (tmp_path / "replies" / reply["audio"].rsplit("/", 1)[1]).read_bytes().startswith(b"RIFF")
    hub.on_event(ev(EventType.IMAGE_PROGRESS, 4, step="x"))  # no queued event first, odd values
    hub.on_event(ev(EventType.IMAGE_FAILED, 4, reason="content policy"))
    hub.on_event(object())  # never raises into the loop
    assert hub.placeholders() == []


def test_settings_changed_by_a_voice_command_reach_the_pages(tmp_path):
    current = {"voice": "alloy", "speed": 1.0}
    hub = Hub(tmp_path, None, settings=lambda: dict(current))
    queue = hub.connect()
    hub.settings_changed()
    hub.on_event(ev(EventType.TURN_FINISHED, 1, result="done", record={"turn": 1, "intent": "help"}))
    current["speed"] = 0.75  # "speak slower" changed the session state
    hub.on_event(ev(EventType.TURN_FINISHED, 2, result="done", record={"turn": 2, "intent": "setting"}))
    updates = [queue.get_nowait() for _ in range(queue.qsize())]
    assert [(n, d["speed"]) for _, n, d in updates if n == "settings"] == [("settings", 1.0), ("settings", 0.75)]
