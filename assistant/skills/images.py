"""Image jobs: draw / edit / variation run in the background, at most ``max_jobs`` at once.

Each submission answers at once (an acknowledgement, a queue position, or why it cannot run);
the finished image is announced later through ``announce``.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable

from ..errors import ApiError, AssistantError, PolicyError, UserError
from ..events import Reply
from ..history import Turn
from .messages import message

log = logging.getLogger(__name__)


class ImageJobs:
    def __init__(
        self,
        service_factory: Callable[[], Any],
        *,
        max_jobs: int,
        announce: Callable[[Reply], None],
        finished: Callable[[Turn], None],
        status: Callable[[str], None] = lambda _s: None,
        options_for: Callable[[Any, tuple[tuple[str, str], ...]], dict[str, Any]] | None = None,
        key_rejected: Callable[[str, int], None] | None = None,
        progress: Callable[[str], None] = lambda _line: None,
    ):
        self._factory = service_factory
        self._service: Any = None
        self._slots = asyncio.Semaphore(max_jobs)
        self._max_jobs = max_jobs
        self._announce = announce
        self._finished = finished
        self._status = status
        self._options_for = options_for or (lambda _service, _opts: {})
        self._tasks: set[asyncio.Task] = set()
        self._waiting = 0
        self._running = 0
        self.last_prompt = ""
        self._key_rejected = key_rejected
        self._progress = progress

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def service(self) -> Any:
        """The image service, created on first use (raises UserError when offline)."""
        if self._service is None:
            self._service = self._factory()
        return self._service

    def submit(self, kind: str, intent: Any, turn: Turn, language: str) -> Reply:
        try:
            service = self.service()
        except UserError:
            turn.result, turn.reason = "failed", "no image backend (needs OPENAI_API_KEY or images.base_url)"
            return Reply(message("needs_key", language), language, turn.id)
        prompt = intent.prompt or (self.last_prompt if kind == "variation" else "")
        if kind in ("edit", "variation") and not self._has_last_image(service):
            turn.result, turn.reason = "failed", "no image yet"
            return Reply(message("no_image_yet", language), language, turn.id)
        if not prompt and kind != "variation":
            turn.result, turn.reason = "failed", "empty prompt"
            return Reply(message("unknown", language), language, turn.id)
        if kind == "draw":
            self.last_prompt = prompt
        queued_behind = self._running + self._waiting >= self._max_jobs
        self._waiting += 1
        task = asyncio.create_task(self._run(kind, service, prompt, intent, turn, language))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if queued_behind:
            position = self._running + self._waiting - self._max_jobs
            return Reply(message("job_queued", language, position=position), language, turn.id, "ack")
        subject = prompt or self.last_prompt
        key = {"draw": "drawing_ack", "edit": "editing_ack", "variation": "variation_ack"}[kind]
        return Reply(message(key, language, subject=subject), language, turn.id, "ack")

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def _has_last_image(self, service: Any) -> bool:
        last = getattr(service, "last_image", None)
        return bool(last()) if callable(last) else True

    async def _run(self, kind: str, service: Any, prompt: str, intent: Any, turn: Turn, language: str) -> None:
        async with self._slots:
            self._waiting -= 1
            self._running += 1
            self._status(f"drawing: {prompt[:40]}")
            self._progress(f"[image] {kind}: {prompt[:60]}…")
            started = time.monotonic()
            try:
                result = await asyncio.to_thread(self._call, kind, service, prompt, intent)
            except asyncio.CancelledError:
                turn.result, turn.reason = "failed", "cancelled"
                self._finished(turn)
                raise
            except PolicyError as exc:
                turn.result, turn.reason = "failed", f"content policy: {exc}"
                self._announce(Reply(message("policy_refused", language), language, turn.id, "announce"))
            except ApiError as exc:
                turn.result, turn.reason = "failed", str(exc)
                if exc.status == 401 and self._key_rejected is not None:
                    self._key_rejected(language, turn.id)  # said once per run, whichever stage hit it
                else:
                    self._announce(Reply(message("job_failed", language, reason=_short(exc)), language, turn.id, "announce"))
            except AssistantError as exc:
                turn.result, turn.reason = "failed", str(exc)
                self._announce(Reply(message("job_failed", language, reason=_short(exc)), language, turn.id, "announce"))
            except Exception as exc:  # a bug in one job must not kill the loop
                log.exception("image job failed")
                turn.result, turn.reason = "failed", f"{type(exc).__name__}: {exc}"
                self._announce(Reply(message("job_failed", language, reason=type(exc).__name__), language, turn.id, "announce"))
            else:
                paths = [str(p) for p in result.paths]
                turn.files.extend(paths)
                self._progress(f"[image] saved {', '.join(paths)} ({time.monotonic() - started:.1f} s)")
                turn.result = "done"
                names = ", ".join(p.rsplit("/", 1)[-1] for p in paths)
                key = "editing_done" if kind == "edit" else "drawing_done"
                self._announce(Reply(message(key, language, file=names), language, turn.id, "announce"))
            finally:
                self._running -= 1
                self._status("listening")
        self._finished(turn)

    def _call(self, kind: str, service: Any, prompt: str, intent: Any) -> Any:
        def partial(path: str) -> None:
            self._progress(f"[image] partial image: {path}")

        if kind == "edit":
            return service.edit("last", prompt, region=intent.region, on_progress=partial)
        options = self._options_for(service, intent.options)
        if kind == "variation" and not intent.prompt and hasattr(service, "variation_supported") and service.variation_supported():
            return service.variation("last")
        return service.generate(prompt, on_progress=partial, **options)


def _short(exc: Exception) -> str:
    text = str(exc).split("\n", 1)[0]
    return text[:120]
