"""The chat skill: what is not a command goes to the chat model (assistant/chat/); the answer is
streamed and each sentence is said as soon as it is complete (``say`` puts it in the turn's
reply queue from the worker thread), while the job holds the turn open until the stream ends."""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Callable

from ..chat.conversation import Conversation
from ..chat.refer import refers_to_last_answer
from ..errors import ApiError, AssistantError
from ..events import Reply
from .base import JobResult, Outcome, Request
from .messages import message

log = logging.getLogger(__name__)


class ChatSkill:
    def __init__(self, conversation: Conversation, say: Callable[[Reply], None]):
        self.conversation = conversation
        self._say = say  # called on the event loop
        self._tasks: set[asyncio.Task] = set()

    def available(self) -> bool:
        return self.conversation.available()

    def handle(self, request: Request) -> Outcome:
        loop = asyncio.get_running_loop()

        def emit(sentence: str) -> None:  # worker thread -> the event loop
            language = "ko" if any("\uac00" <= ch <= "\ud7a3" for ch in sentence) else request.language
            loop.call_soon_threadsafe(self._say, request.reply(sentence, language))

        task = asyncio.create_task(self._run(request, emit), name=f"chat-{request.turn}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return Outcome(job=task)

    async def _run(self, request: Request, emit: Callable[[str], None]) -> JobResult:
        text, language = request.intent.text, request.language
        try:
            answer = await asyncio.to_thread(self.conversation.answer, text, language, emit)
        except ApiError as exc:
            if exc.status == 401:
                return JobResult(failure=str(exc), key_rejected=True)
            return JobResult(request.reply(message("chat_failed", language)), failure=str(exc))
        except AssistantError as exc:
            return JobResult(request.reply(message("chat_failed", language)), failure=str(exc))
        if not answer:
            return JobResult(request.reply(message("unknown", language)), failure="the chat model answered nothing")
        return JobResult()

    def resolve(self, request: Request) -> Request:
        """"Draw what you just described": the draw prompt becomes the previous answer."""
        last = self.conversation.memory.last_answer()
        if last and refers_to_last_answer(request.intent.prompt):
            return dataclasses.replace(request, intent=dataclasses.replace(request.intent, prompt=last))
        return request

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
