"""Strict OpenAI stand-in for tests: a threaded HTTP server on 127.0.0.1.

    from tests.standin import StandIn, Reply
    with StandIn() as srv:
        client = OpenAI(api_key="sk-test", base_url=srv.base_url)
        ...
        assert srv.violations == []

Every request is validated against the official OpenAPI document (request schemas) plus
the prose rules of the field descriptions; any violation answers 400 with an OpenAI-shaped
error and is recorded in `srv.violations` (and on the request's `Recorded.violations`).
Choices (documented here, since the spec is silent):
- `model` is required on every endpoint, although images defaults it (catch implicit models).
- unknown top-level fields are violations on every endpoint (the live API rejects them).
- a model the endpoint does not serve (e.g. gpt-4o-transcribe on /audio/translations)
  answers 400 with code "model_not_found" and param "model".
- validation runs before scripted replies; an invalid request never consumes a script.
- `Recorded.path` is the full URL path ("/v1/audio/speech"); `Recorded.endpoint` drops
  "/v1". `script()` accepts either form. Headers are recorded with lower-case names.
- multipart: `form["x[]"]` is always a list, a repeated plain field becomes a list;
  `files[name]` is a (filename, content_type, bytes) tuple, or a list of them for `name[]`
  or a repeated name; `file_list` keeps every upload in order; `params` is the validated
  request (JSON body, or the form coerced to the schema's types, `a[k]=v` -> objects).
- wav/flac uploads must decode (raw PCM named .wav is rejected); mp3/ogg/webm/mp4/m4a must start
  with their container's bytes; an audio part's content type must fit its extension (no
  application/octet-stream); image/mask parts need image/png|jpeg|webp matching the decoded
  format and the extension. `language` (and `languages`) must be ISO-639-1 codes.
- a stand-in bug answers 500 and is recorded in `violations` (never a dropped connection).
Faults (`srv.fault("speech", "truncated", times=1)`, operations in OPERATIONS, kinds in
FAULT_KINDS): garbage bodies (html, json of the wrong shape, badjson, empty, random bytes,
notimage: a valid images answer whose payload is not an image), truncated bodies (Content-Length
larger than what is sent, then close), connection resets, trickled (slow) bodies and every error
status (429 with Retry-After). They are consumed only by valid requests, like scripts.
Regenerate the spec subset: `python -m tests.standin --write-subset`.
"""
from __future__ import annotations

import base64
import email.parser
import email.policy
import io
import json
import math
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterable

# ---------------------------------------------------------------- spec loading

REPO = Path(__file__).resolve().parents[1]
FULL_SPEC = REPO.parent / "shared/openai/openapi.json"
SUBSET_SPEC = Path(__file__).resolve().parent / "fixtures/openapi-subset.json"

REQUEST_SCHEMAS = {
    "/audio/transcriptions": "CreateTranscriptionRequest",
    "/audio/translations": "CreateTranslationRequest",
    "/audio/speech": "CreateSpeechRequest",
    "/images/generations": "CreateImageRequest",
    "/images/edits": "CreateImageEditRequest",
    "/images/variations": "CreateImageVariationRequest",
    "/chat/completions": "CreateChatCompletionRequest",
}
RESPONSE_SCHEMAS = [
    "CreateTranscriptionResponseJson", "CreateTranscriptionResponseVerboseJson",
    "CreateTranscriptionResponseDiarizedJson", "CreateTranscriptionResponseStreamEvent",
    "CreateSpeechResponseStreamEvent", "ImagesResponse", "ImageGenStreamEvent",
    "ImageEditStreamEvent", "CreateChatCompletionResponse", "CreateChatCompletionStreamResponse",
    "ListModelsResponse", "ErrorResponse",
]
_SPECS: dict[Path, dict] = {}
_VALIDATORS: dict[tuple[Path, str], Any] = {}
_LOCK = threading.Lock()


def default_spec_path() -> Path:
    return FULL_SPEC if FULL_SPEC.is_file() else SUBSET_SPEC


def build_subset(doc: dict) -> dict:
    """The request/response schemas above plus everything they reference, transitively."""
    schemas = doc["components"]["schemas"]
    keep: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in keep:
                    keep.add(name)
                    walk(schemas[name])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for name in [*REQUEST_SCHEMAS.values(), *RESPONSE_SCHEMAS]:
        keep.add(name)
        walk(schemas[name])
    return {"openapi": doc["openapi"],
            "info": {"title": doc["info"]["title"], "version": doc["info"]["version"],
                     "x-source": "shared/openai/openapi.json (official OpenAI OpenAPI document)",
                     "x-note": "Subset for tests/standin.py: request and response schemas it uses "
                               "plus transitive $refs. Regenerate: python -m tests.standin "
                               "--write-subset"},
            "components": {"schemas": {n: _strip(schemas[n]) for n in sorted(keep)}}}


def _strip(node: Any) -> Any:
    """Drop examples and doc metadata (not validation keywords) to keep the subset small."""
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in ("example", "x-oaiMeta")}
    return [_strip(x) for x in node] if isinstance(node, list) else node


def _fix_nullable(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` (still used in this 3.1 document) -> allow null."""
    if isinstance(node, list):
        return [_fix_nullable(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _fix_nullable(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


def load_spec(path: Path | None = None) -> dict:
    path = Path(path or default_spec_path()).resolve()
    with _LOCK:
        if path not in _SPECS:
            _SPECS[path] = _fix_nullable(json.loads(path.read_text()))
        return _SPECS[path]


def validator(name: str, path: Path | None = None):
    """A cached Draft 2020-12 validator for components.schemas[name] (refs resolve in the doc)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
    path = Path(path or default_spec_path()).resolve()
    key = (path, name)
    if key not in _VALIDATORS:
        doc = load_spec(path)
        registry = Registry().with_resource("urn:openapi", Resource.from_contents(doc, DRAFT202012))
        _VALIDATORS[key] = Draft202012Validator(
            {"$ref": f"urn:openapi#/components/schemas/{name}"}, registry=registry)
    return _VALIDATORS[key]


def _resolve(doc: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        node = doc["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _properties(doc: dict, schema: dict) -> dict[str, dict]:
    """Top-level properties of a schema, following $ref and allOf."""
    schema = _resolve(doc, schema)
    props = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        props.update(_properties(doc, part))
    return props


# ---------------------------------------------------------------- data model

@dataclass(frozen=True)
class Reply:
    status: int = 200
    json: Any = None
    body: bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] | None = None
    delay: float = 0.0
    chunks: list[bytes] | None = None       # -> Transfer-Encoding: chunked
    chunk_delay: float = 0.0
    declared_length: int | None = None      # Content-Length sent; the body is cut short, then close
    reset: bool = False                     # no answer: the connection is reset (RST)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    json: dict | None
    form: dict[str, str | list[str]]
    files: dict[str, tuple[str, str, bytes]]
    raw: bytes
    violations: list[str] = field(default_factory=list)
    file_list: list[tuple[str, str, str, bytes]] = field(default_factory=list)  # (name, *file)
    params: dict | None = None   # the validated instance (multipart coerced to JSON types)

    @property
    def endpoint(self) -> str:
        return self.path[3:] if self.path.startswith("/v1/") else self.path


class Violation(Exception):
    def __init__(self, param: str | None, message: str, code: str = "invalid_value"):
        super().__init__(message)
        self.param, self.message, self.code = param, message, code


def _error_body(message: str, param: str | None, code: str | None,
                type_: str = "invalid_request_error") -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


# ---------------------------------------------------------------- request parsing

def parse_multipart(content_type: str, raw: bytes):
    """-> (form, files, file_list) from a multipart/form-data body (stdlib email parser)."""
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
    if not msg.is_multipart():
        raise Violation(None, "Malformed multipart/form-data body", "invalid_multipart")
    form: dict[str, str | list[str]] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    file_list: list[tuple[str, str, str, bytes]] = []
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            raise Violation(None, "Multipart part without a name", "invalid_multipart")
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        try:
            value = None if filename is not None else payload.decode("utf-8")
        except UnicodeDecodeError:
            value = None
        if value is None:     # a file part (or undecodable bytes sent without a filename)
            ctype = part.get_content_type() if part["Content-Type"] else ""
            item = (filename or "", ctype, payload)
            file_list.append((name, *item))
            if name in files:     # repeated file field -> list of tuples
                prev = files[name]
                files[name] = [*prev, item] if isinstance(prev, list) else [prev, item]
            else:
                files[name] = [item] if name.endswith("[]") else item
            continue
        if name in form:
            prev = form[name]
            form[name] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            form[name] = [value] if name.endswith("[]") else value
    return form, files, file_list


def _alternatives(doc: dict, prop: dict) -> list[dict]:
    """A property schema and every anyOf/oneOf alternative in it, refs resolved."""
    prop = _resolve(doc, prop)
    subs = [*prop.get("anyOf", []), *prop.get("oneOf", [])]
    return [prop, *(alt for sub in subs for alt in _alternatives(doc, sub))]


def _coerce(doc: dict, prop: dict | None, value: str, param: str) -> Any:
    """A multipart string -> the JSON type its schema wants (string wins when allowed)."""
    alts = _alternatives(doc, prop) if prop else [{"type": "string"}]
    types = set()
    for alt in alts:
        t = alt.get("type")
        types |= {t} if isinstance(t, str) else set(t or [])
    if "string" in types or not types:
        return value
    if "integer" in types and value.lstrip("-").isdigit():
        return int(value)
    if "number" in types:
        try:
            return float(value)
        except ValueError:
            pass
    if "boolean" in types and value in ("true", "false"):
        return value == "true"
    if "null" in types and value in ("", "null"):
        return None
    raise Violation(param, f"Invalid value for '{param}': {value!r} is not of type "
                    f"{'/'.join(sorted(types))}.", "invalid_type")


def _sub(doc: dict, prop: dict | None, key: str) -> dict | None:
    """Schema of array items (key "") or of object property `key` within prop."""
    for alt in _alternatives(doc, prop) if prop else []:
        if key == "" and "items" in alt:
            return alt["items"]
        if key and key in alt.get("properties", {}):
            return alt["properties"][key]
    return None


def form_to_instance(doc: dict, schema_name: str, form: dict, file_list: list) -> dict:
    """Multipart fields -> a JSON instance for schema validation (types coerced per schema).

    `a[]=x` (repeatable) builds arrays, `a[k]=v` builds objects (the SDK's bracket style);
    a pure array property must use the bracket form; files become "<binary NAME>".
    """
    props = _properties(doc, {"$ref": f"#/components/schemas/{schema_name}"})
    fields = [(k, v) for k, vs in form.items() for v in (vs if isinstance(vs, list) else [vs])]
    fields += [(key, ("file", filename)) for key, filename, _c, _d in file_list]
    instance: dict[str, Any] = {}
    for key, value in fields:
        name, _, rest = key.partition("[")
        sub = rest[:-1] if rest.endswith("]") else None
        if rest and (sub is None or "[" in sub):
            raise Violation(name, f"Unsupported multipart field name '{key}'.", "invalid_multipart")
        prop = props.get(name)
        if isinstance(value, tuple):
            conv: Any = f"<binary {value[1]}>"
        elif sub is None:
            conv = _coerce(doc, prop, value, name)
        else:
            conv = _coerce(doc, _sub(doc, prop, sub), value, f"{name}[{sub}]")
        if sub == "":
            _need(not isinstance(instance.get(name, []), str), name, f"'{name}' given both as "
                  f"'{name}' and '{name}[]'.", "duplicate_field")
            instance.setdefault(name, []).append(conv)
        elif sub:
            target = instance.setdefault(name, {})
            _need(isinstance(target, dict) and sub not in target, key,
                  f"Field '{key}' was given more than once.", "duplicate_field")
            target[sub] = conv
        elif name in instance:
            prev = instance[name]
            # repeated plain field: only for string|array fields such as edits' `image`
            _need(prop is not None and _sub(doc, prop, "") is not None, name,
                  f"Field '{name}' was given more than once.", "duplicate_field")
            instance[name] = [*prev, conv] if isinstance(prev, list) else [prev, conv]
        else:
            types = {a.get("type") for a in _alternatives(doc, prop)} if prop else set()
            _need(types != {"array"} and not ({"array"} <= types and "string" not in types),
                  name, f"Array field '{name}' must be sent as '{name}[]'.", "invalid_multipart")
            instance[name] = conv
    return instance


def schema_violations(name: str, instance: Any, path: Path | None = None) -> list[Violation]:
    out = []
    for err in sorted(validator(name, path).iter_errors(instance), key=lambda e: list(e.path)):
        param = ".".join(str(p) for p in err.absolute_path) or None
        code = "invalid_value"
        if err.validator == "required":
            param, code = err.message.split("'")[1], "missing_required_parameter"
        elif err.validator == "additionalProperties":
            code = "unknown_parameter"
            param = (param + "." if param else "") + err.message.split("'")[1]
        out.append(Violation(param, err.message, code))
    return out


# ---------------------------------------------------------------- prose rules

TRANSCRIBE_MODELS = {"whisper-1", "gpt-transcribe", "gpt-4o-transcribe", "gpt-4o-mini-transcribe",
                     "gpt-4o-mini-transcribe-2025-12-15", "gpt-4o-transcribe-diarize"}
JSON_ONLY_TRANSCRIBE = {"gpt-4o-transcribe", "gpt-4o-mini-transcribe",
                        "gpt-4o-mini-transcribe-2025-12-15"}   # snapshot of the same model
DIARIZE = "gpt-4o-transcribe-diarize"
AUDIO_EXTS = {"flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "wav", "webm"}
# "an extension-bearing filename and an appropriate content type": the types each extension may
# carry (application/octet-stream is not appropriate), and the leading bytes of each container
_MPEG = frozenset({"audio/mpeg", "audio/mp3", "audio/mpeg3", "audio/x-mpeg-3"})
AUDIO_TYPES = {"flac": {"audio/flac", "audio/x-flac"}, "mp3": _MPEG, "mpeg": _MPEG, "mpga": _MPEG,
               "mp4": {"audio/mp4", "video/mp4"}, "m4a": {"audio/mp4", "audio/m4a", "audio/x-m4a"},
               "ogg": {"audio/ogg", "application/ogg"}, "webm": {"audio/webm", "video/webm"},
               "wav": {"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"}}
_MAGIC: dict[str, Callable[[bytes], bool]] = {
    "mp3": lambda b: b[:3] == b"ID3" or (len(b) > 1 and b[0] == 0xFF and b[1] & 0xE0 == 0xE0),
    "ogg": lambda b: b[:4] == b"OggS", "webm": lambda b: b[:4] == b"\x1aE\xdf\xa3",
    "mp4": lambda b: b[4:8] == b"ftyp", "m4a": lambda b: b[4:8] == b"ftyp"}
_MAGIC["mpeg"] = _MAGIC["mpga"] = _MAGIC["mp3"]
# ISO-639-1 (the `language` field's format): two letters, from this list
ISO_639_1 = frozenset(
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy "
    "da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu "
    "hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb "
    "lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om "
    "or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw "
    "ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu".split())
IMAGE_TYPES = {"PNG": ("image/png", {"png"}), "JPEG": ("image/jpeg", {"jpg", "jpeg"}),
               "WEBP": ("image/webp", {"webp"})}
TTS_MODELS = {"tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15"}
VOICES = {"alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer",
          "verse", "marin", "cedar"}
GPT_IMAGE = {"gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "gpt-image-2",
             "gpt-image-2-2026-04-21"}
GPT_IMAGE_ANY_SIZE = {"gpt-image-2", "gpt-image-2-2026-04-21"}
GPT_SIZES = {"1024x1024", "1536x1024", "1024x1536", "auto"}
DALLE_SIZES = {"dall-e-2": {"256x256", "512x512", "1024x1024"},
               "dall-e-3": {"1024x1024", "1792x1024", "1024x1792"}}
PROMPT_MAX = {"dall-e-2": 1000, "dall-e-3": 4000}   # GPT image models: 32000
MB = 1024 * 1024


def _need(cond: bool, param: str, message: str, code: str = "invalid_value") -> None:
    if not cond:
        raise Violation(param, message, code)


def _model(req: dict, allowed: Iterable[str], endpoint: str) -> str:
    model = req.get("model")
    _need(model is not None, "model", "you must provide a model parameter",
          "missing_required_parameter")
    _need(model in allowed, "model", f"The model `{model}` does not exist or is not supported "
          f"on {endpoint}.", "model_not_found")
    return model


def _file(files: dict, name: str) -> tuple[str, str, bytes]:
    """The single upload for a (schema-checked, non-repeated) file field."""
    item = files.get(name) or files.get(name + "[]")
    _need(item is not None, name, f"'{name}' must be uploaded as a file.", "invalid_file")
    return item[0] if isinstance(item, list) else item


def _audio_file(files: dict) -> tuple[str, str, bytes]:
    filename, ctype, data = _file(files, "file")
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    _need(ext in AUDIO_EXTS, "file", f"Invalid file format '{filename}'. Supported formats: "
          f"{sorted(AUDIO_EXTS)}", "invalid_file_format")
    _need(bool(ctype), "file", "The audio file part has no content type.", "invalid_file_format")
    _need(ctype in AUDIO_TYPES[ext], "file", f"Content type '{ctype}' does not fit '{filename}' "
          f"(expected one of {sorted(AUDIO_TYPES[ext])}).", "invalid_file_format")
    _need(_MAGIC.get(ext, lambda b: True)(data), "file", f"'{filename}' does not look like a(n) "
          f"{ext} file.", "invalid_file_format")
    _need(0 < len(data) <= 25 * MB, "file", f"Audio file must be 1 byte to 25 MB, got {len(data)}.",
          "invalid_file_size")
    # wav/flac are checked for real (catches raw PCM sent as .wav); others are taken on trust
    _need(ext not in ("wav", "flac") or audio_duration(data) is not None, "file",
          f"Audio file '{filename}' might be corrupted or unsupported.", "invalid_file_format")
    return filename, ctype, data


def audio_duration(data: bytes) -> float | None:
    try:
        import soundfile
        return float(soundfile.info(io.BytesIO(data)).duration)
    except Exception:  # not decodable here: fine, duration just unknown
        return None


def rules_transcription(req: dict, files: dict) -> None:
    model = _model(req, TRANSCRIBE_MODELS, "/v1/audio/transcriptions")
    _, _, data = _audio_file(files)
    fmt = req.get("response_format", "json")
    if model in JSON_ONLY_TRANSCRIBE:
        _need(fmt == "json", "response_format", f"response_format '{fmt}' is not compatible with "
              f"model '{model}'. Use 'json'.", "unsupported_value")
    if model == DIARIZE:
        _need(fmt in ("json", "text", "diarized_json"), "response_format",
              f"response_format '{fmt}' is not supported by {model}.", "unsupported_value")
        for p in ("prompt", "timestamp_granularities", "include"):
            _need(p not in req, p, f"'{p}' is not supported with {model}.", "unsupported_parameter")
        dur = audio_duration(data)
        _need(dur is None or dur <= 30 or req.get("chunking_strategy") is not None,
              "chunking_strategy", "chunking_strategy is required for inputs longer than 30 s.")
    else:
        _need(fmt != "diarized_json", "response_format", f"diarized_json requires {DIARIZE}.",
              "unsupported_value")
        for p in ("known_speaker_names", "known_speaker_references"):
            _need(p not in req, p, f"'{p}' is only supported with {DIARIZE}.",
                  "unsupported_parameter")
    _need(len(req.get("known_speaker_names", [])) == len(req.get("known_speaker_references", [])),
          "known_speaker_references", "known_speaker_names and known_speaker_references differ "
          "in length.")
    if "timestamp_granularities" in req:
        _need(fmt == "verbose_json", "timestamp_granularities", "timestamp_granularities requires "
              "response_format 'verbose_json'.", "unsupported_parameter")
    if "include" in req:
        _need(model in JSON_ONLY_TRANSCRIBE and fmt == "json", "include", "include[]=logprobs "
              "needs response_format json and a gpt-4o(-mini)-transcribe model.",
              "unsupported_parameter")
    for p in ("languages", "keywords"):
        _need(p not in req or model == "gpt-transcribe", p, f"'{p}' is only supported by "
              "gpt-transcribe.", "unsupported_parameter")
    _need(0 <= req.get("temperature", 0) <= 1, "temperature", "temperature must be between 0 and 1.")
    for code in [req.get("language"), *req.get("languages", [])]:
        _need(code is None or code in ISO_639_1, "language", f"Invalid language '{code}'. Language "
              "parameter must be specified in ISO-639-1 format.")


def rules_translation(req: dict, files: dict) -> None:
    _model(req, {"whisper-1"}, "/v1/audio/translations")
    _audio_file(files)
    _need(0 <= req.get("temperature", 0) <= 1, "temperature", "temperature must be between 0 and 1.")


def rules_speech(req: dict, files: dict) -> None:
    model = _model(req, TTS_MODELS, "/v1/audio/speech")
    voice = req["voice"]
    _need(isinstance(voice, dict) or voice in VOICES, "voice",
          f"Invalid voice '{voice}'. Supported voices: {sorted(VOICES)}")
    legacy = model in ("tts-1", "tts-1-hd")
    _need(not (legacy and "instructions" in req), "instructions",
          f"instructions are not supported with {model}.", "unsupported_parameter")
    _need(not (legacy and req.get("stream_format") == "sse"), "stream_format",
          f"stream_format 'sse' is not supported with {model}.", "unsupported_value")


def _size_ok(model: str, size: str) -> bool:
    if model in DALLE_SIZES:
        return size in DALLE_SIZES[model]
    if size in GPT_SIZES:
        return True
    if model not in GPT_IMAGE_ANY_SIZE:
        return False
    try:
        w, h = (int(x) for x in size.split("x"))
    except ValueError:
        return False
    return (w > 0 and h > 0 and w % 16 == 0 and h % 16 == 0 and 1 / 3 <= w / h <= 3
            and max(w, h) <= 3840 and w * h <= 3840 * 2160)


def _image_common(req: dict, model: str, gpt: bool) -> None:
    limit = PROMPT_MAX.get(model, 32000)
    _need(len(req.get("prompt") or "") <= limit, "prompt",
          f"prompt is {len(req.get('prompt') or '')} characters; the maximum for {model} is {limit}.",
          "string_above_max_length")
    if req.get("size") is not None:
        _need(_size_ok(model, req["size"]), "size", f"size '{req['size']}' is not supported "
              f"by {model}.", "unsupported_value")
    only_gpt = ["output_format", "output_compression", "background", "moderation",
                "partial_images", "input_fidelity"]
    for p in only_gpt:
        _need(gpt or req.get(p) is None, p, f"'{p}' is only supported for the GPT image models.",
              "unsupported_parameter")
    _need(not gpt or req.get("response_format") is None, "response_format",
          f"response_format is not supported for {model}; GPT image models always return b64_json.",
          "unsupported_parameter")
    if req.get("output_compression") is not None:
        _need(0 <= req["output_compression"] <= 100, "output_compression", "must be 0..100.")
        _need(req.get("output_format") in ("jpeg", "webp"), "output_compression",
              "output_compression needs output_format jpeg or webp.", "unsupported_parameter")
    if req.get("background") == "transparent":
        _need(req.get("output_format", "png") in ("png", "webp"), "background",
              "transparent background needs output_format png or webp.", "unsupported_value")
    q = req.get("quality")
    if q is not None:
        allowed = ({"low", "medium", "high", "auto"} if gpt else
                   {"standard", "hd", "auto"} if model == "dall-e-3" else {"standard", "auto"})
        _need(q in allowed, "quality", f"quality '{q}' is not supported by {model}.",
              "unsupported_value")
    if req.get("input_fidelity") is not None:
        _need(model != "gpt-image-1-mini", "input_fidelity", "input_fidelity is not supported "
              "by gpt-image-1-mini.", "unsupported_parameter")


def rules_generation(req: dict, files: dict) -> None:
    model = _model(req, GPT_IMAGE | {"dall-e-2", "dall-e-3"}, "/v1/images/generations")
    gpt = model in GPT_IMAGE
    _image_common(req, model, gpt)
    _need(not (model == "dall-e-3" and (req.get("n") or 1) != 1), "n",
          "dall-e-3 only supports n=1.", "unsupported_value")
    _need(model == "dall-e-3" or req.get("style") is None, "style",
          "style is only supported for dall-e-3.", "unsupported_parameter")
    _need(gpt or not req.get("stream"), "stream", "stream is only supported for the GPT image "
          "models.", "unsupported_parameter")


def _open_image(param: str, data: bytes, filename: str | None = None, ctype: str | None = None):
    """Decode an uploaded image; with filename/ctype, both must fit the decoded format."""
    from PIL import Image
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except Exception:
        raise Violation(param, f"'{param}' is not a valid image file.", "invalid_image") from None
    if filename is not None:
        mime, exts = IMAGE_TYPES.get(img.format, ("?", set()))
        ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        _need(ctype == mime, param, f"Invalid file '{param}': unsupported mimetype ('{ctype}') for "
              f"{img.format}. Supported: 'image/jpeg', 'image/png', 'image/webp'.",
              "invalid_image_format")
        _need(ext in exts, param, f"'{filename}': the extension does not fit a {img.format} image.",
              "invalid_image_format")
    return img


def rules_edit(req: dict, files: dict, file_list: list) -> None:
    model = _model(req, GPT_IMAGE | {"dall-e-2", "chatgpt-image-latest"}, "/v1/images/edits")
    gpt = model != "dall-e-2"
    _image_common(req, model, gpt)
    _need(gpt or not req.get("stream"), "stream", "stream is only supported for the GPT image "
          "models.", "unsupported_parameter")
    images = [f for f in file_list if f[0] in ("image", "image[]")]
    for _, filename, ctype, data in images:
        img = _open_image("image", data, filename, ctype)
        if gpt:
            _need(img.format in ("PNG", "WEBP", "JPEG") and len(data) < 50 * MB, "image",
                  f"'{filename}': GPT image models take png, webp or jpg under 50 MB.",
                  "invalid_image_format")
        else:
            _need(len(images) == 1, "image", "dall-e-2 takes exactly one image.")
            _need(img.format == "PNG" and len(data) < 4 * MB and img.width == img.height, "image",
                  f"'{filename}': dall-e-2 needs a square PNG under 4 MB "
                  f"(got {img.format} {img.width}x{img.height}).", "invalid_image_format")
    _need(len(images) <= 16, "image", "At most 16 images.")
    if ("mask" in files or "mask[]" in files) and images:
        mname, mtype, data = _file(files, "mask")
        mask, first = _open_image("mask", data, mname, mtype), _open_image("image", images[0][3])
        _need(mask.format == "PNG" and len(data) < 4 * MB, "mask", "mask must be a PNG under 4 MB.",
              "invalid_image_format")
        _need(mask.size == first.size, "mask", f"mask size {mask.size} differs from image size "
              f"{first.size}.", "invalid_image_dimensions")
        _need("A" in mask.getbands() or "transparency" in mask.info, "mask",
              "mask must have an alpha channel.", "invalid_image_format")


def rules_variation(req: dict, files: dict) -> None:
    _model(req, {"dall-e-2"}, "/v1/images/variations")
    filename, ctype, data = _file(files, "image")
    img = _open_image("image", data, filename, ctype)
    _need(img.format == "PNG" and len(data) < 4 * MB and img.width == img.height, "image",
          "image must be a square PNG under 4 MB.", "invalid_image_format")


def rules_chat(req: dict, files: dict) -> None:
    _need(bool(req.get("model")), "model", "you must provide a model parameter",
          "missing_required_parameter")


# ---------------------------------------------------------------- realistic answers

def tone_pcm(seconds: float, rate: int = 24000, freq: float = 440.0) -> bytes:
    """Raw s16le mono sine tone (the API's pcm format is 24 kHz s16le)."""
    import numpy as np
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * math.pi * freq * t) * 8000).astype("<i2").tobytes()


def speech_bytes(fmt: str, seconds: float) -> bytes:
    pcm = tone_pcm(seconds)
    if fmt in ("wav", "flac"):
        import numpy as np
        import soundfile
        buf = io.BytesIO()
        soundfile.write(buf, np.frombuffer(pcm, "<i2"), 24000, format=fmt.upper(),
                        subtype="PCM_16")
        return buf.getvalue()
    if fmt == "pcm":
        return pcm
    frame = {"mp3": b"\xff\xfb\x90\x64" + bytes(413),          # MPEG-1 L3 128k 44.1k frames
             "opus": b"OggS\x00\x02" + bytes(22) + b"OpusHead\x01\x01",
             "aac": b"\xff\xf1\x50\x80\x02\x1f\xfc" + bytes(9)}[fmt]
    return frame * max(4, int(seconds * 38))


_IMAGE_CACHE: dict[tuple, bytes] = {}


def image_bytes(size: str | None, fmt: str = "png", transparent: bool = False) -> bytes:
    """A real image of the requested size (solid colour; `auto`/None -> 1024x1024)."""
    from PIL import Image
    w, h = (1024, 1024) if size in (None, "auto") else (int(x) for x in size.split("x"))
    key = (w, h, fmt, transparent)
    if key not in _IMAGE_CACHE:
        mode = "RGBA" if transparent and fmt != "jpeg" else "RGB"
        img = Image.new(mode, (w, h), (0, 0, 0, 0) if mode == "RGBA" else (70, 130, 180))
        buf = io.BytesIO()
        img.save(buf, format={"jpeg": "JPEG", "webp": "WEBP"}.get(fmt, "PNG"))
        _IMAGE_CACHE[key] = buf.getvalue()
    return _IMAGE_CACHE[key]


def _sse(events: list[tuple[str | None, Any]]) -> list[bytes]:
    out = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data)
        out.append(((f"event: {name}\n" if name else "") + f"data: {text}\n\n").encode())
    return out


def _ts(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


LANGUAGES = {"en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian",
             "nl": "dutch", "pt": "portuguese", "ja": "japanese", "zh": "chinese"}


def transcription_reply(req: dict, data: bytes, text: str, translate: bool) -> Reply:
    fmt = req.get("response_format", "json")
    model = req["model"]
    duration = round(audio_duration(data) or 1.0, 3)
    if fmt == "text":
        return Reply(body=(text + "\n").encode(), content_type="text/plain; charset=utf-8")
    if fmt == "srt":
        srt = f"1\n{_ts(0, ',')} --> {_ts(duration, ',')}\n{text}\n\n"
        return Reply(body=srt.encode(), content_type="text/plain; charset=utf-8")
    if fmt == "vtt":
        vtt = f"WEBVTT\n\n{_ts(0, '.')} --> {_ts(duration, '.')}\n{text}\n\n"
        return Reply(body=vtt.encode(), content_type="text/vtt; charset=utf-8")
    usage = ({"type": "duration", "seconds": math.ceil(duration)} if model == "whisper-1" else
             {"type": "tokens", "input_tokens": 20, "output_tokens": len(text.split()) + 1,
              "total_tokens": 21 + len(text.split()),
              "input_token_details": {"text_tokens": 0, "audio_tokens": 20}})
    if fmt == "verbose_json":
        words = text.split() or [""]
        step = duration / len(words)
        out: dict[str, Any] = {
            "task": "translate" if translate else "transcribe",
            "language": "english" if translate else LANGUAGES.get(req.get("language", "en"),
                                                                  "english"),
            "duration": duration, "text": text, "usage": usage}
        grans = req.get("timestamp_granularities", ["segment"])
        if "segment" in grans:
            out["segments"] = [{"id": 0, "seek": 0, "start": 0.0, "end": duration, "text": " " + text,
                                "tokens": [50364, *range(1000, 1000 + len(words)), 50257],
                                "temperature": float(req.get("temperature", 0.0)),
                                "avg_logprob": -0.25, "compression_ratio": 0.9,
                                "no_speech_prob": 0.01}]
        if "word" in grans:
            out["words"] = [{"word": w, "start": round(i * step, 3), "end": round((i + 1) * step, 3)}
                            for i, w in enumerate(words)]
        return Reply(json=out)
    if fmt == "diarized_json":
        return Reply(json={"task": "transcribe", "duration": duration, "text": text, "usage": usage,
                           "segments": [{"type": "transcript.text.segment", "id": "seg_0",
                                         "start": 0.0, "end": duration, "text": text,
                                         "speaker": "A"}]})
    logprobs = [{"token": w, "logprob": -0.1, "bytes": list(w.encode())} for w in text.split()]
    if req.get("stream") and model != "whisper-1":
        events = [(None, {"type": "transcript.text.delta", "delta": (" " if i else "") + w})
                  for i, w in enumerate(text.split())]
        done = {"type": "transcript.text.done", "text": text, "usage": usage}
        if "logprobs" in req.get("include", []):
            done["logprobs"] = logprobs
        return Reply(chunks=_sse(events + [(None, done)]), content_type="text/event-stream")
    out = {"text": text, "usage": usage}
    if "logprobs" in req.get("include", []):
        out["logprobs"] = logprobs
    return Reply(json=out)


def speech_reply(req: dict) -> Reply:
    fmt = req.get("response_format", "mp3")
    seconds = min(3.0, 0.3 + 0.04 * len(req["input"]))
    audio = speech_bytes(fmt, seconds)
    if req.get("stream_format") == "sse":
        events = [(None, {"type": "speech.audio.delta",
                          "audio": base64.b64encode(audio[i:i + 8192]).decode()})
                  for i in range(0, len(audio), 8192)]
        events.append((None, {"type": "speech.audio.done", "usage": {
            "input_tokens": len(req["input"]) // 4 + 1, "output_tokens": 50,
            "total_tokens": len(req["input"]) // 4 + 51}}))
        return Reply(chunks=_sse(events), content_type="text/event-stream")
    ctype = {"mp3": "audio/mpeg", "opus": "audio/ogg", "aac": "audio/aac", "flac": "audio/flac",
             "wav": "audio/wav", "pcm": "audio/pcm"}[fmt]
    size = max(1024, len(audio) // 4)
    return Reply(chunks=[audio[i:i + size] for i in range(0, len(audio), size)],
                 content_type=ctype)


def images_reply(req: dict, model: str, kind: str, store: Callable[[bytes], str]) -> Reply:
    gpt = model in GPT_IMAGE or model == "chatgpt-image-latest"
    fmt = (req.get("output_format") or "png") if gpt else "png"
    size = req.get("size") or "1024x1024"
    transparent = req.get("background") == "transparent"
    png = image_bytes(size, fmt, transparent)
    n = req.get("n") or 1
    now = int(time.time())
    quality = req.get("quality") or "auto"
    meta = {"size": size if size in ("1024x1024", "1024x1536", "1536x1024") else "auto",
            "quality": quality if quality in ("low", "medium", "high") else "auto",
            "background": req.get("background") or "auto", "output_format": fmt}
    usage = {"input_tokens": 50, "output_tokens": 1056, "total_tokens": 1106,
             "input_tokens_details": {"text_tokens": 50, "image_tokens": 0}}
    if gpt and req.get("stream"):
        prefix = "image_generation" if kind == "generations" else "image_edit"
        b64 = base64.b64encode(png).decode()
        events = [(f"{prefix}.partial_image", {"type": f"{prefix}.partial_image", "b64_json": b64,
                                               "created_at": now, "partial_image_index": i, **meta})
                  for i in range(req.get("partial_images") or 0)]
        events.append((f"{prefix}.completed", {"type": f"{prefix}.completed", "b64_json": b64,
                                               "created_at": now, "usage": usage, **meta}))
        return Reply(chunks=_sse(events), content_type="text/event-stream")
    if gpt or req.get("response_format") == "b64_json":
        data = [{"b64_json": base64.b64encode(png).decode()} for _ in range(n)]
    else:
        data = [{"url": store(png)} for _ in range(n)]
    if model == "dall-e-3":
        for item in data:
            item["revised_prompt"] = req.get("prompt", "")
    body: dict[str, Any] = {"created": now, "data": data}
    if gpt:
        body.update({k: v for k, v in meta.items() if v != "auto"}, usage=usage)
    return Reply(json=body)


def chat_reply(req: dict, text: str) -> Reply:
    cid, now, model = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time()), req["model"]
    usage = {"prompt_tokens": 12, "completion_tokens": len(text.split()) + 1,
             "total_tokens": 13 + len(text.split())}
    if req.get("stream"):
        base = {"id": cid, "object": "chat.completion.chunk", "created": now, "model": model}
        # word by word, as a real model streams (a client may speak each sentence as it completes)
        deltas = [{"role": "assistant", "content": ""}] + [{"content": w} for w in re.findall(r"\S+\s*", text)]
        events = [(None, {**base, "choices": [{"index": 0, "delta": d, "finish_reason": None,
                                               "logprobs": None}]}) for d in deltas]
        events.append((None, {**base, "choices": [{"index": 0, "delta": {}, "logprobs": None,
                                                   "finish_reason": "stop"}]}))
        return Reply(chunks=_sse(events + [(None, "[DONE]")]), content_type="text/event-stream")
    return Reply(json={"id": cid, "object": "chat.completion", "created": now, "model": model,
                       "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                                    "message": {"role": "assistant", "content": text,
                                                "refusal": None, "annotations": []}}],
                       "usage": usage})


def models_reply() -> Reply:
    ids = sorted(TRANSCRIBE_MODELS | TTS_MODELS | GPT_IMAGE | {"dall-e-2", "dall-e-3", "gpt-4o-mini"})
    return Reply(json={"object": "list", "data": [
        {"id": i, "object": "model", "created": 1700000000, "owned_by": "system"} for i in ids]})


# ---------------------------------------------------------------- fault injection

OPERATIONS = {"speech": "/audio/speech", "transcription": "/audio/transcriptions",
              "translation": "/audio/translations", "chat": "/chat/completions",
              "generate": "/images/generations", "edit": "/images/edits",
              "variation": "/images/variations"}
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 502, 503, 504)
GARBAGE_KINDS = ("html", "json", "badjson", "empty", "random", "notimage")
FAULT_KINDS: tuple[str | int, ...] = (*GARBAGE_KINDS, "truncated", "reset", "trickle", *ERROR_STATUSES)
_ERROR_TYPES = {400: ("invalid_request_error", None), 401: ("invalid_request_error", "invalid_api_key"),
                403: ("invalid_request_error", "unsupported_country_region_territory"),
                404: ("invalid_request_error", "model_not_found"), 409: ("invalid_request_error", None),
                413: ("invalid_request_error", "request_too_large"),
                415: ("invalid_request_error", "unsupported_media_type"),
                422: ("invalid_request_error", None), 429: ("rate_limit_error", "rate_limit_exceeded"),
                500: ("server_error", None), 502: ("server_error", None), 503: ("server_error", None),
                504: ("server_error", None)}


def kinds_for(operation: str) -> tuple[str | int, ...]:
    """The fault kinds that make sense for ``operation`` ("notimage" only for image operations)."""
    image = (OPERATIONS.get(operation) or operation).startswith("/images/")
    return tuple(k for k in FAULT_KINDS if image or k != "notimage")


def _flat(reply: Reply) -> Reply:
    """The same answer as one body (chunks joined) so it can be cut or trickled."""
    body = reply.body
    if reply.json is not None:
        body = json.dumps(reply.json).encode()
    elif reply.chunks is not None:
        body = b"".join(reply.chunks)
    ctype = reply.content_type or ("application/json" if reply.json is not None else None)
    return Reply(status=reply.status, body=body or b"", content_type=ctype, headers=reply.headers)


@dataclass(frozen=True)
class Fault:
    """One scripted fault for one valid request (``StandIn.fault``). Options:
    ``retry_after`` (429: the Retry-After header, seconds, default "0"), ``retry_after_ms`` (any
    status: the retry-after-ms header), ``seed``/``size`` (random bytes),
    ``piece``/``every`` (trickle: bytes per piece, seconds between pieces), ``keep`` (truncated:
    the share of the body sent, default 0.5)."""

    kind: str | int
    endpoint: str
    options: dict = field(default_factory=dict)

    def apply(self, answer: Callable[[], Reply], store: Callable[[bytes], str]) -> Reply:
        kind, opt = self.kind, self.options
        audio = self.endpoint == "/audio/speech"
        image = self.endpoint.startswith("/images/")
        if isinstance(kind, int):
            etype, code = _ERROR_TYPES[kind]
            headers = {"Retry-After": str(opt.get("retry_after", "0"))} if kind == 429 else {}
            if "retry_after_ms" in opt:   # the SDK's own hint, honoured on any retried status
                headers["retry-after-ms"] = str(opt["retry_after_ms"])
            return Reply(status=kind, json=_error_body(f"injected fault: HTTP {kind}", None, code, etype),
                         headers=headers)
        if kind == "html":
            return Reply(body=b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway"
                              b"</h1></body></html>\n", content_type="text/html; charset=utf-8")
        if kind == "json":   # JSON, but not what the operation answers
            if image:
                return Reply(json={"created": int(time.time()), "data": []})
            return Reply(json={"status": "ok", "result": None})
        if kind == "badjson":
            return Reply(body=b'{"text": "hel', content_type="application/json")
        if kind == "empty":
            ctype = _flat(answer()).content_type
            return Reply(body=b"", content_type=ctype)
        if kind == "random":
            import random
            noise = random.Random(opt.get("seed", 17)).randbytes(int(opt.get("size", 4097)))
            return Reply(body=noise, content_type=_flat(answer()).content_type if audio else
                         "application/json")
        if kind == "notimage":   # a well-formed images answer whose payload is not an image
            if not image:
                raise ValueError("'notimage' is a fault of the image operations")
            junk = b"this is not an image at all"
            return Reply(json={"created": int(time.time()),
                               "data": [{"b64_json": base64.b64encode(junk).decode()}]})
        whole = _flat(answer())
        if kind == "truncated":
            keep = int(len(whole.body) * float(opt.get("keep", 0.5)))
            return Reply(status=whole.status, body=whole.body[:keep], content_type=whole.content_type,
                         headers=whole.headers, declared_length=len(whole.body))
        if kind == "reset":
            return Reply(reset=True)
        if kind == "trickle":
            piece = int(opt.get("piece", 256))
            return Reply(status=whole.status, content_type=whole.content_type, headers=whole.headers,
                         chunks=[whole.body[i:i + piece] for i in range(0, len(whole.body), piece)],
                         chunk_delay=float(opt.get("every", 0.01)))
        raise ValueError(f"unknown fault {kind!r}")


# ---------------------------------------------------------------- server

FILE_FIELDS = {"/audio/transcriptions": ["file"], "/audio/translations": ["file"],
               "/images/edits": ["image", "mask"], "/images/variations": ["image"]}


class StandIn:
    """Strict OpenAI stand-in; use as a context manager (starts/stops the server thread)."""

    def __init__(self, spec_path: str | Path | None = None, latency: float = 0.0):
        self.spec_path = Path(spec_path) if spec_path else default_spec_path()
        self.latency = latency
        self.transcript_text = "hello world"
        self.chat_text = "Hello."
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.files: dict[str, bytes] = {}
        self._scripts: dict[str, list[Reply | Fault]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        load_spec(self.spec_path)

    # -- lifecycle
    def __enter__(self) -> "StandIn":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"standin": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def origin(self) -> str:
        assert self._server, "StandIn is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    # -- test controls
    def script(self, path: str, replies: list[Reply]) -> None:
        with self._lock:
            self._scripts.setdefault(_endpoint(path), []).extend(replies)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.violations.clear()
            self._scripts.clear()

    def fault(self, operation: str, kind: str | int, times: int = 1, **options: Any) -> None:
        """Answer the next ``times`` valid requests of ``operation`` (see OPERATIONS; an endpoint
        path works too) with fault ``kind`` (see FAULT_KINDS; an int is an error status).
        Requests are still validated first; an invalid request never consumes a fault."""
        endpoint = OPERATIONS.get(operation) or _endpoint(operation)
        if endpoint not in REQUEST_SCHEMAS:
            raise ValueError(f"unknown operation {operation!r}; use one of {', '.join(OPERATIONS)}")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; use one of {', '.join(map(str, FAULT_KINDS))}")
        self.script(endpoint, [Fault(kind, endpoint, options)] * times)

    def _next_script(self, endpoint: str) -> "Reply | Fault | None":
        with self._lock:
            queue = self._scripts.get(endpoint)
            return queue.pop(0) if queue else None

    def _store(self, data: bytes) -> str:
        fid = uuid.uuid4().hex
        self.files[fid] = data
        return f"{self.origin}/files/{fid}.png"

    # -- request handling (pure apart from recording)
    def handle(self, rec: Recorded) -> Reply:
        try:
            answer = self._dispatch(rec, rec.endpoint)
            scripted = self._next_script(rec.endpoint) if rec.path.startswith("/v1/") else None
            if isinstance(scripted, Fault):
                return scripted.apply(answer, self._store)
            return scripted or answer()
        except Violation as v:
            status = {"invalid_api_key": 401, "unknown_url": 404}.get(v.code, 400)
            return self._reject(rec, v, status)
        except Exception as exc:   # a stand-in bug must fail the test visibly, not drop the link
            return self._reject(rec, Violation(None, f"stand-in internal error: {exc!r}",
                                               "standin_error"), 500)

    def _reject(self, rec: Recorded, v: Violation, status: int) -> Reply:
        msg = f"{rec.method} {rec.endpoint} {v.param}: {v.message}"
        rec.violations.append(msg)
        with self._lock:
            self.violations.append(msg)
        kind = "server_error" if status == 500 else "invalid_request_error"
        return Reply(status=status, json=_error_body(v.message, v.param, v.code, kind))

    def _dispatch(self, rec: Recorded, endpoint: str) -> Callable[[], Reply]:
        if rec.method == "GET" and rec.path.startswith("/files/"):
            data = self.files.get(rec.path[7:].removesuffix(".png"))
            if data is None:
                raise Violation(None, f"No such file {rec.path}", "unknown_url")
            return lambda: Reply(body=data, content_type="image/png")
        if not rec.path.startswith("/v1/"):
            raise Violation(None, f"Invalid URL ({rec.method} {rec.path})", "unknown_url")
        auth = rec.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or len(auth) <= 7:
            raise Violation(None, "You didn't provide an API key (Authorization: Bearer).",
                            "invalid_api_key")
        if rec.method == "GET" and endpoint == "/models":
            return models_reply
        schema = REQUEST_SCHEMAS.get(endpoint)
        if rec.method != "POST" or schema is None:
            raise Violation(None, f"Invalid URL ({rec.method} {rec.path})", "unknown_url")
        ctype = rec.headers.get("content-type", "")
        multipart = endpoint in FILE_FIELDS
        if multipart:
            if not ctype.startswith("multipart/form-data"):
                raise Violation(None, f"{endpoint} needs multipart/form-data, got '{ctype}'.",
                                "invalid_content_type")
            rec.form, rec.files, rec.file_list = parse_multipart(ctype, rec.raw)
            doc = load_spec(self.spec_path)
            for name in FILE_FIELDS[endpoint]:
                if name in rec.form or name + "[]" in rec.form:
                    raise Violation(name, f"'{name}' must be uploaded as a file (with a filename).",
                                    "invalid_file")
            req = rec.params = form_to_instance(doc, schema, rec.form, rec.file_list)
        else:
            if not ctype.startswith("application/json"):
                raise Violation(None, f"{endpoint} needs application/json, got '{ctype}'.",
                                "invalid_content_type")
            try:
                rec.json = json.loads(rec.raw or b"null")
            except ValueError:
                raise Violation(None, "We could not parse the JSON body of your request.",
                                "invalid_json") from None
            req = rec.json
        rec.params = req if isinstance(req, dict) else None
        errors = schema_violations(schema, req, self.spec_path)
        if errors:
            raise errors[0] if len(errors) == 1 else Violation(
                errors[0].param, "; ".join(f"{e.param}: {e.message}" for e in errors), errors[0].code)
        if not isinstance(req, dict):
            raise Violation(None, "Request body must be a JSON object.")
        known = _properties(load_spec(self.spec_path), {"$ref": f"#/components/schemas/{schema}"})
        for name in sorted(set(req) - set(known)):
            raise Violation(name, f"Unrecognized request argument supplied: {name}",
                            "unknown_parameter")
        return self._rules(endpoint, req, rec)

    def _rules(self, endpoint: str, req: dict, rec: Recorded) -> Callable[[], Reply]:
        if endpoint == "/audio/transcriptions":
            rules_transcription(req, rec.files)
            return lambda: transcription_reply(req, _file(rec.files, "file")[2], self.transcript_text,
                                               False)
        if endpoint == "/audio/translations":
            rules_translation(req, rec.files)
            return lambda: transcription_reply(req, _file(rec.files, "file")[2], self.transcript_text,
                                               True)
        if endpoint == "/audio/speech":
            rules_speech(req, rec.files)
            return lambda: speech_reply(req)
        if endpoint == "/images/generations":
            rules_generation(req, rec.files)
            return lambda: images_reply(req, req["model"], "generations", self._store)
        if endpoint == "/images/edits":
            rules_edit(req, rec.files, rec.file_list)
            return lambda: images_reply(req, req["model"], "edits", self._store)
        if endpoint == "/images/variations":
            rules_variation(req, rec.files)
            return lambda: images_reply(req, "dall-e-2", "variations", self._store)
        rules_chat(req, rec.files)
        return lambda: chat_reply(req, self.chat_text)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client that resets or drops its connection (as the fault tests do) is not an error."""
        import sys
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def _endpoint(path: str) -> str:
    path = "/" + path.lstrip("/")
    return path[3:] if path.startswith("/v1/") else path


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60   # idle keep-alive connections close after this
    standin: StandIn

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                chunk = self.rfile.read(size + 2)[:size]
                if not size:
                    return out
                out += chunk
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        raw = self._read_body()
        srv = self.standin
        rec = Recorded(method=self.command, path=self.path.split("?")[0],
                       headers={k.lower(): v for k, v in self.headers.items()},
                       json=None, form={}, files={}, raw=raw)
        with srv._lock:
            srv.requests.append(rec)
        reply = srv.handle(rec)
        time.sleep(srv.latency + reply.delay)
        if reply.reset:
            self._reset()
            return
        try:
            self._send(reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _reset(self) -> None:
        """Drop the connection with a TCP RST (SO_LINGER 0) and no answer at all."""
        import socket
        import struct
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def _send(self, reply: Reply) -> None:
        body = reply.body
        ctype = reply.content_type
        if reply.json is not None:
            body, ctype = json.dumps(reply.json).encode(), ctype or "application/json"
        extra = {k.lower(): v for k, v in (reply.headers or {}).items()}
        self.send_response(reply.status)
        self.send_header("Content-Type", extra.get("content-type") or ctype
                         or "application/octet-stream")
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
        for key, value in (reply.headers or {}).items():
            if key.lower() != "content-type":   # set once, above
                self.send_header(key, value)
        if reply.chunks is not None:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in reply.chunks:
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                    time.sleep(reply.chunk_delay)
            self.wfile.write(b"0\r\n\r\n")
        else:
            body = body or b""
            declared = reply.declared_length
            self.send_header("Content-Length", str(len(body) if declared is None else declared))
            self.end_headers()
            self.wfile.write(body)
            if declared is not None and declared > len(body):
                self.wfile.flush()
                self.close_connection = True   # the client waits for bytes that never come
        self.wfile.flush()


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["--write-subset"]:
        subset = build_subset(json.loads(FULL_SPEC.read_text()))
        SUBSET_SPEC.parent.mkdir(parents=True, exist_ok=True)
        schemas = subset["components"].pop("schemas")
        lines = ",\n".join(f"{json.dumps(k)}: {json.dumps(v, sort_keys=True)}"
                           for k, v in schemas.items())     # one schema per line for diffs
        SUBSET_SPEC.write_text(f'{{"openapi": {json.dumps(subset["openapi"])},\n"info": '
                               f'{json.dumps(subset["info"])},\n"components": {{"schemas": {{\n'
                               f'{lines}\n}}}}}}\n')
        print(f"wrote {SUBSET_SPEC} ({SUBSET_SPEC.stat().st_size} bytes)")
    else:
        sys.exit("usage: python -m tests.standin --write-subset")
