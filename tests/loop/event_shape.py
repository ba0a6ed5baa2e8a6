"""The shape of a turn-event stream, for fixtures: each turn's event types in order (repeated
``reply.audio`` chunks collapsed, ``level``/``state`` left out: they depend on timing), and the
rules every stream keeps whatever was said."""
from __future__ import annotations

import json
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "loop" / "demo-events.json"
STATES = {"listening", "hearing", "thinking", "speaking"}


def shape(events: list[dict]) -> list[list[str]]:
    turns: dict[int, list[str]] = {}
    for e in events:
        if e["type"] in ("level", "state", "notice") or e["turn"] is None:
            continue
        seq = turns.setdefault(e["turn"], [])
        if e["type"] == "reply.audio" and seq and seq[-1] == "reply.audio":
            continue
        seq.append(e["type"])
    return [turns[k] for k in sorted(turns)]


def check_rules(events: list[dict]) -> None:
    """What holds for any input: every turn starts with heard/transcribed and ends with one
    turn.finished; replies start before their audio and finish; states are known names."""
    for e in events:
        assert set(e) == {"type", "turn", "time", "session", "data"}, e
        if e["type"] == "state":
            assert e["data"]["state"] in STATES and e["turn"] is None
        if e["type"] == "level":
            assert isinstance(e["data"]["db"], float) and e["turn"] is None
    for seq in shape(events):
        assert seq[0] in ("heard", "transcribed"), seq
        assert seq[-1] == "turn.finished" and seq.count("turn.finished") == 1, seq
        assert seq.count("reply.started") == seq.count("reply.finished"), seq
        if "routed" in seq:
            assert "ignored" not in seq and seq.index("transcribed") < seq.index("routed"), seq
    first_seen = []
    for e in events:
        if e["turn"] is not None and e["turn"] not in first_seen:
            first_seen.append(e["turn"])
    assert first_seen == sorted(first_seen), "turns start in spoken order"


def load_fixture() -> list[list[str]]:
    return json.loads(FIXTURE.read_text())


def write_fixture(events: list[dict]) -> None:
    """Regenerate: ASSISTANT_UPDATE_FIXTURES=1 pytest -m slow tests/loop/test_loop_service.py"""
    FIXTURE.write_text(json.dumps(shape(events), indent=1) + "\n")
