from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.config import load_config, with_overrides
from assistant.errors import ConfigError
from assistant.secrets import resolve_backend

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_default_matches_documented_default():
    assert (ROOT / "config/default.toml").read_text() == (ROOT / "assistant/data/default.toml").read_text()


def test_defaults_load():
    cfg = load_config()
    assert cfg.images.model == "gpt-image-2"
    assert cfg.tts.model == "gpt-4o-mini-tts"
    assert cfg.stt.model == "gpt-4o-mini-transcribe"
    assert cfg.stt.translate_model == "whisper-1"
    assert cfg.vad.pre_roll_ms == 300 and cfg.vad.hangover_ms == 300


def test_user_file_layers_over_defaults(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[tts]\nvoice = "nova"\n')
    cfg = load_config(f)
    assert cfg.tts.voice == "nova" and cfg.tts.model == "gpt-4o-mini-tts"


def test_env_and_xdg_lookup(tmp_path, monkeypatch):
    xdg = tmp_path / "xdg" / "config" / "assistant"
    xdg.mkdir(parents=True)
    (xdg / "config.toml").write_text("[vad]\naggressiveness = 3\n")
    assert load_config().vad.aggressiveness == 3
    env = tmp_path / "env.toml"
    env.write_text("[vad]\naggressiveness = 1\n")
    monkeypatch.setenv("ASSISTANT_CONFIG", str(env))
    assert load_config().vad.aggressiveness == 1


@pytest.mark.parametrize("text,needle", [
    ("[stt]\nbogus = 1\n", "stt.bogus"),
    ("[nosuch]\n", "nosuch"),
    ('[vad]\naggressiveness = "high"\n', "vad.aggressiveness"),
    ("[vad]\naggressiveness = 7\n", "vad.aggressiveness"),
    ('[stt]\nbackend = "cloud"\n', "stt.backend"),
    ("[tts]\nspeed = true\n", "tts.speed"),
    ("not toml [", "invalid TOML"),
])
def test_config_errors_name_key_and_file(tmp_path, text, needle):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(f)
    assert needle in str(err.value) and str(f) in str(err.value)


def test_cli_config_error_is_one_line_exit_2(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("[stt]\nbogus = 1\n")
    result = CliRunner().invoke(main, ["--config", str(f), "config", "show"])
    assert result.exit_code == 2
    assert "stt.bogus" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_config_show_redacts_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-abcdefghijklmnopqrstuvwxyz")
    result = CliRunner().invoke(main, ["config", "show"])
    assert result.exit_code == 0
    assert "abcdefghijklmnop" not in result.output
    assert "redacted" in result.output


def test_auto_backend(monkeypatch):
    assert resolve_backend("auto", "") == "local"
    assert resolve_backend("auto", "http://127.0.0.1:1/v1") == "openai"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    assert resolve_backend("auto", "") == "openai"
    assert resolve_backend("local", "") == "local"


def test_overrides_are_validated():
    cfg = load_config()
    assert with_overrides(cfg, tts={"voice": "onyx"}).tts.voice == "onyx"
    with pytest.raises(ConfigError):
        with_overrides(cfg, tts={"speed": 9.0})


def test_openai_base_url_env_counts_as_a_server(monkeypatch):
    """The SDK reads $OPENAI_BASE_URL itself; 'auto' and the key checks honour it too."""
    from assistant.config import load_config
    from assistant.images.factory import make_image_service
    from assistant.openai_client import make_client

    assert resolve_backend("auto", "") == "local"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert resolve_backend("auto", "") == "openai"
    client = make_client(load_config().stt, "stt")
    assert str(client.base_url).startswith("http://127.0.0.1:9/v1")
    make_image_service(load_config())  # no "drawing needs OPENAI_API_KEY" error


# --------------------------------------------------------------------------- validation (issue 17 #3, issue 12 #6)
import dataclasses  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import typing  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from assistant.config import RULES, Config, validate  # noqa: E402


def _keys() -> dict[str, type]:
    out = {}
    for section in dataclasses.fields(Config):
        if section.name in ("source", "sentences"):  # [[sentences]] are checked by sentences.parse
            continue
        cls = typing.get_type_hints(Config)[section.name]
        for f in dataclasses.fields(cls):
            out[f"{section.name}.{f.name}"] = typing.get_type_hints(cls)[f.name]
    return out


KEYS = _keys()


def test_every_key_has_a_rule():
    assert set(KEYS) == set(RULES), set(KEYS) ^ set(RULES)


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F or c in '"\\' else c
                             for c in value) + '"'
    return str(value)


@st.composite
def bad_setting(draw):
    """(dotted key, a value the key must refuse)."""
    key = draw(st.sampled_from(sorted(KEYS)))
    hint, rule = KEYS[key], RULES[key]
    numeric = hint in (int, float)
    options = []
    # wrong type
    if hint is str:
        options += [st.integers(), st.booleans(), st.just(["a"])]
    elif hint is bool:
        options += [st.integers(0, 1), st.just("yes")]
    elif typing.get_origin(hint) is tuple:
        options += [st.just("en"), st.just([1, 2]), st.integers()]
    else:
        options += [st.text(max_size=5), st.booleans(), st.just([1])]
        if hint is int:
            options.append(st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: v != int(v)))
    # nan / inf
    if numeric:
        options.append(st.sampled_from([math.nan, math.inf, -math.inf]))
    # out of range
    if numeric and rule.lo is not None:
        below = st.integers(max_value=math.ceil(rule.lo) - 1) if hint is int else \
            st.floats(max_value=rule.lo, exclude_max=True, allow_nan=False, allow_infinity=False)
        options.append(below.filter(lambda v: v not in rule.also))
    if numeric and rule.hi is not None:
        options.append(st.integers(min_value=math.floor(rule.hi) + 1) if hint is int else
                       st.floats(min_value=rule.hi, exclude_min=True, allow_nan=False, allow_infinity=False))
    if numeric and rule.above is not None:
        options.append(st.floats(max_value=rule.above, allow_nan=False, allow_infinity=False) if hint is float
                       else st.integers(max_value=int(rule.above)))
    if hint is str and rule.choices:
        options.append(st.text(alphabet="abcxyz_-", max_size=8).filter(lambda v: v not in rule.choices))
    if rule.url:
        options.append(st.sampled_from(["ftp://x", "file:///etc/passwd", "localhost:8000", "http://", "javascript:1"]))
    if rule.hostport:
        options.append(st.sampled_from(["8765", "host:", "host:99999", "::1:80", "a b:80", "[::1:80"]))
    if rule.tcp:
        bad_uris = st.sampled_from(["http://host:10400", "tcp://host:99999", "tcp://host/path", "udp://x:1", "tcp://:1"])
        options.append(st.lists(bad_uris, min_size=1, max_size=2) if typing.get_origin(hint) is tuple else bad_uris)
    value = draw(st.one_of(*options))
    return key, value


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bad_setting())
def test_any_bad_value_is_one_config_error_naming_key_and_file(tmp_path_factory, setting):
    key, value = setting
    section, name = key.split(".")
    f = tmp_path_factory.mktemp("cfg") / "bad.toml"
    f.write_text(f"[{section}]\n{name} = {_toml(value)}\n")
    with pytest.raises(ConfigError) as err:
        load_config(f)
    text = str(err.value)
    assert key in text and str(f) in text and "\n" not in text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bad_setting())
def test_run_exits_2_on_any_bad_value(tmp_path_factory, setting):
    """Exit 2 (not 1) at start, so the unit's RestartPreventExitStatus=2 stops the restart loop."""
    key, value = setting
    section, name = key.split(".")
    f = tmp_path_factory.mktemp("cfg") / "bad.toml"
    f.write_text(f"[{section}]\n{name} = {_toml(value)}\n")
    result = CliRunner().invoke(main, ["--config", str(f), "run", "--input", str(f), "--quiet"])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and key in result.output


@pytest.mark.parametrize("text,key", [
    ("[vad]\npre_roll_ms = -300", "vad.pre_roll_ms"),
    ("[stt]\ntimeout = nan", "stt.timeout"),
    ("[tts]\ntimeout = inf", "tts.timeout"),
    ("[images]\nmax_retries = -1", "images.max_retries"),
    ("[vad]\nhangover_ms = -100", "vad.hangover_ms"),
    ("[vad]\nmax_utterance_s = 0", "vad.max_utterance_s"),
    ("[vad]\nnoise_margin_db = nan", "vad.noise_margin_db"),
    ('[stt]\nbase_url = "ftp://x"', "stt.base_url"),
    ("[images]\ndownload_max_mb = -1", "images.download_max_mb"),
    ('[tts]\nvoice = "bob"', "tts.voice"),
    ('[tts]\nmodel = "tts-1"\nvoice = "verse"', "tts.voice"),
    ('[tts]\nbackend = "local"\nvoice = "joe"', "tts.voice"),
    ('[router]\nwake_word = "hey_siri"', "router.wake_word"),
    ('[stt]\nmodel = "whisper-2"', "stt.model"),
    ('[stt]\ntranslate_model = "gpt-4o-transcribe"', "stt.translate_model"),
    ('[tts]\nmodel = "tts-2"', "tts.model"),
    ('[images]\nmodel = "dall-e-9"', "images.model"),
    ('[images]\nsize = "huge"', "images.size"),
    ('[stt]\nlanguage = "xx"', "stt.language"),
    ('[stt]\nlanguages = ["en", "klingon"]', "stt.languages"),
    ('[stt]\nlocal_model = "/nonexistent/model"', "stt.local_model"),
    ('[stt]\nbackend = "wyoming"', "stt.uri"),
    ('[tts]\nuri = "http://x:10200"', "tts.uri"),
    ('[service]\nsatellites = ["tcp://kitchen:10700", "udp://x:1"]', "service.satellites"),
    ('[chat]\nmodel = "  "', "chat.model"),  # hostile run: accepted, then every chat answer failed
    ('[images]\ndownload_max_mb = 0', "images.download_max_mb"),  # refused every image URL
])
def test_issue_cases_are_errors_everywhere(tmp_path, text, key):
    f = tmp_path / "c.toml"
    f.write_text(text + "\n")
    for args in (["config", "show"], ["doctor"], ["run", "--input", str(f), "--quiet"]):
        result = CliRunner().invoke(main, ["--config", str(f), *args])
        assert result.exit_code == 2, (args, result.output)
        lines = [line for line in result.output.splitlines() if key in line]
        assert lines and str(f) in lines[0], (args, result.output)
        if args[0] == "doctor":
            assert "config: valid" not in result.output
    assert not _reloaded(f), "SIGHUP took a config run refuses"


def _reloaded(path) -> bool:
    """What SIGHUP does with ``path`` (service.runner.reload) on a loop with fake engines."""
    from assistant.loop import Assistant
    from assistant.service.runner import reload
    from tests.loop.fakes import engines

    assistant = Assistant(load_config(), engines([]))
    before = assistant.cfg
    ok = reload(assistant, str(path))
    assert ok or assistant.cfg is before
    return ok


def test_a_wyoming_peer_names_its_own_voices(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[tts]\nbackend = "wyoming"\nuri = "tcp://127.0.0.1:10200"\nvoice = "en_US-joe-medium"\n')
    assert load_config(f).tts.voice == "en_US-joe-medium"


def test_compatible_server_names_its_own_models(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[stt]\nbase_url = "http://127.0.0.1:8000/v1"\nmodel = "Systran/faster-whisper-small"\n'
                 '[tts]\nbase_url = "http://127.0.0.1:8880/v1"\nmodel = "kokoro"\n')
    cfg = load_config(f)
    assert cfg.stt.model == "Systran/faster-whisper-small" and cfg.tts.model == "kokoro"


def test_defaults_validate_and_doctor_says_valid():
    assert validate(load_config()) is not None
    result = CliRunner().invoke(main, ["doctor"])
    assert "ok   config: valid" in result.output


@st.composite
def good_vad(draw):
    values = {}
    for key, hint in KEYS.items():
        if not key.startswith("vad."):
            continue
        rule = RULES[key]
        lo = rule.lo if rule.lo is not None else rule.above
        if hint is str:
            values[key.split(".")[1]] = draw(st.sampled_from(rule.choices))
        elif hint is int:
            values[key.split(".")[1]] = draw(st.integers(int(lo), int(rule.hi)))
        else:
            values[key.split(".")[1]] = draw(st.floats(lo, rule.hi, exclude_min=rule.above is not None))
    return values


@settings(max_examples=60, deadline=None)
@given(good_vad())
def test_any_valid_vad_config_runs_the_segmenter(values):
    """What validates must also work: no valid value may crash the segmenter (reload applies it)."""
    import numpy as np

    from assistant.audio.format import FRAME_BYTES
    from assistant.config import VadConfig
    from assistant.vad.segmenter import Segmenter

    seg = Segmenter(VadConfig(**values))
    rng = np.random.default_rng(0)
    for i in range(40):
        loud = (rng.normal(0, 8000 if 10 <= i < 25 else 30, FRAME_BYTES // 2)).clip(-32768, 32767).astype(np.int16)
        seg.process(loud.tobytes())


# ---------------------------------------------------------------- hostile config paths (acceptance)
import os  # noqa: E402
import threading  # noqa: E402


def _load_within(path, seconds: float = 10.0):
    """load_config(path) in a thread: (finished, ConfigError or None). A FIFO would block forever."""
    box: dict = {}

    def target():
        try:
            load_config(path)
            box["error"] = None
        except ConfigError as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive(), box.get("error")


def test_a_fifo_or_endless_device_as_config_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    try:
        finished, error = _load_within(fifo)
    finally:
        try:  # unblock a reader that got stuck (before the fix) so the thread can end
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
    assert finished, "load_config blocked on a FIFO (a SIGHUP reload would freeze the loop)"
    assert error is not None and "not a regular file" in str(error)
    finished, error = _load_within("/dev/zero", 10.0)
    assert finished and error is not None and "not a regular file" in str(error)


@pytest.mark.parametrize("make, needle", [
    (lambda p: p.mkdir(), "a directory"),
    (lambda p: p.write_bytes(b"[vad]\n" + b"# " + b"x" * (2 << 20) + b"\n"), "larger than"),
    (lambda p: p.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n"), "nested too deeply"),
    (lambda p: p.write_text("a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n"), "nested too deeply"),
    (lambda p: p.write_bytes(b'[tts]\nvoice = "\xff"\n'), "not UTF-8"),
])
def test_hostile_config_files_are_one_config_error(tmp_path, make, needle):
    path = tmp_path / "c.toml"
    make(path)
    with pytest.raises(ConfigError, match=needle):
        load_config(path)
    result = CliRunner().invoke(main, ["--config", str(path), "doctor"])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_dev_null_as_config_means_the_defaults():
    assert load_config(os.devnull) == dataclasses.replace(load_config(None), source=("default.toml", os.devnull))
