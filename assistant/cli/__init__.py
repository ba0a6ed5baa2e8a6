"""The click face of the assistant: thin commands that parse, call the core, print.

Each stage's commands live in their own module here and are registered below.
"""
from __future__ import annotations

import sys

from ..service.sighup import hold_reloads_for

hold_reloads_for(sys.argv)  # first: `run`/`serve` must survive a SIGHUP while loading (service/sighup.py)

import importlib
import os
import traceback

import click

from ..errors import AssistantError
from ..secrets import redact
from .common import Ctx

_COMMAND_MODULES = ("config_cmd", "listen", "transcribe", "say", "images", "run", "ask", "serve", "service")


def _usage_line(exc: click.UsageError) -> None:
    """A wrong flag or value: one line and exit 2 (click's own form is usage, a hint, a blank
    line and the error)."""
    where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    click.echo(f"error: {exc.format_message()}{where}", err=True)
    sys.exit(exc.exit_code)


class _Group(click.Group):
    """Turns our errors into one line on stderr and the error's exit code."""

    def make_context(self, info_name, args, parent=None, **extra):  # the group's own options
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            _usage_line(exc)

    def invoke(self, ctx: click.Context):  # noqa: D401
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # a subcommand's options
            _usage_line(exc)
        except AssistantError as exc:
            click.echo(f"error: {redact(str(exc))}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except BrokenPipeError:
            sys.exit(1)
        except Exception as exc:  # last resort: still one line unless debugging
            if os.environ.get("ASSISTANT_DEBUG"):
                traceback.print_exc()
            click.echo(f"error: {type(exc).__name__}: {redact(str(exc))}", err=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Config file (else $ASSISTANT_CONFIG, else $XDG_CONFIG_HOME/assistant/config.toml).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="assistant")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """An always-on voice assistant: listen, transcribe, route, draw, speak."""
    from ..logs import setup_logging
    from ..memory import limit_arenas

    limit_arenas()  # before any worker thread: idle RSS (assistant/memory.py)
    setup_logging(verbose)
    ctx.obj = Ctx(config_path=config_path)


for _name in _COMMAND_MODULES:
    _module = importlib.import_module(f"{__name__}.{_name}")
    for _command in getattr(_module, "COMMANDS", ()):
        main.add_command(_command)
