"""Every spoken reply, in English and Korean, as data.

``message(key, language, **kwargs)`` picks the text for the language ("en" when the language is
neither "en" nor "ko") and fills its ``{placeholders}``; a missing value becomes "" rather than
an exception, so a reply is never lost. Both languages of a key use the same placeholders
(checked by the tests).
"""
from __future__ import annotations

import string

LANGUAGES = ("en", "ko")

MESSAGES: dict[str, dict[str, str]] = {
    "drawing_ack": {
        "en": "Drawing {subject}…",
        "ko": "{subject} 그리는 중이에요…",
    },
    "drawing_done": {
        "en": "Your picture is ready: {file}.",
        "ko": "그림을 다 그렸어요. {file} 파일로 저장했어요.",
    },
    "editing_ack": {
        "en": "Editing the picture: {subject}…",
        "ko": "그림을 고치는 중이에요: {subject}…",
    },
    "editing_done": {
        "en": "The edited picture is ready: {file}.",
        "ko": "그림을 고쳤어요. {file} 파일로 저장했어요.",
    },
    "variation_ack": {
        "en": "Drawing another version of {subject}…",
        "ko": "{subject}, 다른 버전으로 그리는 중이에요…",
    },
    "job_queued": {
        "en": "I'm still busy with another picture, so yours is in the queue at number {position}.",
        "ko": "다른 그림을 그리는 중이라 대기열 {position}번째에 넣었어요.",
    },
    "job_failed": {
        "en": "Sorry, I couldn't make the picture: {reason}",
        "ko": "죄송해요, 그림을 만들지 못했어요: {reason}",
    },
    "needs_key": {
        "en": "Drawing needs an OpenAI API key or an image server. Set OPENAI_API_KEY or images.base_url.",
        "ko": "그림을 그리려면 OpenAI API 키나 이미지 서버가 필요해요. OPENAI_API_KEY나 images.base_url을 설정해 주세요.",
    },
    "no_image_yet": {
        "en": "There's no picture yet. Ask me to draw something first.",
        "ko": "아직 그림이 없어요. 먼저 그림을 그려 달라고 해 주세요.",
    },
    "translate_on": {
        "en": "Translation mode is on. I'll say what you say in English.",
        "ko": "번역 모드를 켰어요. 말씀하시면 영어로 옮겨 드릴게요.",
    },
    "translate_off": {
        "en": "Translation mode is off.",
        "ko": "번역 모드를 껐어요.",
    },
    "speed_changed": {
        "en": "Okay, I'm speaking at {speed} times speed now.",
        "ko": "알겠어요, 이제 {speed}배 속도로 말할게요.",
    },
    "voice_changed": {
        "en": "Okay, this is the {voice} voice.",
        "ko": "알겠어요, 이제 {voice} 목소리로 말할게요.",
    },
    "language_changed": {
        "en": "Okay, I'll answer in English.",
        "ko": "알겠어요, 이제 한국어로 대답할게요.",
    },
    "unknown_voice": {
        "en": "I don't know the voice {voice}. Try one of: {voices}.",
        "ko": "{voice} 목소리는 없어요. 이 중에서 골라 주세요: {voices}.",
    },
    "voice_choices": {
        "en": "Which voice? You can pick {voices}.",
        "ko": "어떤 목소리로 할까요? {voices} 중에서 골라 주세요.",
    },
    "unknown_region": {
        "en": "I didn't catch where. Say a place like: {regions}.",
        "ko": "어디인지 잘 모르겠어요. 이렇게 말해 주세요: {regions}.",
    },
    "stopped": {
        "en": "Okay, stopped.",
        "ko": "네, 멈췄어요.",
    },
    "help": {
        "en": "Try things like: draw a fox in the snow; add a hat in the top left; another one like that; "
              "translation mode; speak slower; use the nova voice; answer in Korean.",
        "ko": "이렇게 말해 보세요: 빨간 여우를 그려줘, 왼쪽 위에 모자를 그려줘, 비슷한 거 하나 더, "
              "번역 모드, 천천히 말해줘, 목소리를 nova로 바꿔줘, 영어로 대답해줘.",
    },
    "unknown": {
        "en": "Sorry, I didn't get that. You can ask me to draw a picture, or ask what I can do.",
        "ko": "잘 못 알아들었어요. 그림을 그려 달라고 하거나, 제가 뭘 할 수 있는지 물어보세요.",
    },
    "api_key_rejected": {
        "en": "The OpenAI API key was rejected. Please check OPENAI_API_KEY.",
        "ko": "OpenAI API 키가 거부됐어요. OPENAI_API_KEY를 확인해 주세요.",
    },
    "policy_refused": {
        "en": "Sorry, that request was refused by the content policy. Try describing it differently.",
        "ko": "죄송해요, 콘텐츠 정책 때문에 거절됐어요. 다르게 설명해 주세요.",
    },
    "turn_failed": {
        "en": "Sorry, something went wrong, so I couldn't answer that. Please try again.",
        "ko": "죄송해요, 문제가 생겨서 대답하지 못했어요. 다시 말씀해 주세요.",
    },
    "api_unreachable_local_fallback": {
        "en": "I can't reach the server, so I'm using the local engine for now.",
        "ko": "서버에 연결할 수 없어서 지금은 내장 엔진을 쓸게요.",
    },
    # --- everyday skills (issue 16) ---
    "clock_time": {"en": "It's {time}.", "ko": "지금 시각은 {time}입니다."},
    "clock_date": {"en": "Today is {date}.", "ko": "오늘은 {date}입니다."},
    "timer_set": {"en": "Okay, {timer} is set for {length}.", "ko": "{timer} 맞췄어요: {length}."},
    "timer_how_long": {"en": "For how long? Say, for example, set a timer for five minutes.",
                       "ko": "얼마나 맞출까요? 예를 들어 5분 타이머 맞춰줘 라고 말해 주세요."},
    "alarm_set": {"en": "Okay, alarm set for {time}, in {left}.", "ko": "{time}에 알람을 맞췄어요. {left} 남았어요."},
    "alarm_when": {"en": "For what time? Say, for example, set an alarm for 7:30 AM.",
                   "ko": "몇 시로 맞출까요? 예를 들어 오전 7시 30분에 알람 맞춰줘 라고 말해 주세요."},
    "timers_full": {"en": "You already have {count} timers; cancel one first.",
                    "ko": "타이머가 이미 {count}개예요. 하나를 먼저 취소해 주세요."},
    "timers_none": {"en": "You have no timers or alarms.", "ko": "맞춰 둔 타이머나 알람이 없어요."},
    "timer_item": {"en": "{timer}, {left} left", "ko": "{timer} {left} 남음"},
    "timers_list": {"en": "You have {count}: {items}.", "ko": "{count}개 있어요: {items}."},
    "timer_not_found": {"en": "There's no {name} timer.", "ko": "{name} 타이머는 없어요."},
    "timer_which": {"en": "Which one? There's {names}.", "ko": "어떤 걸 취소할까요? {names} 중에서 말씀해 주세요."},
    "timer_cancelled": {"en": "Okay, I cancelled {timer}.", "ko": "{timer}, 취소했어요."},
    "timers_cancelled": {"en": "Okay, I cancelled all {count}.", "ko": "{count}개 모두 취소했어요."},
    "timer_done": {"en": "Time's up: {timer} is done!", "ko": "시간이 됐어요! {timer}, 다 됐어요."},
    "alarm_ringing": {"en": "It's {time}. This is your alarm.", "ko": "알람 시간이에요. 지금은 {time}입니다."},
    "volume_changed": {"en": "Okay, volume {percent} percent.", "ko": "음량을 {percent}퍼센트로 바꿨어요."},
    "image_undone": {"en": "Okay, back to the picture before: {subject}.", "ko": "이전 그림으로 돌아갔어요: {subject}."},
    "image_nothing_before": {"en": "There's no earlier picture to go back to.", "ko": "돌아갈 이전 그림이 없어요."},
    "image_last": {"en": "The last picture is {subject}, saved as {file}.", "ko": "마지막 그림은 {file} 파일이에요: {subject}."},
    "image_previous": {"en": "Okay, I'll use the one before: {subject}.", "ko": "그 전 그림을 쓸게요: {subject}."},
    "chat_failed": {"en": "Sorry, I can't answer that right now.", "ko": "죄송해요, 지금은 대답할 수 없어요."},
    "sentence_done": {"en": "Done.", "ko": "했어요."},
    "sentence_failed": {"en": "Sorry, that didn't work: {reason}", "ko": "죄송해요, 실행하지 못했어요: {reason}"},
    "abilities": {"en": "I can {items}.", "ko": "제가 할 수 있는 건: {items}."},
    "disk_full": {
        "en": "I can't write to the disk, so history is kept in memory for now. I'll keep answering.",
        "ko": "디스크에 쓸 수 없어서 기록은 당분간 메모리에 둘게요. 대답은 계속할게요.",
    },
    "backlog_overflow": {
        "en": "I couldn't keep up, so I missed some of what was said. Please say it again.",
        "ko": "처리가 밀려서 말씀하신 것 중 일부를 놓쳤어요. 다시 말씀해 주세요.",
    },
}

KEYS = tuple(MESSAGES)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a template uses."""
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(template) if name}


def message(key: str, language: str, **kwargs: object) -> str:
    """The reply ``key`` in ``language`` ("en" | "ko"; anything else -> "en"), filled in.

    Raises KeyError for an unknown key (a programming error)."""
    texts = MESSAGES[key]
    template = texts.get(language) or texts["en"]
    return template.format_map(_Blank({k: "" if v is None else v for k, v in kwargs.items()}))


def fixed_replies() -> list[tuple[str, str]]:
    """(language, text) of every reply whose first sentence has no placeholder: a local voice
    prepares those sentences after warm-up (``tts.cache_phrases``)."""
    import re

    first = re.compile(r"^[^.!?。]*")  # up to the first sentence end
    return [(language, text) for forms in MESSAGES.values() for language, text in forms.items()
            if "{" not in first.match(text).group(0)]
