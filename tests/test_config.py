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
