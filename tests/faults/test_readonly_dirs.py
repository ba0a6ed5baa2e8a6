"""Read-only directories, tried as an unprivileged user (root writes anywhere, so the first
hostile run never saw these): the state dir, the cache dir (the joined Whisper base model lives
there: `run` could not start), `run --output-dir` (a warning for every reply), `say --out`,
`listen --save-dir`, `prepare --out-dir`. Skipped, with the reason, where no unprivileged user
can run this interpreter."""
from __future__ import annotations

import errno
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests import corpus

REPO = Path(__file__).resolve().parents[2]
NOBODY = 65534


def _as_nobody_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []  # already unprivileged
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and setpriv is missing: no way to try read-only directories")
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


@pytest.fixture
def unprivileged():
    """(run, home, ro, work): ``run(args, **env)`` runs the CLI as an unprivileged user; ``ro``
    is a directory that user cannot write. (pytest's own tmp dirs are 0700: a dir in $TMPDIR.)"""
    import tempfile

    prefix = _as_nobody_prefix()
    tmp_path = Path(tempfile.mkdtemp(prefix="assistant-readonly-"))
    try:
        yield _setup(prefix, tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def _setup(prefix: list[str], tmp_path: Path):
    home, ro, work = tmp_path / "home", tmp_path / "ro", tmp_path / "work"
    for d in (home, ro, work):
        d.mkdir()
    if prefix:
        os.chmod(tmp_path, 0o755)
        for d in (home, work):
            os.chown(d, NOBODY, NOBODY)
        parent = tmp_path
        while parent != parent.parent:  # the user must reach tmp_path
            if not os.access(parent, os.X_OK) or parent.stat().st_mode & 0o001 == 0:
                pytest.skip(f"{parent} is not searchable by an unprivileged user")
            parent = parent.parent
    os.chmod(ro, 0o555)
    probe = subprocess.run([*prefix, sys.executable, "-c", "import assistant, numpy, soundfile"], cwd=REPO,
                           capture_output=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                                     "PYTHONPATH": str(REPO), "HOME": str(home)}, timeout=120)
    if probe.returncode != 0:
        pytest.skip(f"an unprivileged user cannot run {sys.executable}: {probe.stderr.decode(errors='replace')[-200:]}")
    probe_write = subprocess.run([*prefix, sys.executable, "-c", f"open({str(ro / 'x')!r}, 'w')"], capture_output=True,
                                 timeout=60)
    if probe_write.returncode == 0:
        pytest.skip("this user can write a 0555 directory (capabilities?): nothing to try")

    def run(args, timeout=300, **env):
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO), "HOME": str(home),
                    "XDG_CACHE_HOME": str(home / ".cache"), "XDG_STATE_HOME": str(home / ".state"),
                    "XDG_DATA_HOME": str(home / ".data"), "XDG_CONFIG_HOME": str(home / ".config"), **env}
        done = subprocess.run([*prefix, sys.executable, "-m", "assistant", *map(str, args)], cwd=work,
                              capture_output=True, env=full_env, timeout=timeout)
        return done.returncode, done.stderr.decode("utf-8", "replace"), done.stdout.decode("utf-8", "replace")

    return run, home, ro, work


def _speech(work: Path) -> Path:
    corpus.need_corpus()
    clips = corpus.select(language="en", with_text=True)[:2]
    audio = np.concatenate([np.concatenate([c.pcm(), np.zeros(16000, np.int16)]) for c in clips])
    path = work / "speech.wav"
    sf.write(path, audio, 16000)
    os.chmod(path, 0o644)
    return path


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr


@pytest.mark.slow
def test_run_with_a_read_only_state_and_cache_dir_answers_and_says_it_once(unprivileged):
    run, home, ro, work = unprivileged
    speech = _speech(work)
    code, err, out = run(["run", "--input", speech], XDG_STATE_HOME=str(ro), XDG_CACHE_HOME=str(ro))
    _no_traceback(err)
    assert code == 0, err
    both = err + out
    assert both.count("cannot write to disk") == 1, both  # the verdict, once (console and log)
    assert both.count("I can't write to the disk") == 1, both  # and spoken once
    assert err.count("joined in") == 1, err  # the base model for this run, once
    answers = [line for line in err.splitlines() + out.splitlines() if line.startswith("assistant:")]
    assert len(answers) >= 2, err + out  # every utterance answered


@pytest.mark.slow
def test_commands_writing_into_a_read_only_dir_are_one_line(unprivileged):
    run, home, ro, work = unprivileged
    wav = work / "short.wav"
    sf.write(wav, (np.sin(np.arange(16000) / 5) * 3000).astype(np.int16), 16000)
    os.chmod(wav, 0o644)
    from PIL import Image

    png = work / "photo.png"
    Image.new("RGB", (64, 64), "red").save(png)
    os.chmod(png, 0o644)
    cases = [
        (["run", "--input", wav, "--quiet", "--output-dir", ro], 1, f"cannot write {ro}: permission denied"),
        (["run", "--input", wav, "--quiet", "--output-dir", ro / "sub"], 1, "permission denied"),
        (["say", "hello", "--no-play", "--out", ro / "x.wav", "--backend", "local"], 1, "permission denied"),
        (["listen", "--input", _speech(work), "--save-dir", ro], None, "permission denied"),
        (["prepare", png, "--region", "top left", "--out-dir", ro], 1, "permission denied"),
        (["run", "--input", wav, "--quiet", "--events", ro / "e.jsonl"], 2, "Permission denied"),
    ]
    for args, want, needle in cases:
        code, err, _ = run(args)
        _no_traceback(err)
        lines = [line for line in err.splitlines() if "cannot play audio" not in line]
        assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], (args, lines)
        assert code == (want if want is not None else code) and code in (1, 2), (args, code)
    assert not os.listdir(ro)


def test_a_failing_reply_copy_is_one_warning_per_episode(tmp_path, monkeypatch, caplog):
    """`run --output-dir` on a disk that fails: the copy warning was logged for every reply."""
    import asyncio

    from assistant import paths
    from assistant.config import load_config
    from assistant.loop import Assistant
    from tests.loop.fakes import EventSource, engines

    failing = {"on": True}
    real = paths.atomic_path

    def atomic_path(target, **kw):
        if failing["on"] and Path(target).name.startswith("reply-"):
            raise paths.WriteError(target, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
        return real(target, **kw)

    monkeypatch.setattr(paths, "atomic_path", atomic_path)
    eng = engines([("help", "en")] * 4)
    with caplog.at_level(logging.INFO):
        turns = asyncio.run(Assistant(load_config(), eng, output_dir=tmp_path, turn_based=True).run(lambda: EventSource(4)))
    assert len(turns) == 4 and all(t.result == "done" for t in turns)
    copy_warnings = [r for r in caplog.records if "reply copy" in r.getMessage() and r.levelno == logging.WARNING]
    assert len(copy_warnings) == 1, [r.getMessage() for r in copy_warnings]
