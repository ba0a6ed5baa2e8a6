"""User acceptance sweep of the CLI and the Python API: bad input is one line and the right exit
code, nothing is clobbered or left half-written, and file-based commands work without PortAudio."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from assistant.cli import main
from assistant.errors import UserError

REPO = Path(__file__).resolve().parents[1]


def cli(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def one_line_error(res, code: int, *needles: str) -> None:
    assert res.exit_code == code, res.output
    assert "Traceback" not in res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def wav(tmp_path) -> Path:
    p = tmp_path / "sp ace ü.wav"
    t = np.arange(16000) / 16000
    sf.write(p, (3000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16), 16000, subtype="PCM_16")
    return p


@pytest.fixture
def fake_transcribe(monkeypatch):
    """The local engine's transcribe, recording what it was given (no model load)."""
    from assistant.stt.base import Transcript

    seen = []

    def transcribe(self, audio, **kw):
        seen.append(audio)
        return Transcript("ok", "en")

    monkeypatch.setattr("assistant.stt.pieces.SpeechPieces.transcribe", transcribe)
    return seen


# ---------------------------------------------------------------------- help
@pytest.mark.parametrize("group", [[], ["config"], ["service"]])
def test_help_lists_every_command_untruncated(group):
    res = cli(*group, "--help")
    assert res.exit_code == 0
    commands = res.output.split("Commands:")[1]
    assert "..." not in commands, commands
    names = [line.split()[0] for line in commands.strip().splitlines()]
    for name in names:
        sub = cli(*group, name, "--help")
        assert sub.exit_code == 0 and "Usage: " in sub.output, name


# ---------------------------------------------------------------------- never clobber
def test_transcribe_refuses_to_overwrite_out_unless_forced(wav, tmp_path, fake_transcribe):
    out = tmp_path / "notes.txt"
    out.write_text("mine")
    one_line_error(cli("transcribe", wav, "--backend", "local", "--out", out), 2, "exists", "--force")
    assert out.read_text() == "mine" and fake_transcribe == []
    res = cli("transcribe", wav, "--backend", "local", "--out", out, "--force")
    assert res.exit_code == 0, res.output
    assert out.read_text() == "ok\n"


def test_say_refuses_to_overwrite_out_before_synthesizing(tmp_path, monkeypatch):
    out = tmp_path / "hello.wav"
    out.write_bytes(b"mine")
    monkeypatch.setattr("assistant.tts.speak.render", lambda *a, **k: pytest.fail("synthesized"))
    one_line_error(cli("say", "Hello.", "--backend", "local", "--no-play", "--out", out), 2, "exists", "--force")
    assert out.read_bytes() == b"mine"


# ---------------------------------------------------------------------- stdin and text
def test_transcribe_reads_audio_from_stdin(wav, fake_transcribe):
    res = cli("transcribe", "-", "--backend", "local", input=wav.read_bytes())
    assert res.exit_code == 0 and res.stdout == "ok\n", res.output
    (audio,) = fake_transcribe
    assert isinstance(audio, np.ndarray) and audio.dtype == np.int16 and len(audio) >= 16000


def test_transcribe_empty_stdin_is_one_line(fake_transcribe):
    one_line_error(cli("transcribe", "-", "--backend", "local", input=b""), 2, "stdin", "no audio")


def test_corrupt_stdin_error_shows_no_object_repr():
    res = cli("listen", "--input", "-", input=bytes(range(256)) * 8)
    one_line_error(res, 2, "stdin: cannot read audio")
    assert "object at 0x" not in res.stderr


def test_directory_as_input_says_so(tmp_path):
    one_line_error(cli("listen", "--input", tmp_path), 2, "is a directory")


@pytest.mark.parametrize("args", [
    ["say", "Hi \udcff\udcfe", "--no-play"],
    ["transcribe", "x.wav", "--prompt", "\udcff"],
    ["draw", "a \udcff fox"],
    ["edit", "x.png", "a \udcff hat"],
])
def test_undecodable_text_arguments_are_one_line(args):
    one_line_error(cli(*args), 2, "not valid UTF-8")


def test_say_stdin_not_utf8_is_one_line():
    one_line_error(cli("say", "-", "--no-play", input=b"Hi \xff\xfe there"), 2, "stdin is not valid UTF-8")


# ---------------------------------------------------------------------- stats
def test_stats_survives_odd_history_files(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\xc2\x00\xff" * 10)
    one_line_error(cli("stats", "--history", bad), 2, "not a history file")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    res = cli("stats", "--history", empty)
    assert res.exit_code == 0 and res.output.splitlines()[0] == f"0 turns in {empty}"
    odd = tmp_path / "odd.jsonl"
    odd.write_text("3\n" + "\n".join(json.dumps(r) for r in [
        {"result": "done", "timings": {"stt": "x", "route": None}},
        {"result": [], "timings": [1]},
        {"result": "done", "timings": {"eos_to_first_audio": 0.5, "stt": True}},
    ]) + "\n")
    res = cli("stats", "--history", odd)
    assert res.exit_code == 0 and "Traceback" not in res.output, res.output
    assert res.output.splitlines()[0].startswith("3 turns in ")
    assert "eos_to_first_audio" in res.output and "stt " not in res.output


# ---------------------------------------------------------------------- images
def test_prepare_rejects_a_size_the_model_does_not_take(tmp_path):
    from PIL import Image

    img = tmp_path / "photo.png"
    Image.new("RGB", (60, 40), "red").save(img)
    one_line_error(cli("prepare", img, "--size", "3x3", "--out-dir", tmp_path), 2, "--size 3x3")
    one_line_error(cli("prepare", img, "--model", "dall-e-2", "--size", "300x300", "--out-dir", tmp_path), 2, "dall-e-2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


# ---------------------------------------------------------------------- audio devices
def test_devices_lists_with_sounddevice_default_pair(monkeypatch):
    class Pair:  # like sounddevice._InputOutputPair: indexable, not sliceable
        def __getitem__(self, i):
            if not isinstance(i, int):
                raise TypeError("unhashable type: 'slice'")
            return (1, 0)[i]

    fake = types.SimpleNamespace(
        default=types.SimpleNamespace(device=Pair()),
        query_devices=lambda: [
            {"name": "Speakers", "max_input_channels": 0, "max_output_channels": 2, "default_samplerate": 48000.0},
            {"name": "USB Mic", "max_input_channels": 1, "max_output_channels": 0, "default_samplerate": 44100.0},
        ])
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    res = cli("devices")
    assert res.exit_code == 0, res.output
    assert " *  1  USB Mic  (1 ch, 44100 Hz)" in res.output
    assert " *  0  Speakers  (2 ch, 48000 Hz)" in res.output


def test_transcribe_record_without_portaudio_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    one_line_error(cli("transcribe", "--record", "1", "--backend", "local"), 1, "PortAudio is not available")


def test_recordings_dir_is_created_private(tmp_path, monkeypatch, fake_transcribe):
    fake = types.SimpleNamespace(
        check_input_settings=lambda **kw: None,
        rec=lambda n, samplerate, channels, dtype: np.zeros((n, channels), np.int16),
        wait=lambda: None)
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    res = cli("transcribe", "--record", "0.1", "--backend", "local")
    assert res.exit_code == 0, res.output
    data = tmp_path / "xdg" / "data" / "assistant"
    assert (data.stat().st_mode & 0o777) == 0o700
    assert ((data / "recordings").stat().st_mode & 0o777) == 0o700


# ---------------------------------------------------------------------- interruption
def test_ctrl_c_while_saving_is_one_line_and_leaves_no_part_file(wav, tmp_path, monkeypatch):
    real_write = sf.write

    def interrupted(path, *a, **k):
        real_write(path, *a, **k)  # the temp file exists, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(sf, "write", interrupted)
    monkeypatch.setattr("assistant.cli.listen.segment", lambda frames, cfg, **_kw: iter([_utterance()]))
    cuts = tmp_path / "cuts"
    res = cli("listen", "--input", wav, "--save-dir", cuts)
    assert res.exit_code == 130 and res.stderr.strip() == "interrupted", res.output
    assert list(cuts.iterdir()) == []


def _utterance():
    from assistant.events import Utterance

    return Utterance(0.0, 0.5, np.zeros(8000, np.int16), 16000)


# ---------------------------------------------------------------------- Python API
class _HtmlCheck(HTMLParser):
    VOID = {"img", "br", "hr", "meta", "source", "input", "link", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "img" and "alt" not in names:
            self.problems.append("img without alt")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")


def assert_valid_html(text: str) -> None:
    check = _HtmlCheck()
    check.feed(text)
    check.close()
    assert check.problems == [] and check.stack == [], (check.problems, check.stack)


def test_api_reprs_and_html(tmp_path):
    from PIL import Image

    from assistant import api
    from assistant.stt.base import Transcript
    from assistant.tts.base import Speech

    t = Transcript("hi", "en")
    assert "0 segments" in repr(t)
    s = Speech(np.zeros(1600, np.int16), 16000)
    assert repr(s) == "Speech(0.10s, 16000 Hz)"
    assert_valid_html(s._repr_html_())
    bundle = s._repr_mimebundle_()
    assert bundle["text/plain"] == repr(s) and bundle["text/html"].startswith("<audio")
    img = tmp_path / 'a "quoted" <b>&.png'
    Image.new("RGB", (64, 48), "blue").save(img, "PNG")
    out = tmp_path / 'out "dir" <x>'
    out.mkdir()
    p = api.prepare(img, region="top left", model="dall-e-2", out_dir=str(out))
    assert repr(p).startswith("Preparation(") and len(p.paths) == 2
    html = p._repr_html_()
    assert_valid_html(html)
    assert '"dir"' not in html and "&quot;dir&quot;" in html


def test_transcript_repr_says_one_segment():
    from assistant.stt.base import Segment, Transcript

    t = Transcript("hi", "en", segments=(Segment(0.0, 1.0, "hi"),))
    assert repr(t).endswith("1 segment)")


@pytest.mark.parametrize("call", [
    lambda api, d: api.transcribe(d / "missing.wav", backend="local"),
    lambda api, d: api.say("", backend="local"),
    lambda api, d: api.prepare(d / "missing.png"),
    lambda api, d: api.draw("a fox"),
    lambda api, d: api.edit(d / "missing.png", "a hat"),
])
def test_api_errors_are_exceptions_not_exits(call, tmp_path):
    from assistant import api

    with pytest.raises(UserError):
        call(api, tmp_path)


# ---------------------------------------------------------------------- without PortAudio
def test_file_commands_work_without_sounddevice(tmp_path, wav):
    """sounddevice unimportable: the package imports, file-based commands work, mic commands say so."""
    from PIL import Image

    Image.new("RGB", (60, 40), "red").save(tmp_path / "p.png")
    code = textwrap.dedent(f"""
        import sys
        sys.modules["sounddevice"] = None
        import assistant, assistant.cli, assistant.api
        from click.testing import CliRunner
        from assistant.cli import main
        def run(*a):
            r = CliRunner().invoke(main, list(a))
            print(r.exit_code, "|", r.stdout.strip().splitlines()[:1], "|", r.stderr.strip())
        run("config", "show", "--json")
        run("listen", "--input", {str(wav)!r})
        run("prepare", {str(tmp_path / "p.png")!r}, "--region", "top left", "--out-dir", {str(tmp_path)!r})
        run("say", "Hi.", "--backend", "local", "--out", {str(tmp_path / "hi.wav")!r})
        run("devices")
        run("record", "--seconds", "1", "--out", {str(tmp_path / "r.wav")!r})
        run("listen")
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert [line.split(" |")[0] for line in lines] == ["0", "0", "0", "0", "1", "1", "1"], res.stdout
    assert "PortAudio is not available" in lines[4] and "Traceback" not in res.stdout + res.stderr
    assert "cannot play audio" in lines[3] and (tmp_path / "hi.wav").exists()
    assert not (tmp_path / "r.wav").exists()


# ---------------------------------------------------------------------- more of the sweep
def test_config_show_redacts_passwords_in_urls(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[stt]\nbase_url = "https://bob:hunter2@example.com/v1"\n')
    for extra in ([], ["--json"]):
        res = cli("--config", cfg, "config", "show", *extra)
        assert res.exit_code == 0, res.output
        assert "hunter2" not in res.output and "https://bob:…redacted@example.com/v1" in res.output
    json.loads(cli("--config", cfg, "config", "show", "--json").stdout)


def test_say_format_must_match_the_out_suffix(tmp_path, monkeypatch):
    monkeypatch.setattr("assistant.tts.speak.render", lambda *a, **k: pytest.fail("synthesized"))
    out = tmp_path / "hello.wav"
    one_line_error(cli("say", "Hello.", "--backend", "local", "--no-play", "--out", out, "--format", "mp3"),
                   2, "--format mp3 does not match hello.wav")
    assert not out.exists()


def test_run_with_a_missing_input_creates_no_output_dir(tmp_path):
    out = tmp_path / "replies"
    one_line_error(cli("run", "--input", tmp_path / "missing.wav", "--output-dir", out), 2, "input file not found")
    assert not out.exists()


def test_service_install_refuses_a_missing_executable(tmp_path, monkeypatch):
    monkeypatch.delenv("ASSISTANT_UNIT_DIR", raising=False)
    monkeypatch.setattr("assistant.service.install.apply", lambda *a, **k: pytest.fail("installed"))
    one_line_error(cli("service", "install", "--yes", "--executable", tmp_path / "nope"), 2, "not an executable file")
    units = tmp_path / "units"  # staging a unit for another machine: only a note
    res = cli("service", "install", "--dry-run", "--unit-dir", units, "--executable", tmp_path / "nope")
    assert res.exit_code == 0 and "does not exist here" in res.stderr and "(dry run: nothing done)" in res.output


@pytest.mark.parametrize("content,reason", [(b"", "the file is empty"), (bytes(range(256)) * 4, "Format not recognised")])
def test_transcribe_bad_files_say_why_without_libsndfile_noise(tmp_path, content, reason):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    res = cli("transcribe", bad, "--backend", "local")
    one_line_error(res, 2, f"cannot read audio file {bad}: {reason}")
    assert "Error opening" not in res.stderr


def test_api_transcribe_directory_says_so(tmp_path):
    from assistant import api

    with pytest.raises(UserError, match="is a directory"):
        api.transcribe(tmp_path, backend="local")


def test_edit_last_when_the_last_image_was_deleted(tmp_path):
    from PIL import Image

    images = tmp_path / "xdg" / "data" / "assistant" / "images"
    images.mkdir(parents=True)
    one_line_error(cli("prepare", "last"), 2, "no last image yet")
    Image.new("RGB", (32, 32)).save(images / "fox.png")
    (images / "last").write_text("fox.png\n")
    assert cli("prepare", "last", "--out-dir", tmp_path).exit_code == 0
    (images / "fox.png").unlink()
    one_line_error(cli("prepare", "last"), 2, "no last image: fox.png is gone")


def test_non_utf8_file_names_are_read(wav, tmp_path, fake_transcribe):
    latin1 = tmp_path / os.fsdecode(b"caf\xe9.wav")  # a Latin-1 name: a lone surrogate in Python
    latin1.write_bytes(wav.read_bytes())
    res = cli("listen", "--input", latin1, "--json")
    assert res.exit_code == 0 and "cannot read" not in res.output, res.output
    res = cli("transcribe", latin1, "--backend", "local")
    assert res.exit_code == 0 and res.stdout == "ok\n", res.output
    from assistant.stt.audio import load_audio

    assert len(load_audio(latin1)) == 16000


def test_stats_history_setting_pointing_at_a_directory(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[service]\nhistory = "{tmp_path}"\n')
    one_line_error(cli("--config", cfg, "stats"), 2, "cannot read history", "Is a directory")


def test_transcribe_out_dash_is_stdout(wav, tmp_path, monkeypatch, fake_transcribe):
    monkeypatch.chdir(tmp_path)
    res = cli("transcribe", wav, "--backend", "local", "--out", "-")
    assert res.exit_code == 0 and res.stdout == "ok\n", res.output
    assert not (tmp_path / "-").exists()


def test_api_draw_background_and_edit_references_reach_the_api(tmp_path):
    from PIL import Image

    from assistant import api
    from assistant.config import load_config, with_overrides
    from tests.standin import StandIn

    photo, ref = tmp_path / "photo.png", tmp_path / "ref.png"
    Image.new("RGB", (96, 64), "red").save(photo)
    Image.new("RGB", (64, 64), "blue").save(ref)
    with StandIn() as srv:
        cfg = with_overrides(load_config(), images={"base_url": srv.base_url, "max_retries": 0, "timeout": 10,
                                                    "output_dir": str(tmp_path / "out")})
        drawn = api.draw("a logo", model="gpt-image-1", background="transparent", config=cfg)
        assert srv.requests[-1].params["background"] == "transparent" and drawn.paths[0].is_file()
        api.edit(photo, "add a hat", region="top", references=[ref], config=cfg)
        images = [f for f in srv.requests[-1].file_list if f[0] in ("image", "image[]")]
        assert len(images) == 2
        assert srv.violations == []


def test_config_with_a_utf8_bom_is_read(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_bytes(b'\xef\xbb\xbf[stt]\nlanguage = "ko"\n')
    res = cli("--config", cfg, "config", "show", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["stt"]["language"] == "ko"


def test_history_setting_expands_the_home_directory(tmp_path, monkeypatch):
    from assistant.history import default_history_path

    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_history_path("~/h.jsonl") == tmp_path / "h.jsonl"
    cfg = tmp_path / "c.toml"
    cfg.write_text('[service]\nhistory = "~/h.jsonl"\n')
    (tmp_path / "h.jsonl").write_text(json.dumps({"result": "done", "timings": {"eos_to_first_audio": 0.4}}) + "\n")
    res = cli("--config", cfg, "stats")
    assert res.exit_code == 0 and f"1 turns in {tmp_path / 'h.jsonl'}: 1 done" in res.output, res.output
