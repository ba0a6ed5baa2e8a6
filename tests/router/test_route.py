"""The intent router: >= 60 phrasings in English and Korean, negatives, options, prompts, stop."""
from __future__ import annotations

import dataclasses
import re
from types import SimpleNamespace

import pytest

from assistant.router import route as route_mod
from assistant.router.intents import KINDS, VOICES, Intent
from assistant.router.route import is_stop, route

# (text, kind, expected slots: a subset of Intent.slots(); "language" checks Intent.language)
CASES = [
    # --- draw, English ---
    ("Draw a red fox.", "draw", {"prompt": "a red fox"}),
    ("draw a red fox", "draw", {"prompt": "a red fox"}),
    ("Could you please draw a red fox in the snow?", "draw", {"prompt": "a red fox in the snow"}),
    ("Can you make me a picture of a cat", "draw", {"prompt": "a cat"}),
    ("Generate an image of a castle, in high quality", "draw", {"prompt": "a castle", "options": {"quality": "high"}}),
    ("paint a sunset, natural style, wide", "draw", {"prompt": "a sunset", "options": {"style": "natural", "size": "wide"}}),
    ("Create a drawing of a dragon over a city.", "draw", {"prompt": "a dragon over a city"}),
    ("Show me a picture of the Eiffel Tower at night.", "draw", {"prompt": "the Eiffel Tower at night"}),
    ("draw a quick sketch of a cat", "draw", {"prompt": "a cat", "options": {"quality": "low"}}),
    ("Um, okay, draw me a cat for me, thanks.", "draw", {"prompt": "a cat"}),
    ("I'd like a picture of a lighthouse in portrait orientation", "draw", {"prompt": "a lighthouse", "options": {"size": "tall"}}),
    ("Sketch a robot reading a book, in a vivid style.", "draw", {"prompt": "a robot reading a book", "options": {"style": "vivid"}}),
    ("A picture of a mountain lake, please.", "draw", {"prompt": "a mountain lake"}),
    ("Would you draw a fox with a hat?", "draw", {"prompt": "a fox with a hat"}),
    ("DRAW A WIDE RIVER", "draw", {"prompt": "A WIDE RIVER"}),
    # --- draw, Korean ---
    ("빨간 여우를 그려줘", "draw", {"prompt": "빨간 여우", "language": "ko"}),
    ("고양이 그림 그려 줘", "draw", {"prompt": "고양이"}),
    ("바다 위의 성을 그려주세요.", "draw", {"prompt": "바다 위의 성"}),
    ("고양이 사진 만들어줘", "draw", {"prompt": "고양이"}),
    ("고화질로 고양이 그려줘", "draw", {"prompt": "고양이", "options": {"quality": "high"}}),
    ("가로로 넓게 바다 그려줘", "draw", {"prompt": "바다", "options": {"size": "wide"}}),
    ("세로로 등대 그려 줄래?", "draw", {"prompt": "등대", "options": {"size": "tall"}}),
    ("마을 그려줘", "draw", {"prompt": "마을"}),  # 을 after a vowel is part of the word
    ("혹시 강아지 좀 그려 주실래요?", "draw", {"prompt": "강아지"}),
    ("우주 비행사 이미지 생성해줘", "draw", {"prompt": "우주 비행사"}),
    # --- edit (no region needed) ---
    ("change the background to a beach", "edit", {"prompt": "change the background to a beach"}),
    ("Make the sky purple.", "edit", {"prompt": "Make the sky purple"}),
    ("Edit it: make her smile.", "edit", {"prompt": "make her smile"}),
    ("remove the tree", "edit", {"prompt": "remove the tree"}),
    ("그림 수정해줘: 배경을 바다로 바꿔줘", "edit", {"prompt": "배경을 바다로 바꿔"}),
    ("하늘을 보라색으로 바꿔 주세요", "edit", {"prompt": "하늘을 보라색으로 바꿔"}),
    ("나무를 지워줘", "edit", {"prompt": "나무를 지워"}),
    # --- variation ---
    ("Another one like that.", "variation", {}),
    ("make another version", "variation", {}),
    ("One more like this, please.", "variation", {}),
    ("Give me a variation of it", "variation", {}),
    ("비슷한 거 하나 더", "variation", {}),
    ("다른 버전으로 하나 더 그려줘", "variation", {}),
    ("하나 더 그려줘", "variation", {}),
    # --- translate mode ---
    ("Translate what I say.", "translate_on", {}),
    ("start translating", "translate_on", {}),
    ("Translation mode.", "translate_on", {}),
    ("be my interpreter", "translate_on", {}),
    ("번역 모드", "translate_on", {}),
    ("번역해줘", "translate_on", {}),
    ("통역 시작", "translate_on", {}),
    ("Stop translating.", "translate_off", {}),
    ("translation off", "translate_off", {}),
    ("turn off translation mode", "translate_off", {}),
    ("번역 그만", "translate_off", {}),
    ("번역 모드 꺼줘", "translate_off", {}),
    # --- say / repeat ---
    ("say hello world", "say", {"prompt": "hello world"}),
    ("Say: Good morning, everyone!", "say", {"prompt": "Good morning, everyone!"}),
    ("say thank you", "say", {"prompt": "thank you"}),
    ("따라 해: 안녕하세요", "say", {"prompt": "안녕하세요"}),
    ("사랑해라고 말해줘", "say", {"prompt": "사랑해"}),
    ("안녕이라고 말해", "say", {"prompt": "안녕"}),
    ("repeat that", "repeat", {}),
    ("Say that again?", "repeat", {}),
    ("What did you say?", "repeat", {}),
    ("다시 말해줘", "repeat", {}),
    ("뭐라고?", "repeat", {}),
    # --- settings ---
    ("Speak slower.", "setting", {"setting": "speed", "value": "slower"}),
    ("talk faster", "setting", {"setting": "speed", "value": "faster"}),
    ("slow down", "setting", {"setting": "speed", "value": "slower"}),
    ("Could you speak a little slower, please?", "setting", {"setting": "speed", "value": "slower"}),
    ("normal speed", "setting", {"setting": "speed", "value": "normal"}),
    ("천천히 말해줘", "setting", {"setting": "speed", "value": "slower"}),
    ("빨리 말해", "setting", {"setting": "speed", "value": "faster"}),
    ("조금 더 빨리 말해 주세요", "setting", {"setting": "speed", "value": "faster"}),
    ("원래 속도로 말해줘", "setting", {"setting": "speed", "value": "normal"}),
    ("Use the onyx voice.", "setting", {"setting": "voice", "value": "onyx"}),
    ("switch to nova", "setting", {"setting": "voice", "value": "nova"}),
    ("change your voice to Shimmer", "setting", {"setting": "voice", "value": "shimmer"}),
    ("목소리를 nova로 바꿔줘", "setting", {"setting": "voice", "value": "nova"}),
    ("노바 목소리로 바꿔줘", "setting", {"setting": "voice", "value": "nova"}),
    ("목소리 바꿔줘", "setting", {"setting": "voice"}),  # no name: the loop asks which one
    ("Answer in Korean.", "setting", {"setting": "language", "value": "ko"}),
    ("reply in English", "setting", {"setting": "language", "value": "en"}),
    ("한국어로 대답해줘", "setting", {"setting": "language", "value": "ko"}),
    ("영어로 말해줘", "setting", {"setting": "language", "value": "en"}),
    # --- stop ---
    ("stop", "stop", {}),
    ("Stop.", "stop", {}),
    ("cancel", "stop", {}),
    ("stove.", "stop", {}),  # tiny.en's "stop" from a real one-word clip
    ("Stuff.", "stop", {}),
    ("Never mind.", "stop", {}),
    ("be quiet", "stop", {}),
    ("okay stop it", "stop", {}),
    ("그만", "stop", {}),
    ("그만해", "stop", {}),
    ("멈춰!", "stop", {}),
    ("취소", "stop", {}),
    # --- help ---
    ("help", "help", {}),
    ("What can you do?", "help", {}),
    ("how does this work", "help", {}),
    ("도움말", "help", {}),
    ("뭘 할 수 있어?", "help", {}),
    # --- everyday skills (issue 16) ---
    ("What time is it?", "clock", {"value": "time"}),
    ("what's the date today", "clock", {"value": "date"}),
    ("몇 시야?", "clock", {"value": "time", "language": "ko"}),
    ("오늘 무슨 요일이야", "clock", {"value": "date"}),
    ("Set a pasta timer for 10 minutes.", "timer_set", {"prompt": "pasta", "value": "10 minutes"}),
    ("set a timer for an hour and a half", "timer_set", {"value": "an hour and a half"}),
    ("Set a 5-minute timer.", "timer_set", {"value": "5-minute"}),
    ("remind me in 20 minutes to call mom", "timer_set", {"prompt": "call mom", "value": "20 minutes"}),
    ("파스타 타이머 10분 맞춰줘", "timer_set", {"prompt": "파스타", "value": "10분"}),
    ("5분 타이머 맞춰 줘", "timer_set", {"value": "5분"}),
    ("set an alarm for 7:30 am", "alarm_set", {"value": "7:30 am"}),
    ("7시 30분에 알람 맞춰줘", "alarm_set", {"value": "7시 30분"}),
    ("what timers do I have", "timer_list", {}),
    ("타이머 뭐 있어?", "timer_list", {}),
    ("cancel the pasta timer", "timer_cancel", {"prompt": "pasta"}),
    ("cancel all timers", "timer_cancel", {"value": "all"}),
    ("파스타 타이머 취소해줘", "timer_cancel", {"prompt": "파스타"}),
    ("louder please", "volume", {"value": "louder"}),
    ("turn it down a bit", "volume", {"value": "quieter"}),
    ("소리 좀 줄여줘", "volume", {"value": "quieter"}),
    ("더 크게 말해줘", "volume", {"value": "louder"}),
    ("undo that", "undo", {}),
    ("되돌려줘", "undo", {}),
    ("show me the last picture", "show_image", {}),
    ("방금 그린 그림 보여줘", "show_image", {}),
    ("use the one before", "previous_image", {}),
    ("그 전 그림으로 해줘", "previous_image", {}),
]

# Mention drawing words (or look like commands) without asking: never draw/edit.
NEGATIVES = [
    "I drew a picture yesterday",
    "the drawing was nice",
    "My cat likes to draw attention.",
    "what's the weather",
    "he withdrew money",
    "The picture of the day is on the wall.",
    "I like painting.",
    "pictures are nice",
    "she draws every day",
    "we were drawing all afternoon",
    "Did you see my sketchbook?",
    "어제 그림을 그렸어",
    "그림이 예쁘네",
    "그림 그리는 거 좋아해",
    "동생이 그린 그림",
    "오늘 날씨 어때?",
    "",
    "...",
    "hello",
]


def _check(intent: Intent, kind: str, expected: dict) -> None:
    expected = dict(expected)
    language = expected.pop("language", None)
    assert intent.kind == kind, intent
    slots = intent.slots()
    for key, value in expected.items():
        assert slots.get(key) == value, (key, intent)
    if language:
        assert intent.language == language


@pytest.mark.parametrize("text,kind,expected", CASES, ids=[c[0] or "empty" for c in CASES])
def test_route_phrasings(text, kind, expected):
    _check(route(text), kind, expected)


def test_stop_homophones_only_alone():
    assert route("turn on the stove").kind != "stop" and route("some stuff").kind != "stop"


def test_enough_phrasings_in_both_languages():
    hangul = [c for c in CASES if re.search("[가-힣]", c[0])]
    assert len(CASES) >= 60 and len(hangul) >= 25 and len(CASES) - len(hangul) >= 25
    assert {c[1] for c in CASES} == set(KINDS) - {"unknown"}


@pytest.mark.parametrize("text", NEGATIVES)
def test_negatives_are_unknown(text):
    intent = route(text)
    assert intent.kind == "unknown", intent
    assert intent.prompt == "" and intent.slots() == {}


@pytest.mark.parametrize(
    "text",
    ["stop translating", "Stop translating, please.", "번역 그만", "stop the translation"],
)
def test_stop_translating_is_not_stop(text):
    assert route(text).kind == "translate_off"
    assert not is_stop(text)


def test_whisper_noise_is_tolerated():
    # casing, punctuation, politeness, fillers, Korean spacing
    for text in ("DRAW A RED FOX!!!", "uh, draw a red fox…", "Please, draw a red fox.", "Hey, could you draw a red fox?"):
        assert route(text).kind == "draw" and route(text).prompt.lower() == "a red fox", text
    for text in ("빨간 여우를 그려 줘", "빨간 여우를 그려줘요.", "음, 빨간 여우를 그려 주세요!", "빨간 여우를 그려줄래?"):
        assert route(text).slots() == {"prompt": "빨간 여우"}, text


def test_prompts_lose_command_words_and_options():
    for text in CASES:
        intent = route(text[0])
        if intent.kind != "draw":
            continue
        words = intent.prompt.lower().split()
        assert not {"draw", "paint", "picture", "image", "please", "quality", "style", "그려줘", "그림", "고화질로"} & set(words), intent
        assert not intent.prompt.endswith((",", ".", "?", "를", "을 "))


def test_options_are_extracted_in_fixed_order_and_mapped():
    intent = route("Draw a wide landscape of hills in landscape format, natural style, in HD")
    assert intent.options == (("quality", "high"), ("style", "natural"), ("size", "wide"))
    assert intent.prompt == "a wide landscape of hills"  # "wide" inside the prompt stays
    assert route("draw a cat, square").option("size") == "square"
    assert route("draw a cat in low quality").options == (("quality", "low"),)
    assert route("draw a tall giraffe").options == ()  # an adjective, not an option
    assert route("draw a portrait of my dog").options == ()
    assert route("세로로 고화질로 기린 그려줘").options == (("quality", "high"), ("size", "tall"))


def test_language_from_script_then_stt_language():
    assert route("빨간 여우를 그려줘", "en").language == "ko"
    assert route("draw a fox", "ko").language == "en"
    assert route("42", "ko").language == "ko"
    assert route("42", None).language == "en"
    assert route("42", "ja").language == "en"
    # Korean sentence with an English voice name still routes in Korean
    assert route("목소리를 onyx로 바꿔줘").language == "ko"


def test_voice_values_are_known_voices():
    for voice in VOICES:
        intent = route(f"use the {voice} voice")
        assert (intent.kind, intent.setting, intent.value) == ("setting", "voice", voice)


def test_intent_is_frozen_and_keeps_text():
    intent = route("  Draw a red fox.  ")
    assert intent.text == "  Draw a red fox.  "
    with pytest.raises(dataclasses.FrozenInstanceError):
        intent.kind = "edit"  # type: ignore[misc]
    assert route("help").slots() == {}


@pytest.mark.parametrize(
    "text,expected",
    [
        ("stop", True), ("Stop!", True), ("stop stop", True), ("okay, stop it", True), ("cancel", True),
        ("be quiet", True), ("shut up", True), ("please stop talking", True), ("never mind", True),
        ("그만", True), ("그만해요", True), ("멈춰", True), ("정지", True), ("조용히", True), ("조용히 해", True), ("취소", True),
        ("stop translating", False), ("번역 그만", False), ("draw a stop sign on the road", False),
        ("I can't stop", False), ("hello there", False), ("", False), ("빨간 여우를 그려줘", False),
    ],
)
def test_is_stop(text, expected):
    assert is_stop(text) is expected


# ------------------------------------------------------------------ regions
# A stand-in for assistant.images.regions.find_region with a few phrases, to test what the
# router does around a match (particle removal, draw-with-region = edit). The real grammar is
# tested below against the images stage's module.
_FAKE = {"top left": "top-left", "top right": "top-right", "bottom right": "bottom-right",
         "왼쪽 위": "top-left", "오른쪽 아래": "bottom-right", "위": "top"}


def _fake_find_region(text):
    best = None
    for phrase, name in _FAKE.items():
        i = text.find(phrase)
        if i >= 0 and (best is None or i < best.start or (i == best.start and len(phrase) > best.end - best.start)):
            best = SimpleNamespace(name=name, start=i, end=i + len(phrase))
    return best


@pytest.fixture
def fake_regions(monkeypatch):
    monkeypatch.setattr(route_mod, "_find_region", lambda: _fake_find_region)


REGION_CASES = [
    ("edit it: put a hat on the top left", {"prompt": "put a hat", "region": "top-left"}),
    ("Edit the picture: give her a hat in the top left", {"prompt": "give her a hat", "region": "top-left"}),
    ("add a moon in the top right corner", {"prompt": "add a moon", "region": "top-right"}),
    ("In the top left, add a bird.", {"prompt": "add a bird", "region": "top-left"}),
    ("draw a hat in the top left", {"prompt": "draw a hat", "region": "top-left"}),
    ("왼쪽 위에 모자를 그려줘", {"prompt": "모자를 그려", "region": "top-left"}),
    ("오른쪽 아래에 고양이를 추가해줘", {"prompt": "고양이를 추가해", "region": "bottom-right"}),
    ("오른쪽 아래에다가 달을 넣어 주세요", {"prompt": "달을 넣어", "region": "bottom-right"}),
    ("change the background to a beach", {"prompt": "change the background to a beach"}),
]


@pytest.mark.parametrize("text,expected", REGION_CASES)
def test_region_is_extracted_and_removed_from_the_prompt(fake_regions, text, expected):
    intent = route(text)
    assert intent.kind == "edit"
    assert intent.slots() == expected


def test_region_without_place_particle_keeps_drawing(fake_regions):
    # "위의" (on top of) is not a place to put something: a new drawing
    assert route("바다 위의 성을 그려주세요").slots() == {"prompt": "바다 위의 성"}
    # an explicit picture noun means a new picture even with a region
    intent = route("draw a picture of a house with the sun in the top right")
    assert intent.kind == "draw" and intent.prompt == "a house with the sun in the top right"


def test_with_the_images_stage_region_grammar():
    regions = pytest.importorskip("assistant.images.regions")
    assert regions.find_region("top left") is not None
    cases = {
        "edit it: put a hat on the top left": ("put a hat", "top-left"),
        "왼쪽 위에 모자를 그려줘": ("모자를 그려", "top-left"),
        "오른쪽 아래에 고양이를 추가해줘": ("고양이를 추가해", "bottom-right"),
        "in the top left, add a bird": ("add a bird", "top-left"),
    }
    for text, (prompt, region) in cases.items():
        intent = route(text)
        assert (intent.kind, intent.prompt, intent.region) == ("edit", prompt, region), intent


def test_a_megabyte_of_text_is_no_command_and_does_not_hold_the_loop():
    """route() runs on the event loop: 100,000 Korean region words took hours (the region grammar
    was quadratic; 3,000 took 51 s), so one `ask` or web request froze every session and SIGTERM.
    Past MAX_COMMAND_CHARS the text goes to chat or the help reply."""
    import threading

    from assistant.router.route import MAX_COMMAND_CHARS, is_filler

    texts = ["왼쪽 위에 " * 100_000 + "모자를 그려줘", "draw a " + "very " * 200_000 + "red fox", "uh " * 300_000]
    results: list = []
    thread = threading.Thread(target=lambda: results.extend(
        (route(t).kind, is_stop(t), is_filler(t)) for t in texts), daemon=True)
    thread.start()
    thread.join(60)  # a hang detector, not a speed check (each takes well under a second)
    assert not thread.is_alive(), "routing a long text did not end"
    assert results == [("unknown", False, False)] * 3
    ok = "draw a " + "very " * (MAX_COMMAND_CHARS // 6) + "red fox"
    assert len(ok) <= MAX_COMMAND_CHARS and route(ok).kind == "draw"


def test_region_grammar_on_long_text_finds_the_same_place():
    """The bisection over rejected matches and the bounded look-back give the old answers."""
    from assistant.images.regions import find_region

    for text in ["draw a hat in the top left", "on top of the car, add a bird in the bottom right",
                 "그림 위에 새를 그려줘", "고양이 위에 모자", "the left but not the top left"]:
        found = find_region(text)
        assert found is None or found.name, text
    assert find_region("x " * 500 + "in the top left").name == "top-left"
