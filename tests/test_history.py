"""HistoryWriter never raises (issue 17 #1): disk full / read-only / a planted symlink keep the
records in memory, report once per episode, and flush when the disk has room again; lines stay
whole; size-based rotation; `stats` reads the rotated files and never prints infms/nanms."""
from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant import paths as h
from assistant.cli import main
from assistant.history import HistoryWriter, describe_write_error, history_files, read_history


class Disk:
    """Fault injection at the single write call: fail with ``errno`` while ``full``."""

    def __init__(self, monkeypatch, code=errno.ENOSPC, partial=0):
        self.full = False
        self.code = code
        self.partial = partial  # bytes that still land before the failure (a torn write)
        real = os.write

        def write(fd, data):
            if self.full:
                if self.partial:
                    real(fd, bytes(data[: self.partial]))
                raise OSError(self.code, os.strerror(self.code))
            return real(fd, data)

        monkeypatch.setattr(h, "_write", write)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]  # every line whole JSON


@pytest.mark.parametrize("code,said", [(errno.ENOSPC, "disk full"), (errno.EROFS, "read-only file system"),
                                       (errno.EACCES, "permission denied"), (errno.EDQUOT, "disk quota exceeded")])
def test_write_never_raises_buffers_reports_once_and_flushes(tmp_path, monkeypatch, code, said):
    disk = Disk(monkeypatch, code, partial=7)
    errors, recovered = [], []
    path = tmp_path / "state" / "history.jsonl"
    w = HistoryWriter([path], on_error=errors.append, on_recover=lambda: recovered.append(1))
    w.write({"turn": 1})
    disk.full = True
    for turn in (2, 3, 4):
        w.write({"turn": turn})  # never raises
    assert len(errors) == 1 and describe_write_error(errors[0]) == said
    assert w.failing is not None and w.buffered == 3
    assert [r["turn"] for r in lines(path)] == [1]  # the torn partial write was cut back
    disk.full = False
    w.write({"turn": 5})
    assert [r["turn"] for r in lines(path)] == [1, 2, 3, 4, 5] and recovered == [1] and w.failing is None
    disk.full = True
    w.write({"turn": 6})
    assert len(errors) == 2  # a new episode is reported again
    disk.full = False
    assert w.flush() and [r["turn"] for r in lines(path)][-1] == 6


def test_buffer_is_bounded(tmp_path, monkeypatch):
    disk = Disk(monkeypatch)
    disk.full = True
    w = HistoryWriter([tmp_path / "h.jsonl"], buffer_limit=10)
    for i in range(25):
        w.write({"turn": i})
    assert w.buffered == 10 and w.dropped == 15
    disk.full = False
    assert w.flush()
    assert [r["turn"] for r in lines(tmp_path / "h.jsonl")] == list(range(15, 25))


def test_one_failing_target_does_not_hold_back_the_other(tmp_path, monkeypatch):
    good, bad = tmp_path / "h.jsonl", tmp_path / "out" / "turns.jsonl"
    bad.parent.mkdir()
    bad.parent.joinpath("turns.jsonl").symlink_to(tmp_path / "elsewhere.txt")
    errors = []
    w = HistoryWriter([good, bad], on_error=errors.append)
    w.write({"turn": 1})
    assert [r["turn"] for r in lines(good)] == [1]
    assert not (tmp_path / "elsewhere.txt").exists()  # nothing written through the symlink
    assert len(errors) == 1 and "symbolic link" in describe_write_error(errors[0])


def test_unwritable_directory_at_construction_does_not_raise(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    errors = []
    w = HistoryWriter([blocker / "history.jsonl"], on_error=errors.append)
    w.write({"turn": 1})
    assert len(errors) == 1 and w.buffered == 1


def test_unserialisable_record_is_written_as_text(tmp_path):
    w = HistoryWriter([tmp_path / "h.jsonl"])
    w.write({"turn": 1, "path": Path("/x"), "odd": {1, 2}})
    assert lines(tmp_path / "h.jsonl")[0]["path"] == "/x"


def test_files_are_private_and_never_followed(tmp_path):
    path = tmp_path / "state" / "history.jsonl"
    HistoryWriter([path]).write({"turn": 1})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    errors = []
    HistoryWriter([fifo], on_error=errors.append).write({"turn": 1})
    assert errors and "not a regular file" in str(errors[0])


def test_rotation_keeps_generations_and_stats_reads_them(tmp_path):
    path = tmp_path / "h.jsonl"
    w = HistoryWriter([path], max_bytes=400, keep=2)
    for i in range(40):
        w.write({"turn": i, "timings": {"eos_to_first_audio": 0.5}, "result": "done"})
    files = history_files(path)
    assert [p.name for p in files] == ["h.jsonl.2", "h.jsonl.1", "h.jsonl"]
    assert all(p.stat().st_size <= 400 for p in files)
    turns = [r["turn"] for r in read_history(path, rotated=True)]
    assert turns == sorted(turns) and turns[-1] == 39 and len(turns) < 40  # the oldest generation dropped
    result = CliRunner().invoke(main, ["stats", "--history", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{len(turns)} turns" in result.output and "+2 rotated" in result.output


def test_rotation_is_configurable(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[service]\nhistory_max_mb = 0.5\nhistory_keep = 5\n")
    from assistant.config import load_config

    c = load_config(cfg)
    assert c.service.history_max_mb == 0.5 and c.service.history_keep == 5


@pytest.mark.parametrize("value", [1e308, float("inf"), float("nan"), -1e308, "fast", None, True])
def test_stats_never_prints_infms(tmp_path, value):
    path = tmp_path / "h.jsonl"
    records = [{"turn": i, "result": "done", "timings": {"eos_to_first_audio": value, "stt": 0.2}} for i in range(3)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))  # json.dumps writes Infinity/NaN
    result = CliRunner().invoke(main, ["stats", "--history", str(path)])
    assert result.exit_code == 0, result.output
    table = "\n".join(result.output.splitlines()[1:]).lower()  # (line 1 holds the path)
    assert "inf" not in table and "nan" not in table and "stt" in table


def test_real_full_disk_keeps_lines_whole(tmp_path):
    """A real full file system (a 64 KiB tmpfs; skipped where mounting is not allowed)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (not root / no CAP_SYS_ADMIN)")
    try:
        errors, path = [], mnt / "history.jsonl"
        w = HistoryWriter([path], max_bytes=0, on_error=errors.append)
        for i in range(400):
            w.write({"turn": i, "text": "x" * 300})
        assert len(errors) == 1 and describe_write_error(errors[0]) == "disk full"
        written = lines(path)  # whole lines only
        assert [r["turn"] for r in written] == list(range(len(written))) and w.buffered == 400 - len(written)
        os.truncate(path, 0)  # room again
        w.write({"turn": 400, "text": ""})
        assert w.failing is None and lines(path)[-1]["turn"] == 400
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_the_loop_keeps_answering_on_a_full_disk_and_says_so_once(tmp_path, monkeypatch):
    """Issue 17 #1: a failed history write used to kill the reply worker (3 of 10 answered)."""
    import asyncio

    from assistant.config import load_config
    from assistant.loop import Assistant
    from tests.loop.fakes import EventSource, engines

    disk = Disk(monkeypatch)
    disk.full = True
    texts = [("help", "en")] * 6
    eng = engines(texts)
    hist = tmp_path / "h.jsonl"
    writer = HistoryWriter([hist])
    turns = asyncio.run(Assistant(load_config(), eng, history=writer, turn_based=True).run(lambda: EventSource(6)))
    assert len(turns) == 6 and all(t.result == "done" for t in turns)
    said = [s[0] for s in eng.synthesizer.spoken]
    assert sum("disk" in s.lower() for s in said) == 1, said  # said once, not per turn
    assert writer.buffered == 6  # kept in memory
    disk.full = False
    assert writer.flush() and len(lines(hist)) == 6
