""""What can you do?": the abilities this assistant really has with this configuration (pure)."""
from __future__ import annotations

from typing import Sequence

from .messages import message

_ITEMS = {
    "images": ("draw pictures and edit them, for example add a hat in the top left",
               "그림 그리기와 고치기, 예를 들어 왼쪽 위에 모자를 그려줘"),
    "chat": ("answer questions", "질문에 대답하기"),
    "clock": ("tell the time and the date", "시간과 날짜 알려 주기"),
    "timers": ("keep timers and alarms, like a pasta timer for ten minutes", "파스타 타이머 10분 같은 타이머와 알람"),
    "voice": ("speak louder, quieter, slower or faster, and repeat what I said",
              "더 크게, 작게, 천천히, 빠르게 말하기와 방금 한 말 다시 하기"),
    "translate": ("translate what you say into English", "하시는 말을 영어로 번역하기"),
}


def describe(language: str, *, images: bool, chat: bool, sentences: Sequence[str] = ()) -> str:
    """One spoken sentence listing what works now: pictures only with an image backend, answers
    only with a chat backend, and the user's own sentences (a few examples) when configured."""
    ko = language == "ko"
    keys = [k for k in ("chat", "images", "clock", "timers", "voice", "translate")
            if (k != "images" or images) and (k != "chat" or chat)]
    items = [_ITEMS[k][1 if ko else 0] for k in keys]
    if sentences:
        examples = ", ".join(f"'{s}'" for s in sentences[:2])
        items.append(f"직접 정한 명령 {examples}" if ko else f"run your own commands such as {examples}")
    joined = ", ".join(items[:-1]) + (" 그리고 " if ko else ", and ") + items[-1] if len(items) > 1 else items[0]
    return message("abilities", language, items=joined)
