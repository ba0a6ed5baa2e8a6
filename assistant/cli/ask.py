"""`assistant ask TEXT`: one typed turn through the whole loop (router, skills, voice), like
speech. Prints the replies (``--json``: the turn's events as JSON lines), waits for a picture
being drawn, and can keep the spoken reply (``--out``)."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Callable

import click

from ..errors import UserError
from .common import OutFile, get_config, read_stdin_text, text_option

LANGUAGES = ("en", "ko")


@click.command("ask", short_help="Ask by text: routed and answered like speech.")
@click.argument("text", callback=text_option("TEXT"))
@click.option("--language", default=None, help="Language of the text: en or ko (default: detected).")
@click.option("--json", "as_json", is_flag=True, help="Print the turn's events as JSON lines instead of the replies.")
@click.option("--out", type=OutFile(path_type=Path), default=None,
              help="Save the spoken reply here (.wav, .flac, .ogg, .mp3).")
@click.option("--no-play", is_flag=True, help="Do not play the reply.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def ask_cmd(text: str, language: str | None, as_json: bool, out: Path | None, no_play: bool, force: bool) -> None:
    """Handle TEXT ("-" reads it from stdin) as if it had been said: "draw a red fox",
    "speak slower", "번역 모드"…"""
    from ..tts.base import format_for

    if text == "-":
        text = read_stdin_text()
    if not text.strip():
        raise UserError("nothing to ask: TEXT is empty")
    if language is not None and language not in LANGUAGES:
        raise UserError(f"--language {language!r}: use en or ko")
    if out is not None:
        format_for(out)  # a suffix we can write, else one line
        if not out.parent.is_dir():
            raise UserError(f"directory does not exist: {out.parent}")
        if out.exists() and not force:
            raise UserError(f"{out} exists; pass --force to overwrite it")
    if as_json:
        def show(event: dict[str, Any]) -> None:
            click.echo(json.dumps(event, ensure_ascii=False, default=str))
    else:
        show = None
    record, speech = ask(get_config(), text, language, play=not no_play, on_event=show,
                         echo=None if as_json else click.echo)
    if out is not None and speech is not None:
        speech.save(out, overwrite=force)
        if not as_json:
            click.echo(f"reply saved: {out}", err=True)
    elif out is not None:
        click.echo("nothing was said, so nothing was saved", err=True)


def ask(cfg, text: str, language: str | None, *, play: bool = True,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        echo: Callable[[str], None] | None = None) -> tuple[dict[str, Any], Any]:
    """Run one typed turn to its end (background jobs included): (history record, Speech or None)."""
    from ..audio.playback import NullSpeaker
    from ..engines import build_engines
    from ..events import EventType
    from ..history import HistoryWriter, default_history_path
    from ..loop import Assistant
    from ..tts.base import Speech

    holder: dict[str, Assistant] = {}
    engines = build_engines(cfg, speaker=NullSpeaker() if not play else None,
                            on_fallback=lambda what: holder["assistant"].fallback_notice(what))
    try:
        history = HistoryWriter([default_history_path(cfg.service.history)])
    except OSError:
        history = None
    assistant = holder["assistant"] = Assistant(cfg, engines, history=history)
    chunks: list = []
    rate: dict[str, int] = {}
    turn_id: dict[str, int] = {}

    def listen(event) -> None:
        mine = event.turn is not None and event.turn == turn_id.get("id")
        if event.type is EventType.REPLY_AUDIO and mine:
            chunks.append(event.data["audio"])
            rate["hz"] = event.data["sample_rate"]
        if on_event is not None and (mine or event.type is EventType.NOTICE):
            on_event(event.to_json())
        if echo is not None and event.type is EventType.REPLY_STARTED:
            echo(str(event.data.get("text", "")))
        elif echo is not None and event.type is EventType.IMAGE_SAVED:
            click.echo(f"saved {event.data.get('path')}", err=True)
        elif echo is not None and event.type is EventType.NOTICE:
            click.echo(f"note: {event.data.get('log')}", err=True)
        elif echo is not None and event.type is EventType.IGNORED and mine:  # else nothing at all was printed
            click.echo(f"ignored: {event.data.get('reason')}", err=True)

    assistant.subscribe(listen)

    async def main() -> dict[str, Any]:
        serving = asyncio.create_task(assistant.serve())
        try:
            ticket = await assistant.handle_text(text, language)
            turn_id["id"] = ticket.id
            record = await ticket.finished()
        finally:
            assistant.stop()
            await serving
        return record

    record = asyncio.run(main())
    speech = Speech.from_chunks(chunks, rate["hz"]) if chunks else None
    return record, speech


COMMANDS = [ask_cmd]
