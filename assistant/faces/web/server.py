"""The web page face: an aiohttp server on the running asyncio loop.

aiohttp runs inside the loop the assistant already owns (``AppRunner`` + ``TCPSite``), needs no
second server process, and gives us routing, request parsing, JSON and streaming responses; we
write no HTTP by hand. The page (``static/``) uses only the JSON API below; live updates are
Server-Sent Events fed by the turn events (``Assistant.subscribe``).
"""
from __future__ import annotations

import asyncio
import json
import logging
import math
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any, Awaitable, Callable

from aiohttp import web

from ...config import Config
from ...errors import AssistantError
from ...history import default_history_path, latency_table, read_history
from ...paths import cache_dir
from . import gallery, security
from . import settings as live_settings
from .hub import Hub

log = logging.getLogger(__name__)

STATIC = {"/": ("index.html", "text/html"), "/app.js": ("app.js", "text/javascript"),
          "/style.css": ("style.css", "text/css")}
MAX_BODY = 64 * 1024
MAX_TEXT = 2000
ASK_WAIT_S = 30.0
KEEPALIVE_S = 15.0
IDLE_S = 15.0  # a connection that has not sent a whole request (or sits idle) this long is closed
BODY_S = 10.0  # a request body must arrive within this
MAX_CONNECTIONS = 256  # more at once are closed on arrival (each is a file descriptor)
MAX_AFTER_DIGITS = 18
HISTORY_BACKFILL = 200
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def default_reply_dir() -> Path:
    return cache_dir() / "replies"


def api_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message, "status": status}, status=status)


class WebFace:
    """``Face``: serve the page for a running ``Assistant`` until ``stop()``."""

    def __init__(self, cfg: Config, address: str = security.DEFAULT_ADDRESS, *, session: str = "local",
                 reply_dir: Path | None = None, history_path: Path | None = None,
                 announce: Callable[[str], None] | None = None):
        self.cfg = cfg
        self.host, self.port = security.parse_address(address)
        self.token = security.required_token(self.host)  # refuses before anything starts
        self.session_name = session
        self.reply_dir = reply_dir or default_reply_dir()
        self.history_path = history_path or default_history_path(cfg.service.history)
        self.image_dir = gallery.store_dir(cfg)
        self.announce = announce  # told the page's URL once it is served
        self.assistant: Any = None
        self.hub: Hub | None = None
        self._runner: web.AppRunner | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._streams: set[asyncio.Task] = set()

    # ------------------------------------------------------------------ Face
    async def start(self, assistant: Any) -> None:
        self.assistant = assistant
        history = await asyncio.to_thread(self._history)
        self.hub = Hub(self.image_dir, self.reply_dir, history=history[-HISTORY_BACKFILL:],
                       settings=lambda: live_settings.current(assistant, self.session_name))
        self.hub.settings_changed()
        self._unsubscribe = assistant.subscribe(self.hub.on_event)
        self._runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=0.5, handle_signals=False,
                                     keepalive_timeout=IDLE_S, logger=_OneLineLogger(log))
        await self._runner.setup()
        site = _LimitedSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._unsubscribe()
            raise AssistantError(f"cannot serve the page on {self.host}:{self.port}: {exc.strerror or exc}") from None
        sockets = [s for s in (self._runner.addresses or [])]
        if sockets and self.port == 0:
            self.port = sockets[0][1]
        log.info("web page on %s", self.url)
        if self.announce is not None:
            self.announce(self.url)

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.hub is not None:
            self.hub.close()
        for task in list(self._streams):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def _history(self) -> list[dict[str, Any]]:
        try:
            return read_history(self.history_path)
        except AssistantError as exc:
            log.warning("web page: %s", exc)
            return []

    # ------------------------------------------------------------------ app
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard], client_max_size=MAX_BODY)
        for path in STATIC:
            app.router.add_get(path, self.static)
        r = app.router
        r.add_get("/api/turns", self.turns)
        r.add_get("/api/images", self.images)
        r.add_get("/api/images/{id}", self.image)
        r.add_get("/api/replies/{name}", self.reply)
        r.add_post("/api/ask", self.ask)
        r.add_get("/api/settings", self.get_settings)
        r.add_post("/api/settings", self.post_settings)
        r.add_get("/api/stats", self.stats)
        r.add_get("/api/events", self.events)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        """Host and origin checks, the token, JSON errors (never a traceback) and safe headers."""
        set_cookie = False
        if not self._host_ok(request):
            response: web.StreamResponse = api_error(421, "unexpected Host header")
        elif request.method not in ("GET", "HEAD") and not self._origin_ok(request):
            response = api_error(403, "cross-origin request refused")
        elif self.token is not None and not self._authorized(request):
            if security.same_token(request.query.get("token"), self.token):
                set_cookie = True
                response = await self._call(request, handler)
            else:
                response = api_error(401, "a token is needed: open the page as /?token=… or send 'Authorization: Bearer …'")
        else:
            response = await self._call(request, handler)
        if set_cookie and not response.prepared:
            response.set_cookie(security.COOKIE, self.token, httponly=True, samesite="Strict", path="/")
        if not response.prepared:
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "no-referrer")
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    async def _call(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            message = {404: "not found", 405: f"method {request.method} not allowed here",
                       413: f"request body too large (at most {MAX_BODY} bytes)"}.get(exc.status, exc.reason)
            return api_error(exc.status, message)
        except _BadRequest as exc:
            return api_error(exc.status, str(exc))
        except asyncio.CancelledError:
            raise
        except ConnectionError:  # the client went away (mid-body too): nobody to answer
            log.info("web page: the client of %s %s went away", request.method, request.path)
            return api_error(400, "connection lost")
        except Exception as exc:  # noqa: BLE001 - one line here, never sent to the client
            log.warning("web page: %s %s failed: %s: %s", request.method, request.path, type(exc).__name__, exc)
            log.debug("web page failure", exc_info=True)
            return api_error(500, "internal error (see the assistant's log)")

    def _host_ok(self, request: web.Request) -> bool:
        """Loopback binds answer only to loopback names (a DNS-rebinding page cannot reach us)."""
        if not security.is_loopback(self.host):
            return True
        host = (request.host or "").lower()
        name = host[1:].split("]", 1)[0] if host.startswith("[") else host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return security.is_loopback(name)

    def _origin_ok(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:  # not a browser's cross-site request
            return True
        return origin.split("://", 1)[-1].lower() == (request.host or "").lower()

    def _authorized(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and security.same_token(auth[7:].strip(), self.token):
            return True
        return security.same_token(request.cookies.get(security.COOKIE), self.token)

    # ------------------------------------------------------------------ static
    async def static(self, request: web.Request) -> web.Response:
        name, content_type = STATIC[request.path]
        text = await asyncio.to_thread(resources.files(__package__).joinpath("static", name).read_text, "utf-8")
        return web.Response(text=text, content_type=content_type, charset="utf-8")

    # ------------------------------------------------------------------ API
    async def turns(self, request: web.Request) -> web.Response:
        return web.json_response({"seq": self.hub.last_seq, "now": self.hub.now, "turns": self.hub.turn_list()})

    async def images(self, request: web.Request) -> web.Response:
        seq = self.hub.last_seq
        items = await asyncio.to_thread(gallery.read_index, self.image_dir)
        return web.json_response({"seq": seq, "images": items, "pending": self.hub.placeholders()})

    async def image(self, request: web.Request) -> web.StreamResponse:
        path = await asyncio.to_thread(gallery.image_file, self.image_dir, request.match_info["id"])
        if path is None:
            return api_error(404, "no such image")
        return web.FileResponse(path, headers={"Content-Type": gallery.TYPES.get(path.suffix.lower(), "application/octet-stream"),
                                               "Cache-Control": "private, max-age=86400"})

    async def reply(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = gallery.regular_file(self.reply_dir, name) if name.endswith(".wav") else None
        if path is None:
            return api_error(404, "no such reply audio")
        return web.FileResponse(path, headers={"Content-Type": "audio/wav"})

    async def _json_body(self, request: web.Request) -> Any:
        if request.content_type != "application/json":
            raise _BadRequest(415, "send JSON (Content-Type: application/json)")
        try:
            async with asyncio.timeout(BODY_S):
                raw = await request.read()
        except asyncio.TimeoutError:
            raise _BadRequest(408, f"the body did not arrive within {BODY_S:g} s") from None
        try:
            return json.loads(raw.decode(request.charset or "utf-8"))
        except LookupError:
            raise _BadRequest(415, f"unknown charset {request.charset!r}: send UTF-8") from None
        except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError
            raise _BadRequest(400, "the body is not valid JSON") from None

    async def ask(self, request: web.Request) -> web.Response:
        try:
            body = await self._json_body(request)
        except _BadRequest as exc:
            return api_error(exc.status, str(exc))
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return api_error(400, "send {\"text\": \"…\"} (and optionally \"language\": \"en\" or \"ko\")")
        text = body["text"].strip()
        language = body.get("language")
        if not text:
            return api_error(400, "text is empty")
        if len(text) > MAX_TEXT:
            return api_error(400, f"text is too long (at most {MAX_TEXT} characters)")
        if language not in (None, "", "en", "ko"):
            return api_error(400, "language must be \"en\" or \"ko\" (or left out)")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return api_error(400, "text is not valid Unicode")
        try:
            ticket = await self.assistant.handle_text(text, language or None, session=self.session_name)
        except AssistantError as exc:
            return api_error(409, str(exc))
        self.hub.mark_typed(self.session_name, ticket.id)
        answer: dict[str, Any] = {"turn": ticket.id, "session": self.session_name}
        if body.get("wait"):
            try:
                replies = await asyncio.wait_for(ticket.replied(), ASK_WAIT_S)
                answer["replies"] = [{"text": r.text, "language": r.language, "kind": r.kind} for r in replies]
            except asyncio.TimeoutError:
                answer["replies"] = None
        return web.json_response(answer, status=200 if body.get("wait") else 202)

    async def get_settings(self, request: web.Request) -> web.Response:
        return web.json_response(live_settings.current(self.assistant, self.session_name))

    async def post_settings(self, request: web.Request) -> web.Response:
        try:
            body = await self._json_body(request)
            changes = live_settings.check(body, live_settings.voices(self.assistant))
            now = live_settings.apply(self.assistant, self.session_name, changes)
        except _BadRequest as exc:
            return api_error(exc.status, str(exc))
        except live_settings.SettingsError as exc:
            return api_error(400, str(exc))
        self.hub.settings_changed(now)
        return web.json_response(now)

    async def stats(self, request: web.Request) -> web.Response:
        turns = self.hub.turn_list()
        rows = [{"stage": name, "n": n, "p50": round(p50, 4), "p95": round(p95, 4)}
                for name, n, p50, p95 in latency_table(turns)]
        return web.json_response({"stages": rows, "points": [p for t in turns if (p := _point(t))]})

    async def events(self, request: web.Request) -> web.StreamResponse:
        after = request.headers.get("Last-Event-ID") or request.query.get("after")  # a reconnect resumes
        if after is not None and not (after.isascii() and after.isdigit() and len(after) <= MAX_AFTER_DIGITS):
            return api_error(400, "after must be an update number")
        queue = self.hub.connect(int(after) if after is not None else None)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8",
                                               "Cache-Control": "no-store", "X-Accel-Buffering": "no",
                                               "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"})
        task = asyncio.current_task()
        if task is not None:
            self._streams.add(task)
        try:
            await response.prepare(request)
            await response.write(b"retry: 2000\n\n")
            while True:
                try:
                    update = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except asyncio.TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if update is None:
                    break
                seq, name, data = update
                payload = json.dumps(data, ensure_ascii=False, default=str)
                await response.write(f"id: {seq}\nevent: {name}\ndata: {payload}\n\n".encode("utf-8"))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.hub.disconnect(queue)
            if task is not None:
                self._streams.discard(task)
        return response


def _point(turn: dict[str, Any]) -> dict[str, Any] | None:
    """A turn's place on the latency plot: end of speech -> first audio for a spoken turn; for a
    typed one (no speech) the text's arrival -> first audio, marked as typed."""
    timings = turn.get("timings") or {}
    spoken = timings.get("eos_to_first_audio")
    if _seconds(spoken):
        return {"time": turn["time"], "turn": turn["turn"], "seconds": spoken, "typed": False}
    if turn.get("typed") and _seconds(timings.get("reply_first_audio")):
        value = round(timings["reply_first_audio"] + (timings.get("route") if _seconds(timings.get("route")) else 0), 4)
        return {"time": turn["time"], "turn": turn["turn"], "seconds": value, "typed": True}
    return None


def _seconds(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class _LimitedSite(web.TCPSite):
    """A TCPSite that closes connections over MAX_CONNECTIONS as they arrive (one log line per
    episode): slow or idle clients cannot use up the process's file descriptors."""

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        said = [False]

        def protocol() -> asyncio.BaseProtocol:
            if len(server.connections) < MAX_CONNECTIONS:
                said[0] = False
                return server()
            if not said[0]:
                log.warning("web page: %d connections open; closing new ones until some end", MAX_CONNECTIONS)
                said[0] = True
            return _Closer()

        self._server = await asyncio.get_running_loop().create_server(protocol, self._host, self._port,
                                                                      backlog=self._backlog,
                                                                      reuse_address=self._reuse_address)
        self._bound_port = self._server.sockets[0].getsockname()[1] if self._server.sockets else self._port


class _Closer(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()


class _OneLineLogger(logging.LoggerAdapter):
    """aiohttp's server logger: a malformed request (bad header, line too long, a client gone)
    is one line, not a traceback."""

    def log(self, level: int, msg: Any, *args: Any, exc_info: Any = None, **kwargs: Any) -> None:
        if exc_info is True:
            exc_info = sys.exc_info()[1]
        if isinstance(exc_info, BaseException):
            detail = getattr(exc_info, "message", None) or str(exc_info)
            line = " ".join(str(detail).split())[:200]
            msg = f"web page: {msg % args if args else msg}: {type(exc_info).__name__}: {line}"
            self.logger.log(min(level, logging.WARNING), msg)
            return
        self.logger.log(level, msg, *args, **kwargs)

    def exception(self, msg: Any, *args: Any, exc_info: Any = True, **kwargs: Any) -> None:
        self.log(logging.ERROR, msg, *args, exc_info=exc_info, **kwargs)


class _BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
