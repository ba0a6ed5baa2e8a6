"""Volume, abilities, the picture history by voice, earcons: small skills, each on its own."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from assistant.audio import earcons
from assistant.config import load_config, with_overrides
from assistant.images import lineage, store
from assistant.skills import abilities, volume

from .everyday_kit import Kit


def test_volume_steps_and_gain():
    v = volume.change(1.0, "louder")
    assert v == 1.25 and volume.change(2.0, "louder") == 2.0 and volume.change(0.25, "quieter") == 0.25
    assert volume.change(0.5, "normal") == 1.0
    loud = volume.apply(np.array([1000, -30000, 20000], np.int16), 2.0)
    assert loud.dtype == np.int16 and list(loud) == [2000, -32768, 32767]
    quiet = volume.apply(np.array([0.5], np.float32), 0.5)
    assert quiet.dtype == np.float32 and quiet[0] == 0.25


def test_louder_quieter_by_voice_change_the_session():
    kit = Kit()
    for text, want in (("louder", 1.25), ("speak a bit louder", 1.5), ("소리 좀 줄여줘", 1.25), ("normal volume", 1.0)):
        reply, _ = kit.ask(text)
        assert kit.state.volume == want and str(round(want * 100)) in reply


def test_abilities_list_only_what_this_configuration_can_do():
    offline = abilities.describe("en", images=False, chat=False)
    assert "timers" in offline and "time" in offline and "draw" not in offline and "questions" not in offline
    online = abilities.describe("en", images=True, chat=True, sentences=["turn on the kitchen light"])
    assert "draw pictures" in online and "answer questions" in online and "kitchen light" in online
    ko = abilities.describe("ko", images=False, chat=False)
    assert "타이머" in ko and "그림" not in ko


def test_what_can_you_do_by_voice():
    reply, _ = Kit(can=lambda w: w == "images").ask("what can you do?")
    assert reply.startswith("I can ") and "draw" in reply and "questions" not in reply


@pytest.mark.parametrize("name", earcons.NAMES)
def test_earcons_are_short_int16_tones(name):
    t = earcons.tone(name, 24000)
    assert t.dtype == np.int16 and 0.1 < len(t) / 24000 < 1.0
    assert 0 < np.abs(t).max() <= 0.3 * 32767 + 1 and abs(int(t[0])) < 200 and abs(int(t[-1])) < 200


def _picture(cfg, name, prompt, parent=None):
    path = store.output_dir(cfg) / name
    Image.new("RGB", (8, 8)).save(path)
    store.record(cfg, path, {"prompt": prompt, "kind": "edit" if parent else "draw",
                             "source": str(parent) if parent else None})
    return path


def test_undo_show_and_the_one_before():
    cfg = with_overrides(load_config(), images={})
    kit = Kit(cfg=cfg)

    def say(text):
        from types import SimpleNamespace

        reply, outcome = kit.ask(text)
        return reply, SimpleNamespace(result="failed" if outcome.failure else "done",
                                      files=[outcome.slots["image"]] if "image" in outcome.slots else [])

    assert say("undo")[0].startswith("There's no picture yet")
    fox = _picture(cfg, "a.png", "a fox")
    cat = _picture(cfg, "b.png", "a cat")
    hat = _picture(cfg, "c.png", "a cat with a hat", parent=cat)
    text, turn = say("show me the last picture")
    assert text == "The last picture is a cat with a hat, saved as c.png." and turn.files == [str(hat)]
    assert say("undo that")[0] == "Okay, back to the picture before: a cat."
    assert store.last_image(cfg) == cat
    assert say("use the one before")[0] == "Okay, I'll use the one before: a fox."
    assert store.last_image(cfg) == fox
    text, turn = say("되돌려줘")  # a fox has no parent and nothing before it
    assert text == "돌아갈 이전 그림이 없어요." and turn.result == "failed"
    rows = [json.loads(line) for line in (store.output_dir(cfg) / store.INDEX).read_text().splitlines()]
    assert rows[-1]["parent"] == "b.png"
    assert [e.path.name for e in lineage.entries(cfg)] == ["a.png", "b.png", "c.png"]
