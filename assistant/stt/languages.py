"""Whisper's language names <-> ISO-639-1 codes (the API's verbose_json says "english", we say "en")."""
from __future__ import annotations

# code -> name, as in openai/whisper tokenizer.LANGUAGES
LANGUAGES: dict[str, str] = {
    "en": "english", "zh": "chinese", "de": "german", "es": "spanish", "ru": "russian", "ko": "korean",
    "fr": "french", "ja": "japanese", "pt": "portuguese", "tr": "turkish", "pl": "polish", "ca": "catalan",
    "nl": "dutch", "ar": "arabic", "sv": "swedish", "it": "italian", "id": "indonesian", "hi": "hindi",
    "fi": "finnish", "vi": "vietnamese", "he": "hebrew", "uk": "ukrainian", "el": "greek", "ms": "malay",
    "cs": "czech", "ro": "romanian", "da": "danish", "hu": "hungarian", "ta": "tamil", "no": "norwegian",
    "th": "thai", "ur": "urdu", "hr": "croatian", "bg": "bulgarian", "lt": "lithuanian", "la": "latin",
    "mi": "maori", "ml": "malayalam", "cy": "welsh", "sk": "slovak", "te": "telugu", "fa": "persian",
    "lv": "latvian", "bn": "bengali", "sr": "serbian", "az": "azerbaijani", "sl": "slovenian",
    "kn": "kannada", "et": "estonian", "mk": "macedonian", "br": "breton", "eu": "basque",
    "is": "icelandic", "hy": "armenian", "ne": "nepali", "mn": "mongolian", "bs": "bosnian",
    "kk": "kazakh", "sq": "albanian", "sw": "swahili", "gl": "galician", "mr": "marathi",
    "pa": "punjabi", "si": "sinhala", "km": "khmer", "sn": "shona", "yo": "yoruba", "so": "somali",
    "af": "afrikaans", "oc": "occitan", "ka": "georgian", "be": "belarusian", "tg": "tajik",
    "sd": "sindhi", "gu": "gujarati", "am": "amharic", "yi": "yiddish", "lo": "lao", "uz": "uzbek",
    "fo": "faroese", "ht": "haitian creole", "ps": "pashto", "tk": "turkmen", "nn": "nynorsk",
    "mt": "maltese", "sa": "sanskrit", "lb": "luxembourgish", "my": "myanmar", "bo": "tibetan",
    "tl": "tagalog", "mg": "malagasy", "as": "assamese", "tt": "tatar", "haw": "hawaiian",
    "ln": "lingala", "ha": "hausa", "ba": "bashkir", "jw": "javanese", "su": "sundanese",
    "yue": "cantonese",
}
_BY_NAME = {name: code for code, name in LANGUAGES.items()}
_BY_NAME.update({"burmese": "my", "valencian": "ca", "flemish": "nl", "haitian": "ht",
                 "letzeburgesch": "lb", "pushto": "ps", "panjabi": "pa", "moldavian": "ro",
                 "moldovan": "ro", "sinhalese": "si", "castilian": "es", "mandarin": "zh"})


def to_code(value: str | None) -> str | None:
    """'english' / 'English' / 'en' / 'en-US' -> 'en'; '' / None -> None; unknown stays as given (lowercased)."""
    if not value:
        return None
    v = value.strip().lower()
    if v in LANGUAGES:
        return v
    if v in _BY_NAME:
        return _BY_NAME[v]
    head = v.replace("_", "-").split("-")[0]
    return head if head in LANGUAGES else v


def to_name(code: str | None) -> str:
    """'en' -> 'english' (the API's verbose_json spelling)."""
    if not code:
        return ""
    return LANGUAGES.get(code, code)


def check_code(value: str) -> str:
    """A user-given language hint -> a known code, or raise ValueError."""
    code = to_code(value)
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {value!r}; use an ISO-639-1 code such as en or ko")
    return code


# ------------------------------------------------------------------ the language prior
LAST_TURN_WEIGHT = 0.6  # the last turn's (or wake word's) language gets this much of the prior mass


def prior(languages: tuple[str, ...] | list[str], *, last: str | None = None, wake: str | None = None,
          weight: float = LAST_TURN_WEIGHT) -> dict[str, float]:
    """What the assistant expects before hearing: uniform over ``stt.languages``, with ``weight`` of
    the mass on the wake word's language (else the last turn's) when it is one of them.

    A weak prior on purpose: it only decides when the audio itself is ambiguous (short commands),
    never against clear evidence (Whisper gives Korean speech P(ko) / P(en) > 40 on our corpus)."""
    langs = [c for c in dict.fromkeys(to_code(x) for x in languages) if c]
    if not langs:
        return {}
    favoured = next((c for c in (to_code(wake), to_code(last)) if c in langs), None)
    if favoured is None or len(langs) == 1:
        return {c: 1.0 / len(langs) for c in langs}
    rest = (1.0 - weight) / (len(langs) - 1)
    return {c: (weight if c == favoured else rest) for c in langs}


def posterior(probs: dict[str, float], prior_: dict[str, float] | None) -> dict[str, float]:
    """Bayes: the model's language probabilities times the prior, renormalized over the prior's
    languages (all of ``probs`` when there is no prior). Empty when nothing has any mass."""
    if prior_:
        scores = {c: probs.get(c, 0.0) * w for c, w in prior_.items() if w > 0}
    else:
        scores = dict(probs)
    total = sum(scores.values())
    if total <= 0:
        return {}
    return {c: s / total for c, s in sorted(scores.items(), key=lambda kv: -kv[1])}
