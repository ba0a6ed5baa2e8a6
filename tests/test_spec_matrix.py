"""Request compliance matrix: the real CLI commands against the strict stand-in (full spec + prose).

Every case runs `assistant …` in-process (CliRunner, --config pointing stt/tts/images at the
stand-in, OPENAI_API_KEY set), then checks that the stand-in saw no violation and that each
request carried exactly the expected fields (so forbidden fields are absent).
"""
from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from PIL import Image

from assistant.cli import main
from tests.standin import StandIn

pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")

DIARIZE = "gpt-4o-transcribe-diarize"
STT_MODELS = ["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe",
              "gpt-4o-mini-transcribe-2025-12-15", "gpt-transcribe", DIARIZE]
STT_FORMATS = ["json", "text", "srt", "vtt", "verbose_json"]


@pytest.fixture(scope="module")
def srv():
    with StandIn() as server:
        yield server


@pytest.fixture
def cli(srv, tmp_path, monkeypatch):
    """run(*args, config="") -> (result, requests); asserts the stand-in saw no violation."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    sections = "".join(f'[{s}]\nbase_url = "{srv.base_url}"\nmax_retries = 0\n'
                       for s in ("stt", "tts", "images"))

    def run(*args, config: str = ""):
        conf = tmp_path / "config.toml"
        extra = {}
        for line in config.splitlines():     # "images.partial_images = 2" style lines
            key, _, value = line.partition("=")
            section, _, name = key.strip().partition(".")
            extra.setdefault(section, []).append(f"{name} = {value.strip()}")
        text = sections
        for section, lines in extra.items():
            text = text.replace(f"[{section}]\n", f"[{section}]\n" + "\n".join(lines) + "\n")
        conf.write_text(text)
        srv.reset()
        result = CliRunner().invoke(main, ["--config", str(conf), *map(str, args)])
        assert srv.violations == [], srv.violations
        assert "Traceback" not in result.output
        return result, list(srv.requests)

    return run


def sent(req) -> dict:
    """The request's fields without file parts and without the (long) text inputs."""
    return {k: v for k, v in (req.params or {}).items()
            if k not in ("file", "image", "mask", "prompt", "input")}


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("audio") / "talk.wav"
    t = np.arange(8000) / 16000
    sf.write(path, (np.sin(2 * np.pi * 220 * t) * 3000).astype(np.int16), 16000)
    return path


# ---------------------------------------------------------------- speech to text

def _expected_stt(model: str, fmt: str) -> dict:
    timestamps = fmt in ("srt", "vtt", "verbose_json")
    used = model if model == "whisper-1" or not timestamps else "whisper-1"  # stt.timestamps_model
    out: dict = {"model": used, "response_format": "verbose_json" if timestamps else "json",
                 "language": "ko"}
    if timestamps:
        out["timestamp_granularities"] = ["segment"]
    if used == DIARIZE:
        out["chunking_strategy"] = "auto"
    return out


@pytest.mark.parametrize("model", STT_MODELS)
@pytest.mark.parametrize("fmt", STT_FORMATS)
def test_transcribe_format_x_model(cli, speech_wav, model, fmt):
    prompt = [] if model == DIARIZE else ["--prompt", "kitchen, Hue"]
    result, reqs = cli("transcribe", speech_wav, "--backend", "openai", "--model", model,
                       "--format", fmt, "--language", "ko", *prompt)
    assert result.exit_code == 0, result.output
    [req] = reqs
    assert req.endpoint == "/audio/transcriptions"
    expected = _expected_stt(model, fmt)
    if prompt and expected["model"] != DIARIZE:
        expected["prompt"] = "kitchen, Hue"
        assert req.params["prompt"] == "kitchen, Hue"
    assert sent(req) == {k: v for k, v in expected.items() if k != "prompt"}
    assert ("prompt" in req.params) == ("prompt" in expected)
    assert req.files["file"][:2] == ("talk.wav", "audio/wav")
    assert result.stdout.startswith({"json": '{"text"', "text": "hello world", "srt": "1\n",
                                     "vtt": "WEBVTT", "verbose_json": "{"}[fmt])


def test_transcribe_diarize_prompt_is_refused_before_sending(cli, speech_wav):
    result, reqs = cli("transcribe", speech_wav, "--backend", "openai", "--model", DIARIZE,
                       "--prompt", "x")
    assert result.exit_code == 2 and "prompt" in result.output and reqs == []


@pytest.mark.parametrize("given,sent_code", [("ko", "ko"), ("English", "en"), ("jw", "jv"),
                                             ("haw", None), ("yue", None)])
def test_transcribe_language_is_iso_639_1(cli, speech_wav, given, sent_code):
    result, [req] = cli("transcribe", speech_wav, "--backend", "openai", "--model", "whisper-1",
                        "--language", given)
    assert result.exit_code == 0, result.output
    assert req.params.get("language") == sent_code


@pytest.mark.parametrize("fmt,resp", [("text", "json"), ("srt", "verbose_json"),
                                      ("verbose_json", "verbose_json")])
def test_translate_whisper_endpoint(cli, speech_wav, fmt, resp):
    result, [req] = cli("transcribe", speech_wav, "--backend", "openai", "--translate",
                        "--format", fmt, "--language", "ko", "--prompt", "Seoul")
    assert result.exit_code == 0, result.output
    assert req.endpoint == "/audio/translations"
    # no language (not a translations field), no timestamp_granularities (transcriptions only)
    assert sent(req) == {"model": "whisper-1", "response_format": resp}
    assert req.params["prompt"] == "Seoul"


def test_translate_other_model_falls_back_to_chat(cli, speech_wav):
    result, reqs = cli("transcribe", speech_wav, "--backend", "openai", "--translate",
                       config='stt.translate_model = "gpt-4o-transcribe"')
    assert result.exit_code == 0, result.output
    assert [r.endpoint for r in reqs] == ["/audio/transcriptions", "/chat/completions"]
    assert sent(reqs[0]) == {"model": "gpt-4o-mini-transcribe", "response_format": "json"}
    assert reqs[1].json["model"] == "gpt-4o-mini"


def test_detect_language_asks_whisper_for_verbose_json(cli, speech_wav):
    result, [req] = cli("transcribe", speech_wav, "--backend", "openai", "--detect-language")
    assert result.exit_code == 0, result.output
    assert sent(req) == {"model": "whisper-1", "response_format": "verbose_json",
                         "timestamp_granularities": ["segment"]}


# ---------------------------------------------------------------- multipart uploads

def _stub(kind: str) -> bytes:
    """Leading bytes of containers we send as they are (the stand-in checks only these)."""
    return {"m4a": b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00" + bytes(64),
            "mp4": b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00" + bytes(64),
            "webm": b"\x1aE\xdf\xa3\x9fB\x86\x81\x01" + bytes(64)}[kind]


def _write_audio(path, kind: str) -> bytes:
    pcm = (np.sin(np.arange(8000) / 4) * 3000).astype(np.int16)
    if kind in ("m4a", "mp4", "webm"):
        path.write_bytes(_stub(kind))
    else:
        fmt, sub = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16"), "mp3": ("MP3", None),
                    "ogg": ("OGG", "VORBIS"), "opus": ("OGG", "OPUS"), "aiff": ("AIFF", "PCM_16")}[kind]
        if fmt not in sf.available_formats():
            pytest.skip(f"this libsndfile cannot write {fmt}")
        sf.write(path, pcm, 16000, format=fmt, subtype=sub)
    return path.read_bytes()


@pytest.mark.parametrize("name,kind,upload", [
    ("talk.wav", "wav", ("talk.wav", "audio/wav")),
    ("talk.flac", "flac", ("talk.flac", "audio/flac")),
    ("memo.mp3", "mp3", ("memo.mp3", "audio/mpeg")),
    ("memo.ogg", "ogg", ("memo.ogg", "audio/ogg")),
    ("Voice Memo.m4a", "m4a", ("Voice Memo.m4a", "audio/mp4")),
    ("clip.mp4", "mp4", ("clip.mp4", "audio/mp4")),
    ("call.webm", "webm", ("call.webm", "audio/webm")),
    ("TALK.MP3", "mp3", ("TALK.MP3", "audio/mpeg")),
    ("녹음 메모.m4a", "m4a", ("audio.m4a", "audio/mp4")),     # ASCII name, same extension
    ('say "hi".ogg', "ogg", ("audio.ogg", "audio/ogg")),
    ("note.opus", "opus", ("audio.flac", "audio/flac")),     # not an API format: re-encoded
    ("note.aiff", "aiff", ("audio.flac", "audio/flac")),
])
def test_audio_upload_name_and_type(cli, tmp_path, name, kind, upload):
    path = tmp_path / name
    data = _write_audio(path, kind)
    result, [req] = cli("transcribe", path, "--backend", "openai", "--model", "whisper-1")
    assert result.exit_code == 0, result.output
    filename, ctype, body = req.files["file"]
    assert (filename, ctype) == upload
    if upload[1] != "audio/flac" or kind == "flac":
        assert body == data          # sent as the user's own file, unchanged
    else:
        assert sf.info(io.BytesIO(body)).samplerate == 16000


def test_mp3_is_sent_when_libsndfile_cannot_read_mp3(cli, tmp_path, monkeypatch):
    """libsndfile < 1.1 has no MP3: the file is sent as it is, not refused as 'not a valid mp3'."""
    path = tmp_path / "old.mp3"
    path.write_bytes(b"\xff\xfb\x90\x64" + bytes(413))
    monkeypatch.setattr(sf, "available_formats",
                        lambda: {k: v for k, v in sf._formats.items() if k != "MP3"})
    result, [req] = cli("transcribe", path, "--backend", "openai", "--model", "whisper-1")
    assert result.exit_code == 0, result.output
    assert req.files["file"][:2] == ("old.mp3", "audio/mpeg")


@pytest.fixture
def big_m4a(tmp_path, monkeypatch):
    """A real m4a (ffmpeg) that counts as over the upload limit (max_bytes lowered to fit)."""
    import shutil
    import subprocess

    from assistant.stt.openai import OpenAITranscriber

    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg not installed")
    path = tmp_path / "meeting.m4a"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    "anoisesrc=d=2:c=pink:a=0.05", "-ac", "2", "-ar", "48000", "-c:a", "aac",
                    "-b:a", "256k", str(path)], check=True)
    monkeypatch.setattr(OpenAITranscriber, "max_bytes", path.stat().st_size - 1)
    return path


def test_m4a_over_the_limit_is_converted_with_ffmpeg(cli, big_m4a):
    result, reqs = cli("transcribe", big_m4a, "--backend", "openai", "--model", "whisper-1")
    assert result.exit_code == 0, result.output
    assert reqs and all(r.files["file"][1] == "audio/flac" for r in reqs)
    frames = sum(sf.info(io.BytesIO(r.files["file"][2])).frames for r in reqs)
    assert abs(frames - 32000) < 1600        # 2 s at 16 kHz (plus the AAC encoder's priming)


def test_m4a_over_the_limit_without_ffmpeg_is_one_line(cli, big_m4a, monkeypatch):
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    result, reqs = cli("transcribe", big_m4a, "--backend", "openai")
    assert result.exit_code == 2 and "ffmpeg" in result.output and reqs == []
    assert len(result.output.strip().splitlines()) == 1


# ---------------------------------------------------------------- text to speech

def _say(cli, tmp_path, *args, out="x.mp3", config=""):
    target = tmp_path / out
    result, reqs = cli("say", *args, "--backend", "openai", "--no-play", "--out", target,
                       config=config)
    assert result.exit_code == 0, result.output
    assert target.is_file() and target.stat().st_size > 0
    return reqs


@pytest.mark.parametrize("model,voice", [("tts-1", "nova"), ("tts-1-hd", "nova"),
                                         *[("tts-1", v) for v in ("alloy", "echo", "fable", "onyx",
                                                                  "shimmer")]])
def test_say_tutorial_models_and_voices(cli, tmp_path, model, voice):
    [req] = _say(cli, tmp_path, "Hello there.", "--model", model, "--voice", voice)
    assert req.json == {"model": model, "input": "Hello there.", "voice": voice, "speed": 1.0,
                        "response_format": "mp3"}


@pytest.mark.parametrize("voice", ["alloy", "ash", "ballad", "coral", "echo", "fable", "onyx",
                                   "nova", "sage", "shimmer", "verse", "marin", "cedar"])
def test_say_every_spec_voice_with_gpt_4o_mini_tts(cli, tmp_path, voice):
    [req] = _say(cli, tmp_path, "Hi.", "--model", "gpt-4o-mini-tts", "--voice", voice, out="v.wav")
    assert req.json["voice"] == voice and req.json["response_format"] == "wav"


@pytest.mark.parametrize("speed", ["0.7", "1.5"])
def test_say_korean_text_and_speed(cli, tmp_path, speed):
    [req] = _say(cli, tmp_path, "안녕하세요, 반갑습니다.", "--speed", speed, out="k.flac")
    assert req.json == {"model": "gpt-4o-mini-tts", "input": "안녕하세요, 반갑습니다.",
                        "voice": "alloy", "speed": float(speed), "response_format": "flac"}


def test_say_instructions_only_where_taken(cli, tmp_path):
    [req] = _say(cli, tmp_path, "Warm.", "--model", "gpt-4o-mini-tts", "--instructions",
                 "Speak warmly.")
    assert req.json["instructions"] == "Speak warmly."
    # configured instructions are dropped for tts-1 (it does not take them)
    [req] = _say(cli, tmp_path, "Plain.", "--model", "tts-1", out="p.mp3",
                 config='tts.instructions = "Speak warmly."')
    assert "instructions" not in req.json
    result, reqs = cli("say", "Plain.", "--backend", "openai", "--model", "tts-1",
                       "--instructions", "x", "--no-play")
    assert result.exit_code == 2 and reqs == []


@pytest.mark.parametrize("fmt,asked", [("mp3", "mp3"), ("opus", "opus"), ("aac", "aac"),
                                       ("flac", "flac"), ("wav", "wav"), ("pcm", "pcm"),
                                       ("ogg", "pcm")])   # ogg: pcm encoded locally
def test_say_every_response_format(cli, tmp_path, fmt, asked):
    [req] = _say(cli, tmp_path, "Format.", "--model", "tts-1-hd", out=f"f.{fmt}")
    assert req.json["response_format"] == asked and "stream_format" not in req.json


def test_say_long_text_is_split_under_the_input_limit(cli, tmp_path):
    text = " ".join(["This sentence is part of a long text."] * 130)   # ~5000 characters
    reqs = _say(cli, tmp_path, text, out="long.wav")
    assert len(reqs) == 2 and all(len(r.json["input"]) <= 4096 for r in reqs)


# ---------------------------------------------------------------- images

@pytest.mark.parametrize("args,expected", [
    (["--model", "dall-e-3", "--quality", "hd", "--style", "natural", "--size", "1792x1024"],
     {"model": "dall-e-3", "quality": "hd", "style": "natural", "size": "1792x1024",
      "response_format": "b64_json"}),
    (["--model", "dall-e-3", "--quality", "standard", "--style", "vivid", "--size", "1024x1792"],
     {"model": "dall-e-3", "quality": "standard", "style": "vivid", "size": "1024x1792",
      "response_format": "b64_json"}),
    (["--model", "dall-e-2", "--size", "256x256", "--n", "2"],
     {"model": "dall-e-2", "size": "256x256", "n": 2, "response_format": "b64_json"}),
    (["--model", "gpt-image-2", "--size", "1536x864"],
     {"model": "gpt-image-2", "size": "1536x864", "output_format": "png"}),
    (["--model", "gpt-image-2", "--size", "2048x1152", "--quality", "low"],
     {"model": "gpt-image-2", "size": "2048x1152", "quality": "low", "output_format": "png"}),
    *[(["--model", m, "--quality", "medium", "--format", "webp", "--compression", "70",
        "--background", "transparent", "--moderation", "low", "--n", "2", "--size", "1024x1536"],
       {"model": m, "quality": "medium", "output_format": "webp", "output_compression": 70,
        "background": "transparent", "moderation": "low", "n": 2, "size": "1024x1536"})
      for m in ("gpt-image-2", "gpt-image-1.5", "gpt-image-1", "gpt-image-1-mini")],
    (["--model", "gpt-image-1", "--format", "jpeg", "--background", "opaque", "--size", "auto"],
     {"model": "gpt-image-1", "output_format": "jpeg", "background": "opaque", "size": "auto"}),
])
def test_draw_fields_per_model(cli, tmp_path, args, expected):
    result, [req] = cli("draw", "a red fox", *args, "--out", tmp_path / "out/")
    assert result.exit_code == 0, result.output
    assert req.endpoint == "/images/generations" and req.json["prompt"] == "a red fox"
    assert sent(req) == expected
    assert len(result.stdout.split()) == expected.get("n", 1)


@pytest.mark.parametrize("args,option", [
    (["--model", "gpt-image-2", "--size", "1000x1000"], "--size"),   # not multiples of 16
    (["--model", "gpt-image-1", "--size", "1536x864"], "--size"),    # fixed sizes only
    (["--model", "gpt-image-2", "--style", "natural"], "--style"),
    (["--model", "gpt-image-2", "--quality", "hd"], "high"),
    (["--model", "dall-e-3", "--n", "2"], "--n"),
    (["--model", "dall-e-3", "--moderation", "low"], "--moderation"),
    (["--model", "gpt-image-1", "--compression", "50"], "--compression"),   # png: no compression
])
def test_draw_refuses_what_the_model_does_not_take(cli, args, option):
    result, reqs = cli("draw", "a fox", *args)
    assert result.exit_code == 2 and option in result.output and reqs == []


@pytest.mark.parametrize("model,streams", [("gpt-image-2", True), ("gpt-image-1-mini", True),
                                           ("dall-e-3", False)])
def test_draw_streaming_with_partial_images(cli, tmp_path, model, streams):
    result, [req] = cli("draw", "a fox", "--model", model, "--out", tmp_path / "o/",
                        config="images.partial_images = 2")
    assert result.exit_code == 0, result.output
    if streams:
        assert req.json["stream"] is True and req.json["partial_images"] == 2
        assert result.stderr.count("partial: ") == 2
    else:
        assert "stream" not in req.json and "partial_images" not in req.json


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (600, 400), (30, 90, 160)).save(path, quality=90)
    return path


@pytest.fixture
def white_mask(tmp_path):
    path = tmp_path / "mask.png"
    mask = Image.new("L", (300, 200), 0)
    mask.paste(255, (0, 0, 150, 100))
    mask.save(path)
    return path


def _png(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    return img


def test_edit_dall_e_2_with_prepared_mask(cli, tmp_path, photo, white_mask):
    result, [req] = cli("edit", photo, "add a red boat", "--model", "dall-e-2", "--mask",
                        white_mask, "--mask-mode", "white", "--out", tmp_path / "e/")
    assert result.exit_code == 0, result.output
    assert sent(req) == {"model": "dall-e-2", "size": "1024x1024", "response_format": "b64_json"}
    (iname, itype, image), (mname, mtype, mask) = req.files["image"], req.files["mask"]
    assert (iname, itype, mname, mtype) == ("image.png", "image/png", "mask.png", "image/png")
    img, msk = _png(image), _png(mask)
    assert img.size == msk.size == (1024, 1024) and len(image) < 4 * 1024 * 1024
    assert set(np.unique(np.asarray(msk.getchannel("A")))) == {0, 255}


@pytest.mark.parametrize("model,region", [("gpt-image-2", "top left"),
                                          ("gpt-image-1.5", "the bottom right corner"),
                                          ("gpt-image-1", "가운데"),
                                          ("gpt-image-1-mini", "왼쪽 위")])
def test_edit_gpt_image_with_region_mask(cli, tmp_path, photo, model, region):
    result, [req] = cli("edit", photo, "put a hat on it", "--model", model, "--region", region,
                        "--out", tmp_path / "e/")
    assert result.exit_code == 0, result.output
    fields = sent(req)
    assert fields.pop("size") == "1536x1024" and fields == {"model": model, "output_format": "png"}
    img, msk = _png(req.files["image"][2]), _png(req.files["mask"][2])
    assert img.size == msk.size == (1536, 1024)
    assert req.files["image"][:2] == ("image.png", "image/png")


def test_edit_gpt_image_2_streams_and_takes_references(cli, tmp_path, photo):
    result, [req] = cli("edit", photo, "combine them", "--model", "gpt-image-2", "--ref", photo,
                        "--region", "top left", "--out", tmp_path / "e/",
                        config="images.partial_images = 1")
    assert result.exit_code == 0, result.output
    assert req.params["stream"] is True and req.params["partial_images"] == 1
    assert [(n, c) for n, c, _ in req.files["image[]"]] == [("image.png", "image/png"),
                                                             ("image-2.png", "image/png")]


def test_edit_dall_e_3_is_refused(cli, photo):
    result, reqs = cli("edit", photo, "x", "--model", "dall-e-3", "--region", "top left")
    assert result.exit_code == 2 and reqs == []


def test_dall_e_2_variation(srv, tmp_path, photo, monkeypatch):
    """No CLI command makes variations; the service (used by the loop) does."""
    from assistant.config import load_config, with_overrides
    from assistant.images.service import ImageService

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    srv.reset()
    cfg = with_overrides(load_config(None), images={"base_url": srv.base_url, "max_retries": 0})
    result = ImageService(cfg).variation(photo, n=2, out=tmp_path / "v/")
    assert srv.violations == [] and len(result.paths) == 2
    [req] = srv.requests
    assert sent(req) == {"model": "dall-e-2", "n": 2, "size": "1024x1024",
                         "response_format": "b64_json"}
    assert req.files["image"][:2] == ("image.png", "image/png")
