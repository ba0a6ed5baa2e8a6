"""`run --events FILE` where FILE is hostile: a FIFO nobody reads (the start hung for ever), a
reader that stops reading (a blocking write would freeze the event loop), a reader that goes
away, /dev/full (exit 1 at the end of an otherwise good run)."""
from __future__ import annotations

import logging
import os
import time

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from assistant.cli import main
from assistant.cli.run import _open_events
from assistant.errors import UserError
from assistant.events import EventType, TurnEvent
from assistant.listeners import JsonLinesListener, PipeLines


def event(n: int) -> TurnEvent:
    return TurnEvent(EventType.TRANSCRIBED, n, float(n), {"text": "x" * 500, "language": "en"}, "local")


def test_a_fifo_nobody_reads_is_one_line_not_a_hang(tmp_path):
    fifo = tmp_path / "events"
    os.mkfifo(fifo)
    with pytest.raises(UserError, match="named pipe nobody reads"):
        _open_events(str(fifo))


def test_a_reader_that_stops_reading_never_blocks_and_one_that_goes_is_said_once(tmp_path, caplog):
    fifo = tmp_path / "events"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    stream = _open_events(str(fifo))
    assert isinstance(stream, PipeLines)
    listener = JsonLinesListener(stream)
    with caplog.at_level(logging.INFO):
        start = time.monotonic()
        for n in range(5000):  # ~2.7 MB into a 64 KB pipe nobody empties
            listener(event(n))
        assert time.monotonic() - start < 30  # a blocking write would never return
        first = os.read(reader, 65536)
        assert first.startswith(b"{") and b"\n" in first
        os.close(reader)
        for n in range(3):
            listener(event(n))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len([w for w in warnings if "not keeping up" in w]) == 1, warnings
    assert len([w for w in warnings if "could not write events" in w]) == 1, warnings
    stream.close()


def test_events_on_dev_full_are_said_once_and_the_run_ends_well(tmp_path, monkeypatch):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    seen = {}

    def fake_run(cfg, **kw):
        listener = JsonLinesListener(kw["events"])
        for n in range(3):
            listener(event(n))
        seen["broken"] = listener._broken
        return []

    monkeypatch.setattr("assistant.service.runner.run_assistant", fake_run)
    wav = tmp_path / "in.wav"
    sf.write(wav, np.zeros(1600, np.int16), 16000)
    result = CliRunner().invoke(main, ["run", "--input", str(wav), "--quiet", "--events", "/dev/full"])
    assert result.exit_code == 0, result.output
    assert seen["broken"] and "Traceback" not in result.output


def test_events_to_a_stdout_pipe_whose_reader_stalls_never_block(caplog):
    """`run --events - | reader-that-stalls`: stdout was written blocking from the event loop,
    so a full pipe would freeze the loop (and its SIGTERM handler)."""
    read_end, write_end = os.pipe()
    saved = os.dup(1)
    os.dup2(write_end, 1)
    try:
        stream = _open_events("-")
        assert isinstance(stream, PipeLines)
        listener = JsonLinesListener(stream)
        with caplog.at_level(logging.INFO):
            start = time.monotonic()
            for n in range(3000):
                listener(event(n))
            assert time.monotonic() - start < 30
        assert os.read(read_end, 100).startswith(b'{"type": "transcribed"')
        stream.close(drain_s=0.1)
    finally:
        os.dup2(saved, 1)
        os.set_blocking(1, True)
        for fd in (saved, read_end, write_end):
            os.close(fd)
    assert sum("not keeping up" in r.getMessage() for r in caplog.records) == 1
