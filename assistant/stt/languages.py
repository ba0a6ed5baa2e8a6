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
