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
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: predicate(d))
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
