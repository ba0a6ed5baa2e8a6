"""The acceptance check's "others you have not seen" (issue 17): answers the fault kinds of the
stand-in do not make. Each case failed before its fix: an mp3 saved as `x.wav`, a TypeError for
`{"b64_json": 5}`, an image URL trickling a byte a second held `draw` for ever, a redirect to
ftp:// was followed."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.errors import ApiError
from assistant.images.service import download
from tests.standin import Reply, image_bytes, speech_bytes


pytestmark = pytest.mark.usefixtures("clean")


def _config(tmp_path, srv) -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'[tts]\nbase_url = "{srv.base_url}"\nmax_retries = 0\ntimeout = 5.0\nbackend = "openai"\n'
                    f'[images]\nbase_url = "{srv.base_url}"\nmax_retries = 0\ntimeout = 5.0\n'
                    f'output_dir = "{tmp_path / "images"}"\nmodel = "gpt-image-1"\n')
    return str(path)


def _one_line(r, code: int) -> str:
    assert r.exit_code == code, r.output
    err = r.stderr.strip()
    assert "\n" not in err and err.startswith("error: ") and "Traceback" not in r.output, r.output
    return err


@pytest.mark.parametrize("asked, sent", [("wav", "mp3"), ("wav", "flac"), ("flac", "wav")])
def test_say_out_refuses_audio_of_another_format_whatever_its_content_type(srv, tmp_path, asked, sent):
    """soundfile decodes any container, so an mp3 labelled audio/wav was saved as x.wav."""
    srv.script("/audio/speech", [Reply(body=speech_bytes(sent, 0.5), content_type=f"audio/{asked}")] * 2)
    out = tmp_path / f"x.{asked}"
    r = CliRunner().invoke(main, ["--config", _config(tmp_path, srv), "say", "Hello there.", "--out", str(out),
                                  "--no-play"])
    assert f"not valid {asked} audio" in _one_line(r, 1)
    assert not out.exists()


@pytest.mark.parametrize("data", [[{"b64_json": 5}], [{"b64_json": ["x"]}], [{"b64_json": {"a": 1}}]])
def test_draw_with_json_of_the_wrong_types_is_one_api_line(srv, tmp_path, data):
    srv.script("/images/generations", [Reply(json={"created": 1, "data": data})])
    r = CliRunner().invoke(main, ["--config", _config(tmp_path, srv), "draw", "a red fox"])
    assert "where base64 data belongs" in _one_line(r, 1)
    assert not (tmp_path / "images").exists() or not any((tmp_path / "images").glob("*.png"))


class _Evil(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/ftp":
            self.send_response(302)
            self.send_header("Location", "ftp://127.0.0.1:9/x.png")
            self.end_headers()
            return
        if self.path == "/png":
            body = image_bytes("64x64")
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)  # /trickle: a byte every 0.2 s, for ever (each read is "in time")
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        try:
            while not self.server.stopping.is_set():
                self.wfile.write(b"\x89")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass


@pytest.fixture
def evil():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Evil)
    server.daemon_threads = True
    server.stopping = threading.Event()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.stopping.set()
    server.shutdown()
    server.server_close()


def test_an_image_url_that_trickles_is_cut_off_by_the_timeout(evil):
    """urllib's timeout is per read: a byte every 0.2 s never tripped a 1 s timeout (50 MB would take
    months). The timeout now bounds the whole download."""
    box: dict = {}

    def fetch():
        try:
            download(evil + "/trickle", timeout=1.0, limit=50 * 2**20)
        except ApiError as exc:
            box["error"] = str(exc)

    thread = threading.Thread(target=fetch, daemon=True)
    thread.start()
    thread.join(30)  # not a speed check: before the fix this thread never ended
    assert not thread.is_alive(), "the download of a trickling URL never ended"
    assert "longer than 1 s" in box["error"]


def test_an_image_url_redirecting_off_http_is_refused(evil):
    with pytest.raises(ApiError, match="redirects to an unusable URL .ftp scheme"):
        download(evil + "/ftp", timeout=5.0, limit=2**20)
    assert download(evil + "/png", timeout=5.0, limit=2**20).startswith(b"\x89PNG")


def test_draw_answering_a_trickling_url_fails_in_time(srv, tmp_path, evil):
    srv.script("/images/generations", [Reply(json={"created": 1, "data": [{"url": evil + "/trickle"}]})])
    path = tmp_path / "c2.toml"  # the images timeout bounds the download too
    path.write_text(open(_config(tmp_path, srv)).read().replace("timeout = 5.0\noutput_dir", "timeout = 1.0\noutput_dir"))
    r = CliRunner().invoke(main, ["--config", str(path), "draw", "a red fox"])
    assert "longer than 1 s" in _one_line(r, 1)


def test_b64_that_is_not_base64_is_never_saved(srv, tmp_path):
    srv.script("/images/generations", [Reply(json={"created": 1, "data": [{"b64_json": "!!!% not base64 @@"}]})])
    r = CliRunner().invoke(main, ["--config", _config(tmp_path, srv), "draw", "a red fox"])
    _one_line(r, 1)
    assert not (tmp_path / "images").exists() or not any((tmp_path / "images").glob("*.png"))
