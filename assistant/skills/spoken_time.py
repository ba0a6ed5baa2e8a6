"""Spoken durations and clock times, English and Korean (pure): "an hour and a half", "5-minute",
"1시간 반", "7:30 am", "오후 3시 반", "내일 아침 7시". None when the words cannot be read."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

_UNITS = {"second": 1, "seconds": 1, "sec": 1, "secs": 1, "minute": 60, "minutes": 60, "min": 60, "mins": 60,
          "hour": 3600, "hours": 3600, "hr": 3600, "hrs": 3600, "초": 1, "분": 60, "시간": 3600}
_SMALLER = {3600: 60, 60: 1, 1: 1}
_EN_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_EN_NUMBERS.update({"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
                    "eighty": 80, "ninety": 90, "hundred": 100, "couple": 2, "few": 3, "oh": 0})
_FRACTIONS = {"half": 0.5, "quarter": 0.25}
_KO_SINO = {"일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "칠": 7, "팔": 8, "구": 9}
_KO_NATIVE = {"한": 1, "하나": 1, "두": 2, "둘": 2, "세": 3, "셋": 3, "네": 4, "넷": 4, "다섯": 5, "여섯": 6,
              "일곱": 7, "여덟": 8, "아홉": 9, "열": 10, "스물": 20, "스무": 20, "서른": 30, "마흔": 40, "쉰": 50}


def ko_number(word: str) -> float | None:
    """"5", "십오", "열두", "스물다섯", "삼십" -> the number; None otherwise."""
    word = word.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", word):
        return float(word)
    if word and all(ch in "일이삼사오육칠팔구십백" for ch in word):
        total, digit = 0, 0
        for ch in word:
            if ch == "백":
                total, digit = total + (digit or 1) * 100, 0
            elif ch == "십":
                total, digit = total + (digit or 1) * 10, 0
            else:
                digit = _KO_SINO[ch]
        return float(total + digit)
    total, rest = 0, word
    while rest:
        for name in sorted(_KO_NATIVE, key=len, reverse=True):
            if rest.startswith(name):
                total, rest = total + _KO_NATIVE[name], rest[len(name):]
                break
        else:
            return None
    return float(total) if word else None


def parse_duration(text: str) -> float | None:
    """Seconds in a spoken duration, or None."""
    text = (text or "").lower().replace("-", " ")
    if re.search(r"[가-힣]", text):
        return _ko_duration(text)
    tokens = re.findall(r"\d+(?:[.,]\d+)?|[a-z]+", text)
    total, num, article, last_unit = 0.0, None, False, 0
    for tok in tokens:
        if tok in ("a", "an"):
            if num is None:
                num, article = 1.0, True
        elif tok in _FRACTIONS:
            num = _FRACTIONS[tok] if (num is None or article) else num + _FRACTIONS[tok]
            article = False
        elif tok in _UNITS:
            total += (num or 0.0) * _UNITS[tok]  # "some minutes": no number, nothing counted
            last_unit, num, article = _UNITS[tok], None, False
        elif tok in _EN_NUMBERS or tok[0].isdigit():
            n = _EN_NUMBERS[tok] if tok in _EN_NUMBERS else float(tok.replace(",", "."))
            if tok == "hundred" and num:
                num *= 100
            elif num is not None and not article and num >= 20 and num % 10 == 0 and n < 10:
                num += n  # "twenty five"
            else:
                num = float(n)
            article = False
        elif tok not in ("and", "of", "timer", "long", "for"):
            continue
    if num is not None and last_unit:  # "an hour and a half", "1 hour 30"
        total += num * (last_unit if num < 1 else _SMALLER[last_unit])
    return total if total > 0 else None


def _ko_duration(text: str) -> float | None:
    total, last_unit = 0.0, 0
    for m in re.finditer(r"(\d+(?:\.\d+)?|[가-힣]+?)\s*(시간|분|초)(\s*반)?", text):
        n = ko_number(m.group(1))
        if n is None:
            return None
        unit = _UNITS[m.group(2)]
        total += n * unit + (unit / 2 if m.group(3) else 0)
        last_unit = unit
    if not last_unit and "반" in text:
        return None
    return total if total > 0 else None


_EN_DAYPART = {"am": "am", "a m": "am", "morning": "am",
               "pm": "pm", "p m": "pm", "afternoon": "pm", "evening": "pm", "night": "pm", "tonight": "pm"}


def parse_clock_time(text: str, now: datetime) -> datetime | None:
    """The next moment a spoken clock time names ("7:30 am", "noon", "오후 3시 반"), after ``now``."""
    text = (text or "").lower().strip()
    if re.search(r"[가-힣]", text):
        parsed = _ko_clock(text)
    else:
        parsed = _en_clock(text)
    if parsed is None:
        return None
    hour, minute, part, tomorrow = parsed
    if not (0 <= hour <= 24 and 0 <= minute < 60):
        return None
    if part == "pm" and hour < 12:
        hour += 12
    elif part == "am" and hour == 12:
        hour = 0
    hour %= 24
    base = now.replace(second=0, microsecond=0)
    candidates = [base.replace(hour=hour, minute=minute)]
    if part is None and hour < 12:  # "at 7": the next 7 o'clock, morning or evening
        candidates.append(base.replace(hour=hour + 12, minute=minute))
    out = []
    for c in candidates:
        if tomorrow:
            c += timedelta(days=1)
        elif c <= now:
            c += timedelta(days=1)
        out.append(c)
    return min(out)


def _en_clock(text: str) -> tuple[int, int, str | None, bool] | None:
    tomorrow = "tomorrow" in text
    text = re.sub(r"\b(?:tomorrow|at|for|in|o'clock|oclock|the|sharp)\b", " ", text)
    if "noon" in text or "midday" in text:
        return 12, 0, "pm", tomorrow
    if "midnight" in text:
        return 0, 0, "am", tomorrow
    part = None
    for words, value in sorted(_EN_DAYPART.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"\b{words}\b", text) or re.search(rf"\d{words.replace(' ', '')}\b", text):
            part = value
            text = re.sub(rf"\b{words}\b|(?<=\d){words.replace(' ', '')}\b", " ", text)
            break
    m = re.fullmatch(r"\s*(\d{1,2})(?:[:.\s]+(\d{2}))?\s*", text)
    if m:
        return int(m.group(1)), int(m.group(2) or 0), part, tomorrow
    words = re.findall(r"[a-z]+|\d+", text)
    nums = [(_EN_NUMBERS.get(w) if not w.isdigit() else int(w)) for w in words]
    if not nums or any(n is None for n in nums):
        return None
    hour, rest = nums[0], nums[1:]
    minute = sum(rest) if rest else 0  # "seven thirty", "six forty five", "seven oh five"
    return int(hour), int(minute), part, tomorrow


def _ko_clock(text: str) -> tuple[int, int, str | None, bool] | None:
    tomorrow = "내일" in text
    part = None
    if re.search(r"오전|아침|새벽", text):
        part = "am"
    elif re.search(r"오후|저녁|밤", text):
        part = "pm"
    if "정오" in text:
        return 12, 0, "pm", tomorrow
    if "자정" in text:
        return 0, 0, "am", tomorrow
    m = re.search(r"(\d{1,2})\s*[:：]\s*(\d{2})", text)
    if m:
        return int(m.group(1)), int(m.group(2)), part, tomorrow
    m = re.search(r"(\d+|[가-힣]+?)\s*시(?:\s*(\d+|[가-힣]+?)\s*분|\s*(반))?", text)
    if not m:
        return None
    word = re.sub(r"^(?:오전|오후|아침|저녁|새벽|밤|내일)+", "", m.group(1))
    hour = ko_number(word)
    minute = ko_number(m.group(2)) if m.group(2) else (30 if m.group(3) else 0)
    if hour is None or minute is None:
        return None
    return int(hour), int(minute), part, tomorrow
