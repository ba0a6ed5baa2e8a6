"""doctor: each check is a small function; fakes stand in for sounddevice, logind and the API."""
from __future__ import annotations

import hashlib
import http.server
import json
import os
import subprocess
import threading
import time
from base64 import urlsafe_b64encode
from collections import namedtuple
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.config import Config, ImagesConfig, SttConfig, TtsConfig
from assistant.service import doctor as d
from assistant.service.doctor import Check, ModelPackage


class FakeSd:
    """The parts of sounddevice doctor uses; rates it accepts are configurable."""

    def __init__(self, rates=(16000, 44100, 48000), inputs=1, outputs=2, missing=False):
        self.rates, self.inputs, self.outputs, self.missing = rates, inputs, outputs, missing
        self.checked = []

    def get_portaudio_version(self):
        return (1246720, "PortAudio V19.7.0-devel")

    def query_devices(self, device=None, kind=None):
        if self.missing:
            raise ValueError("No input device matching 'usb'" if device else "Error querying device -1")
        return {"name": "USB mic", "max_input_channels": self.inputs, "max_output_channels": self.outputs}

    def check_input_settings(self, device=None, samplerate=None, channels=None, dtype=None):
        self.checked.append((device, samplerate, channels, dtype))
        if samplerate not in self.rates:
            raise ValueError("Invalid sample rate")


def test_portaudio():
    assert d.check_portaudio(None, "PortAudio library not found").status == "fail"
    c = d.check_portaudio(FakeSd())
    assert c.status == "ok" and "PortAudio V19" in c.detail


def test_input_device_rates():
    sd = FakeSd()
    c = d.check_input_device(sd, "")
    assert c == Check("input device", "ok", "USB mic: 16000/44100/48000 Hz")
    assert sd.checked[0] == (None, 16000, 1, "int16")
    c = d.check_input_device(FakeSd(rates=(48000,)), "2")
    assert c.status == "warn" and "48000" in c.detail and "resampled" in c.detail
    assert d.check_input_device(FakeSd(rates=()), "").status == "fail"
    assert d.check_input_device(FakeSd(inputs=0), "").status == "fail"
    c = d.check_input_device(FakeSd(missing=True), "usb")
    assert c.status == "fail" and "'usb'" in c.detail and c.hint
    assert d.check_input_device(None).status == "fail"


def test_input_device_spec_parsing():
    sd = FakeSd()
    d.check_input_device(sd, "3")
    assert sd.checked[0][0] == 3
    sd = FakeSd()
    d.check_input_device(sd, "USB")
    assert sd.checked[0][0] == "USB"


def test_output_device():
    assert d.check_output_device(FakeSd()).status == "ok"
    assert d.check_output_device(FakeSd(outputs=0)).status == "warn"
    assert d.check_output_device(FakeSd(missing=True)).status == "warn"


def _fake_package(tmp_path, content=b"weights" * 100):
    base = tmp_path / "pkg"
    (base / "data").mkdir(parents=True)
    (base / "data" / "model.bin").write_bytes(content)
    digest = urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
    record = {"pkg/data/model.bin": (digest, len(content))}
    pkg = ModelPackage("test model", "pkg", "pkg-dist", ("data/model.bin",), "ctranslate2")
    return pkg, base, record


def test_model_complete_and_hashes(tmp_path):
    pkg, base, record = _fake_package(tmp_path)
    kw = dict(package_dir=lambda m: base, record=lambda dist: record)
    assert d.check_model(pkg, needed=True, **kw).status == "ok"
    assert "hashes verified" in d.check_model(pkg, needed=True, deep=True, **kw).detail
    # same size, different bytes: only the deep check notices
    (base / "data" / "model.bin").write_bytes(b"X" * len(b"weights" * 100))
    assert d.check_model(pkg, needed=True, **kw).status == "ok"
    assert d.check_model(pkg, needed=True, deep=True, **kw).status == "fail"


def test_model_truncated_or_missing(tmp_path):
    pkg, base, record = _fake_package(tmp_path)
    kw = dict(package_dir=lambda m: base, record=lambda dist: record)
    (base / "data" / "model.bin").write_bytes(b"short")
    c = d.check_model(pkg, needed=True, **kw)
    assert c.status == "fail" and "truncated" in c.detail
    (base / "data" / "model.bin").unlink()
    assert d.check_model(pkg, needed=False, **kw).status == "warn"
    c = d.check_model(pkg, needed=True, package_dir=lambda m: None, record=lambda dist: {})
    assert c.status == "fail" and "pip install" in c.hint


def test_installed_models_are_found_for_real():
    """The packages this project depends on are installed and complete here."""
    checks = d.model_checks(Config())
    assert [c.status for c in checks] == ["ok"] * len(d.MODELS), checks


def test_local_backend_without_models_fails(monkeypatch):
    monkeypatch.setattr(d, "_package_dir", lambda module: None)
    checks = d.model_checks(Config(stt=SttConfig(backend="local"), tts=TtsConfig(backend="local")),
                            package_dir=lambda m: None)
    names = {c.name: c.status for c in checks}
    assert names["local speech recognition"] == "fail" and names["local voice"] == "fail"


def test_engine_import():
    assert d.check_engine("json", needed=True).status == "ok"

    def boom(name):
        raise OSError("libctranslate2.so: cannot open shared object file")

    assert d.check_engine("ctranslate2", needed=True, importer=boom).status == "fail"
    assert d.check_engine("ctranslate2", needed=False, importer=boom).status == "warn"


def test_config_check(tmp_path):
    good, cfg = d.check_config(None)
    assert good.status == "ok" and cfg is not None
    bad = tmp_path / "c.toml"
    bad.write_text("[vad]\naggressiveness = 7\n")
    c, cfg = d.check_config(str(bad))
    assert c.status == "fail" and "vad.aggressiveness" in c.detail and cfg is None


def test_api_key(monkeypatch, tmp_path):
    c = d.check_api_key(Config())
    assert c.status == "warn" and "offline" in c.detail
    assert d.check_api_key(Config(images=ImagesConfig(backend="openai"))).status == "fail"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-abcdefghijklmnop")
    c = d.check_api_key(Config())
    assert c.status == "ok" and "sk-" not in c.detail + c.hint
    monkeypatch.delenv("OPENAI_API_KEY")
    (tmp_path / "openai_api_key").write_text("sk-cred-abcdefghijklmnop\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    c = d.check_api_key(Config())
    assert c.status == "ok" and "credential" in c.detail


class _Api(http.server.BaseHTTPRequestHandler):
    mode = "ok"
    seen: list = []

    def do_GET(self):  # noqa: N802
        _Api.seen.append((self.path, self.headers.get("Authorization")))
        if _Api.mode == "hang":
            time.sleep(2)
        status = {"ok": 200, "401": 401, "500": 500, "html": 200, "hang": 200}[_Api.mode]
        body = (b"<html></html>" if _Api.mode == "html" else
                json.dumps({"object": "list", "data": [{"id": "whisper-1", "object": "model", "created": 0, "owned_by": "x"}]}).encode()
                if status == 200 else json.dumps({"error": {"message": "bad", "type": "x", "param": None, "code": None}}).encode())
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def api():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()


@pytest.mark.parametrize("mode,status,text", [
    ("ok", "ok", "1 models"), ("401", "fail", "rejected"), ("500", "warn", "HTTP 500"), ("html", "warn", "JSON"),
])
def test_api_reachable(api, mode, status, text):
    _Api.mode, _Api.seen = mode, []
    c = d.check_api_reachable(api, "sk-test-key-123456789")
    assert c.status == status and text in c.detail
    assert _Api.seen == [("/v1/models", "Bearer sk-test-key-123456789")]


def test_api_timeout_is_short(api):
    _Api.mode = "hang"
    t0 = time.monotonic()
    c = d.check_api_reachable(api, None, timeout=0.3)
    assert c.status == "fail" and time.monotonic() - t0 < 1.5


def test_api_unreachable():
    c = d.check_api_reachable("http://127.0.0.1:9/v1", None, timeout=1)
    assert c.status == "fail" and "unreachable" in c.detail


def test_api_endpoints(monkeypatch):
    assert d.api_endpoints(Config()) == []  # no key, no base_url: offline
    cfg = Config(stt=SttConfig(base_url="http://127.0.0.1:8000/v1/"), tts=TtsConfig(backend="local"))
    assert d.api_endpoints(cfg) == ["http://127.0.0.1:8000/v1"]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    assert d.api_endpoints(cfg) == ["http://127.0.0.1:8000/v1", d.DEFAULT_BASE_URL]


def _runner(rc, out="", err=""):
    return lambda cmd: subprocess.CompletedProcess(cmd, rc, out, err)


def test_linger():
    assert d.check_linger("me", run=_runner(0, "Linger=yes\n")).status == "ok"
    c = d.check_linger("me", run=_runner(0, "Linger=no\n"))
    assert c.status == "warn" and c.hint == "loginctl enable-linger me"
    c = d.check_linger("me", run=_runner(1, "", "Failed to connect to bus: Host is down\n"))
    assert c.status == "warn" and "cannot tell" in c.detail
    assert d.check_linger("me", system_unit=True).status == "ok"


Usage = namedtuple("Usage", "total used free")


def test_disk(tmp_path):
    assert d.check_disk("data", tmp_path / "a" / "b", usage=lambda p: Usage(0, 0, 50 * 2**30)).status == "ok"
    assert d.check_disk("data", tmp_path, usage=lambda p: Usage(0, 0, 500 * 2**20)).status == "warn"
    assert d.check_disk("data", tmp_path, usage=lambda p: Usage(0, 0, 10 * 2**20)).status == "fail"


def test_private_dir(tmp_path):
    p = tmp_path / "data"
    assert d.check_private_dir("data", p).status == "ok"
    p.mkdir(mode=0o755)
    os.chmod(p, 0o755)
    c = d.check_private_dir("data", p)
    assert c.status == "warn" and c.hint == f"chmod 700 {p}"
    os.chmod(p, 0o700)
    assert d.check_private_dir("data", p).status == "ok"
    f = tmp_path / "file"
    f.write_text("")
    assert d.check_private_dir("data", f).status == "fail"


def test_format_and_exit_code():
    checks = [Check("a", "ok", "fine", "unused"), Check("b", "warn", "meh", "do x"), Check("c", "fail", "bad sk-abcdefghijklmnopqrstu", "do y")]
    text = d.format_checks(checks)
    assert text.splitlines() == ["ok   a: fine", "warn b: meh", "     fix: do x", "fail c: bad sk-abcd…redacted", "     fix: do y"]
    assert d.exit_code(checks) == 1 and d.exit_code(checks[:2]) == 0


def test_run_checks_all_good_exits_zero(monkeypatch, tmp_path):
    monkeypatch.setattr(d, "load_sounddevice", lambda: (FakeSd(), ""))
    monkeypatch.setattr(d, "check_linger", lambda user, **kw: Check("lingering", "ok", "yes"))
    r = CliRunner().invoke(main, ["doctor"])
    assert r.exit_code == 0, r.output
    assert "ok   input device: USB mic: 16000/44100/48000 Hz" in r.output
    assert "warn api key" in r.output  # offline mode is a warning, not a failure
    assert "0 failed" in r.output


def test_run_checks_fail_exits_nonzero(monkeypatch):
    monkeypatch.setattr(d, "load_sounddevice", lambda: (None, "PortAudio library not found"))
    r = CliRunner().invoke(main, ["doctor"])
    assert r.exit_code == 1
    assert "fail portaudio: PortAudio not usable" in r.output and "apt install libportaudio2" in r.output


def test_doctor_online(monkeypatch, api, tmp_path):
    _Api.mode = "401"
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[stt]\nbase_url = "{api}"\n')
    monkeypatch.setattr(d, "load_sounddevice", lambda: (FakeSd(), ""))
    r = CliRunner().invoke(main, ["--config", str(cfg), "doctor", "--online"])
    assert r.exit_code == 1 and f"fail api {api}: the API key was rejected (401)" in r.output
    r = CliRunner().invoke(main, ["--config", str(cfg), "doctor"])
    assert "api " + api not in r.output  # never contacted without --online


def test_broken_check_is_a_fail_line_not_a_traceback(monkeypatch):
    monkeypatch.setattr(d, "load_sounddevice", lambda: (FakeSd(), ""))

    def boom(*a, **k):
        raise RuntimeError("disk probe exploded")

    monkeypatch.setattr(d, "check_disk", boom)
    r = CliRunner().invoke(main, ["doctor"])
    assert r.exit_code == 1 and "RuntimeError: disk probe exploded" in r.output
