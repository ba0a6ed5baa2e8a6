"""SIGHUP (service.runner.reload) on a loop with real engine objects (nothing is loaded or
played): what changed is rebuilt, the rest and the fallback notice are kept, [audio] is applied
or named as needing a restart."""
from __future__ import annotations

import logging

from assistant.audio.playback import Speaker
from assistant.config import load_config
from assistant.engines import build_engines
from assistant.loop import Assistant
from assistant.service.runner import reload


def _assistant(notes: list[str]) -> Assistant:
    cfg = load_config()
    return Assistant(cfg, build_engines(cfg, speaker=Speaker("default"), on_fallback=notes.append))


def test_reload_applies_the_output_device_and_names_microphone_keys(tmp_path, caplog):
    notes: list[str] = []
    a = _assistant(notes)
    first = a.engines
    f = tmp_path / "c.toml"
    f.write_text('[audio]\noutput_device = "usb"\ninput_device = "mic 2"\necho_cancel = "on"\n'
                 '[tts]\nspeed = 1.25\n')
    with caplog.at_level(logging.INFO, logger="assistant.service.runner"):
        assert reload(a, str(f))
    assert a.cfg.audio.output_device == "usb" and a.engines is not first
    assert a.engines.speaker is first.speaker and first.speaker.device == "usb"  # its echo tap stays
    assert a.engines.transcriber is first.transcriber and a.engines.synthesizer is not first.synthesizer
    assert a.engines.on_fallback == notes.append  # "API unreachable, using local" still reaches the loop
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == ["audio.input_device, audio.echo_cancel: applied after a restart"]


def test_a_bad_reload_keeps_everything(tmp_path, caplog):
    a = _assistant([])
    cfg, engines = a.cfg, a.engines
    f = tmp_path / "c.toml"
    f.write_text('[tts]\nvoice = "bob"\n')
    assert not reload(a, str(f))
    assert a.cfg is cfg and a.engines is engines
    assert any("keeping the old one" in r.getMessage() and "tts.voice" in r.getMessage() for r in caplog.records)
