"""`assistant config show`."""
from __future__ import annotations

import json

import click

from ..config import as_dict
from ..secrets import api_key, redact, resolve_backend
from .common import get_config


@click.group("config")
def config_group() -> None:
    """Inspect the effective configuration."""


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(redact(value), ensure_ascii=False)
    return repr(value)


def _toml_inline(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml_inline(v)}" for k, v in value.items()
                                if v is not None) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_inline(v) for v in value) + "]"
    return _toml_value(value)


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of TOML.")
def show(as_json: bool) -> None:
    """Print the effective config (defaults + your file), secrets redacted."""
    cfg = get_config()
    data = as_dict(cfg)
    key = api_key()
    data["secrets"] = {"openai_api_key": "set (redacted)" if key else "not set"}
    data["effective_backends"] = {
        name: resolve_backend(getattr(cfg, name).backend, getattr(cfg, name).base_url)
        for name in ("stt", "tts", "images")
    }
    chat = resolve_backend(cfg.chat.backend, cfg.chat.base_url)
    data["effective_backends"]["chat"] = "off" if chat == "local" else chat
    if as_json:
        click.echo(redact(json.dumps(data, indent=2, ensure_ascii=False)))
        return
    click.echo(f"# sources: {', '.join(cfg.source)}")
    sentences = data.pop("sentences")
    for section, values in data.items():
        click.echo(f"\n[{section}]")
        for k, v in values.items():
            click.echo(f"{k} = {_toml_value(v)}")
    for entry in sentences:
        click.echo("\n[[sentences]]")
        for k, v in entry.items():
            click.echo(f"{k} = {_toml_inline(v)}")


COMMANDS = [config_group]
