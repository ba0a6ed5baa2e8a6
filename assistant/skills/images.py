"""Image jobs: draw / edit / variation run in the background, at most ``max_jobs`` at once,
shared by every session.

A submission answers at once (an acknowledgement, a queue position, or why it cannot run) and
returns the job as an asyncio task; its ``JobResult`` carries the announcement to say when the
picture is ready. Progress is reported as image.* turn events through ``emit``.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any, Callable

from ..errors import ApiError, AssistantError, PolicyError, UserError
from ..events import EventType
from .base import JobResult, Outcome, Request, say
from .messages import message

if TYPE_CHECKING:
    from ..images.base import ImageService, Picture

log = logging.getLogger(__name__)

IMAGE_KINDS = ("draw", "edit", "variation")
Emit = Callable[[EventType, int, dict[str, Any]], None]


class ImageJobs:
    def __init__(self, service_factory: Callable[[], ImageService], *, max_jobs: int, emit: Emit = lambda *_a: None):
        self._factory = service_factory
        self._service: ImageService | None = None
        self._slots = asyncio.Semaphore(max_jobs)
        self._max_jobs = max_jobs
        self._emit = emit
        self._tasks: set[asyncio.Task] = set()
        self._latest: dict[int, asyncio.Task] = {}  # per session (state): its last job
        self._waiting = 0
        self._running = 0
        self.last_prompt = ""

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def service(self) -> ImageService:
        """The image service, created on first use (raises UserError when offline)."""
        if self._service is None:
            self._service = self._factory()
        return self._service

    def reset(self, service_factory: Callable[[], ImageService]) -> None:
        """A reloaded config: the next job uses a new service."""
        self._factory, self._service = service_factory, None

    def handle(self, request: Request) -> Outcome:
        """The image skill: draw, edit or variation."""
        kind, intent = str(request.intent.kind), request.intent
        try:
            service = self.service()
        except UserError:
            return say(request, "needs_key", failure="no image backend (needs OPENAI_API_KEY or images.base_url)")
        prompt = intent.prompt or (self.last_prompt if kind == "variation" else "")
        after = self._pending(request) if kind != "draw" else None
        if kind in ("edit", "variation") and after is None and not self._has_last_image(service, request):
            return say(request, "no_image_yet", failure="no image yet")
        if not prompt and kind != "variation":
            return say(request, "unknown", failure="empty prompt")
        if kind == "draw":
            self.last_prompt = prompt
        queued_behind = self._running + self._waiting >= self._max_jobs
        self._waiting += 1
        position = self._running + self._waiting - self._max_jobs
        self._emit(EventType.IMAGE_QUEUED, request.turn, {"kind": kind, "prompt": prompt, "position": max(position, 0)})
        task = asyncio.create_task(self._run(kind, service, prompt, request, after))
        self._latest[id(request.state)] = task  # "edit it" right after "draw …" waits for that picture
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        language = request.language
        if queued_behind:
            ack = request.reply(message("job_queued", language, position=position), kind="ack")
        else:
            key = {"draw": "drawing_ack", "edit": "editing_ack", "variation": "variation_ack"}[kind]
            ack = request.reply(message(key, language, subject=prompt or self.last_prompt), kind="ack")
        return Outcome((ack,), job=task)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def has_picture(self, request: Request) -> bool:
        """Is there a picture this session could edit: one made, or one being made? Creates no
        service to ask (offline there is none)."""
        if self._pending(request) is not None:
            return True
        if self._service is None:
            return bool(request.state.last_image)
        return self._has_last_image(self._service, request)

    def _pending(self, request: Request) -> asyncio.Task | None:
        """This session's last picture job while it is still running."""
        previous = self._latest.get(id(request.state))
        return previous if previous is not None and not previous.done() else None

    def _has_last_image(self, service: ImageService, request: Request) -> bool:
        return bool(request.state.last_image) or service.last_image() is not None

    async def _run(self, kind: str, service: ImageService, prompt: str, request: Request, after: asyncio.Task | None) -> JobResult:
        """Wait for the picture being edited (``after``) and a free slot, then make the picture."""
        try:
            if after is not None:  # "edit it" while that picture is still being drawn
                await asyncio.wait({after})
                if not self._has_last_image(service, request):
                    self._waiting -= 1
                    return self._failed(request, "no image yet", "no_image_yet")
            await self._slots.acquire()
        except BaseException:  # cancelled while waiting
            self._waiting -= 1
            self._emit(EventType.IMAGE_FAILED, request.turn, {"reason": "cancelled"})
            raise
        self._waiting -= 1
        self._running += 1
        try:
            return await self._make(kind, service, prompt, request)
        finally:
            self._running -= 1
            self._slots.release()

    async def _make(self, kind: str, service: ImageService, prompt: str, request: Request) -> JobResult:
        turn, language = request.turn, request.language
        self._emit(EventType.IMAGE_PROGRESS, turn, {"message": f"{kind}: {prompt[:60]}"})
        started = time.monotonic()
        try:
            result = await asyncio.to_thread(self._call, kind, service, prompt, request, asyncio.get_running_loop())
        except asyncio.CancelledError:
            self._emit(EventType.IMAGE_FAILED, turn, {"reason": "cancelled"})
            raise
        except PolicyError as exc:
            return self._failed(request, f"content policy: {exc}", "policy_refused")
        except ApiError as exc:
            if exc.status == 401:  # the loop says "key rejected" once per run
                return self._failed(request, str(exc), None, key_rejected=True)
            return self._failed(request, str(exc), "job_failed", reason=_short(exc))
        except AssistantError as exc:
            return self._failed(request, str(exc), "job_failed", reason=_short(exc))
        except Exception as exc:  # a bug in one job must not kill the loop
            log.exception("image job failed")
            return self._failed(request, f"{type(exc).__name__}: {exc}", "job_failed", reason=type(exc).__name__)
        paths = tuple(str(p) for p in result.paths)
        seconds = round(time.monotonic() - started, 2)
        for path in paths:
            self._emit(EventType.IMAGE_SAVED, turn, {
                "path": path, "id": path.rsplit("/", 1)[-1].rsplit(".", 1)[0], "prompt": prompt,
                "model": result.model, "size": result.size, "seconds": seconds})
        if paths:
            request.state.last_image = paths[-1]
        names = ", ".join(p.rsplit("/", 1)[-1] for p in paths)
        key = "editing_done" if kind == "edit" else "drawing_done"
        return JobResult(request.reply(message(key, language, file=names), kind="announce"), files=paths)

    def _failed(self, request: Request, why: str, key: str | None, *, key_rejected: bool = False, **kw: Any) -> JobResult:
        """``kw`` fills the message (it may hold ``reason``)."""
        self._emit(EventType.IMAGE_FAILED, request.turn, {"reason": why})
        reply = request.reply(message(key, request.language, **kw), kind="announce") if key else None
        return JobResult(reply, failure=why, key_rejected=key_rejected)

    def _call(self, kind: str, service: ImageService, prompt: str, request: Request,
              loop: asyncio.AbstractEventLoop) -> Picture:
        """Blocking (a worker thread): the request itself."""
        turn = request.turn

        def partial(path: str) -> None:
            loop.call_soon_threadsafe(self._emit, EventType.IMAGE_PROGRESS, turn, {"message": "partial image", "path": str(path)})

        intent = request.intent
        source = request.state.last_image or "last"
        if kind == "edit":
            return service.edit(source, prompt, region=intent.region, on_progress=partial)
        if kind == "variation" and not intent.prompt and service.variation_supported():
            return service.variation(source)
        return service.generate(prompt, on_progress=partial, **service.spoken_options(dict(intent.options)))


def _short(exc: Exception) -> str:
    text = str(exc).split("\n", 1)[0]
    return text[:120]
