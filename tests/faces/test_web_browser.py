"""The web page in real headless Chromium (Debian's chromium + chromium-driver, selenium): type a
command, watch the placeholder become the picture and the turn appear; a screenshot that is not
blank. Set ASSISTANT_WEB_SCREENSHOT=docs/web-page.png to keep the screenshot for the README."""
from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
try:
    import selenium  # noqa: F401
    HAVE_SELENIUM = True
except ImportError:
    HAVE_SELENIUM = False

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="no browser: install Debian's chromium and chromium-driver"),
    pytest.mark.skipif(not HAVE_SELENIUM, reason="selenium is not installed (pip install selenium)"),
]


class ServerThread:
    """Runs ``make_assistant()`` and a WebFace on their own event loop in a thread."""

    def __init__(self, cfg: Any, make_assistant: Callable[[], Any], reply_dir: Path, run: Callable[[Any], Any] | None = None):
        self.cfg, self.make_assistant, self.reply_dir, self.run = cfg, make_assistant, reply_dir, run
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.url = ""
        self.assistant: Any = None

    def __enter__(self) -> "ServerThread":
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self.thread.start()
        assert self.ready.wait(30), "the web page did not start"
        if self.error:
            raise self.error
        return self

    def __exit__(self, *exc: Any) -> None:
        self.loop.call_soon_threadsafe(self.stopped.set)
        self.thread.join(10)

    async def _main(self) -> None:
        from assistant.faces.web import WebFace

        self.loop = asyncio.get_running_loop()
        self.stopped = asyncio.Event()
        try:
            self.assistant = self.make_assistant()
            face = WebFace(self.cfg, "127.0.0.1:0", reply_dir=self.reply_dir)
            await face.start(self.assistant)
            background = asyncio.create_task(self.run(self.assistant)) if self.run else None
            self.url = face.url
        except BaseException as exc:  # noqa: BLE001
            self.error = exc
            self.ready.set()
            return
        self.ready.set()
        await self.stopped.wait()
        if background is not None:
            stop = getattr(self.assistant, "stop", None)
            if callable(stop):
                stop()
            try:
                await asyncio.wait_for(background, 5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
        await face.stop()


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="assistant-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,1000",
                 "--lang=en-US", "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver, predicate, timeout=30.0, what="condition"):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    try:  # the page replaces elements as updates arrive: a stale one is simply looked up again
        return WebDriverWait(driver, timeout, poll_frequency=0.1,
                             ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)).until(predicate)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"timed out waiting for {what}; page text:\n{driver.find_element('tag name', 'body').text[:2000]}") from exc


def type_command(driver, text: str) -> None:
    box = driver.find_element("id", "ask-text")
    box.clear()
    box.send_keys(text)
    driver.find_element("css selector", "#ask button").click()


def not_blank(png: bytes) -> None:
    import io

    from PIL import Image, ImageStat

    with Image.open(io.BytesIO(png)) as img:
        rgb = img.convert("RGB")
        assert rgb.width >= 300 and rgb.height >= 300
        colors = rgb.resize((200, 200)).getcolors(200 * 200)
        assert colors is not None and len(colors) > 50, "the screenshot has almost no colours"
        assert max(ImageStat.Stat(rgb).stddev) > 10, "the screenshot is flat"


def keep_screenshot(driver, tmp_path: Path, name: str) -> bytes:
    png = driver.get_screenshot_as_png()
    (tmp_path / name).write_bytes(png)
    target = os.environ.get("ASSISTANT_WEB_SCREENSHOT")
    if target:
        Path(target).write_bytes(png)
    return png


def test_fake_loop_page(browser, tmp_path):
    from assistant.config import load_config, with_overrides
    from tests.faces.web_fake import FakeAssistant

    cfg = with_overrides(load_config(), images={"output_dir": str(tmp_path / "images")},
                         service={"history": str(tmp_path / "history.jsonl")})
    with ServerThread(cfg, lambda: FakeAssistant(cfg, draw_delay=0.4), tmp_path / "replies") as server:
        browser.get(server.url)
        wait_for(browser, lambda d: d.find_element("id", "link").text == "live", what="the live stream")
        type_command(browser, "draw a red fox <img src=x onerror=alert(1)>")
        wait_for(browser, lambda d: d.find_elements("css selector", ".tile.pending"), what="the placeholder")
        wait_for(browser, lambda d: d.execute_script(
            "const i = document.querySelector('.tile img'); return i && i.complete && i.naturalWidth > 0"), what="the picture")
        assert not browser.find_elements("css selector", ".tile.pending")
        wait_for(browser, lambda d: "done" in d.find_element("css selector", "#turns li").text, what="the finished turn")
        assert "<img src=x onerror=alert(1)>" in browser.find_element("css selector", ".tile .prompt").text
        type_command(browser, "안녕하세요")
        wait_for(browser, lambda d: "You said: 안녕하세요" in d.find_element("id", "turns").text, what="the Korean turn")
        wait_for(browser, lambda d: len(d.find_elements("css selector", "#plot circle")) == 2, what="the latency plot")
        not_blank(keep_screenshot(browser, tmp_path, "fake.png"))
        fits_a_phone(browser)


def fits_a_phone(driver) -> None:
    driver.set_window_size(390, 844)
    wait_for(driver, lambda d: d.execute_script("return window.innerWidth") <= 400, what="a phone-sized window")
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a phone screen"


def fox_png(size: int = 512, hat: bool = False) -> bytes:
    """A small picture of a red fox in the snow (drawn here, so the screenshot shows a picture)."""
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(img)
    for y in range(size):  # evening sky
        t = y / size
        draw.line([(0, y), (size, y)], fill=(int(40 + 120 * t), int(60 + 110 * t), int(120 + 100 * t)))
    s = size / 512
    draw.ellipse([-80 * s, 380 * s, 600 * s, 700 * s], fill=(236, 240, 246))  # snow
    draw.ellipse([150 * s, 300 * s, 370 * s, 420 * s], fill=(214, 84, 30))  # body
    draw.polygon([(330 * s, 350 * s), (470 * s, 300 * s), (440 * s, 380 * s)], fill=(224, 100, 40))  # tail
    draw.polygon([(455 * s, 305 * s), (470 * s, 300 * s), (462 * s, 330 * s)], fill=(250, 250, 250))
    draw.ellipse([110 * s, 230 * s, 230 * s, 330 * s], fill=(224, 96, 36))  # head
    draw.polygon([(118 * s, 250 * s), (130 * s, 180 * s), (165 * s, 238 * s)], fill=(200, 76, 26))  # ears
    draw.polygon([(175 * s, 236 * s), (205 * s, 180 * s), (222 * s, 252 * s)], fill=(200, 76, 26))
    draw.polygon([(110 * s, 290 * s), (60 * s, 305 * s), (120 * s, 318 * s)], fill=(240, 236, 230))  # muzzle
    draw.ellipse([56 * s, 299 * s, 68 * s, 311 * s], fill=(30, 30, 30))
    draw.ellipse([150 * s, 262 * s, 162 * s, 274 * s], fill=(30, 30, 30))  # eye
    for x in (175, 215, 300, 335):  # legs
        draw.rectangle([x * s, 400 * s, (x + 16) * s, 440 * s], fill=(60, 40, 30))
    if hat:  # a party hat, in the top left quarter
        draw.polygon([(120 * s, 200 * s), (215 * s, 200 * s), (160 * s, 70 * s)], fill=(60, 170, 90))
        draw.ellipse([150 * s, 58 * s, 172 * s, 80 * s], fill=(250, 220, 60))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_real_loop_draws_a_red_fox(browser, tmp_path, monkeypatch):
    """The acceptance path: the real Assistant (serve, no microphone) on the openai backends against
    the strict stand-in; typed commands through the page; the README's screenshot."""
    import base64
    import time

    from assistant.audio.playback import NullSpeaker
    from assistant.config import load_config, with_overrides
    from assistant.engines import build_engines
    from assistant.history import HistoryWriter
    from assistant.loop import Assistant
    from tests.standin import Reply, StandIn

    if not hasattr(Assistant, "handle_text"):
        pytest.skip("the loop has no turn events yet")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-web-0123456789")
    with StandIn() as srv:
        def picture(png: bytes) -> Reply:
            return Reply(json={"created": int(time.time()), "data": [{"b64_json": base64.b64encode(png).decode("ascii")}]},
                         delay=1.5)

        srv.script("/images/generations", [picture(fox_png())])
        srv.script("/images/edits", [picture(fox_png(1024, hat=True))])
        service = {"base_url": srv.base_url, "timeout": 10.0, "max_retries": 0}
        cfg = with_overrides(load_config(), stt={**service, "backend": "openai"}, tts={**service, "backend": "openai"},
                             images={**service, "backend": "openai", "output_dir": str(tmp_path / "images")},
                             service={"fallback_local": False, "history": str(tmp_path / "history.jsonl")})
        engines = build_engines(cfg, speaker=NullSpeaker())

        def make():
            return Assistant(cfg, engines, history=HistoryWriter([tmp_path / "history.jsonl"]))

        with ServerThread(cfg, make, tmp_path / "replies", run=lambda a: a.serve()) as server:
            browser.get(server.url)
            wait_for(browser, lambda d: d.find_element("id", "link").text == "live", what="the live stream")
            type_command(browser, "draw a red fox")
            wait_for(browser, lambda d: d.find_elements("css selector", ".tile.pending"), what="the placeholder")
            wait_for(browser, lambda d: d.execute_script(
                "const i = document.querySelector('.tile img'); return i && i.complete && i.naturalWidth > 0"),
                what="the picture")
            assert not browser.find_elements("css selector", ".tile.pending")
            wait_for(browser, lambda d: "done" in d.find_element("css selector", "#turns li").text, what="the finished turn")
            first = browser.find_element("css selector", "#turns li").text
            assert "draw a red fox" in first and "draw" in first
            wait_for(browser, lambda d: d.find_elements("css selector", "#turns li button.play"), what="the reply audio")
            # an edit shows its original with the region outlined, then the result
            type_command(browser, "add a hat in the top left")
            wait_for(browser, lambda d: d.find_elements("css selector", ".tile.edit .original .mask"), what="the edit with its mask")
            mask = browser.find_element("css selector", ".tile.edit .original .mask")
            assert mask.get_attribute("style").replace(" ", "").startswith("left:0%;top:0%;width:50%;height:50%")
            assert len(browser.find_elements("css selector", ".tile img")) == 3  # original + result, and the first drawing
            type_command(browser, "speak slower")
            wait_for(browser, lambda d: d.find_element("css selector", "#settings [name=speed]").get_attribute("value") == "0.75",
                     what="the settings to follow a command")
            assert server.assistant.session("local").state.speed == 0.75
            # a spoken command (an utterance already cut; the stand-in hears "help") shows up too
            import numpy as np

            srv.script("/audio/transcriptions", [Reply(json={"text": "Help."})])
            audio = (np.random.default_rng(0).standard_normal(16000) * 300).astype(np.int16)
            asyncio.run_coroutine_threadsafe(server.assistant.handle_utterance(audio), server.loop).result(10)
            wait_for(browser, lambda d: "Help." in d.find_element("css selector", "#turns li").text, what="the spoken turn")
            type_command(browser, "뭘 할 수 있어?")
            wait_for(browser, lambda d: "제가 할 수 있는 건" in d.find_element("css selector", "#turns li").text, what="the Korean reply")
            wait_for(browser, lambda d: len(d.find_elements("css selector", "#plot circle")) == 5, what="every turn on the plot")
            assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
            browser.set_window_size(1280, 1500)
            not_blank(keep_screenshot(browser, tmp_path, "real.png"))
            assert srv.violations == []
