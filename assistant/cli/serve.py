"""`assistant serve`: the assistant without a microphone, reached through its faces."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import click

from .common import Ctx, get_config

if TYPE_CHECKING:
    from ..engines import Engines

# Each face builder turns the command's options into faces: (cfg, engines, options) -> [Face].
FaceBuilder = Callable[[Any, Any, dict], list]


def _wyoming(cfg: Any, engines: "Engines", options: dict) -> list:
    from ..faces.wyoming import faces_from_options

    server = options.get("wyoming") or cfg.service.wyoming
    if not server and not _others_asked(options) and not cfg.service.http:
        server = "tcp://127.0.0.1:10400"  # serve with no face named: the Wyoming server, loopback only
    return faces_from_options(cfg, engines, wyoming=server, satellites=options.get("satellite") or ())


def _others_asked(options: dict) -> bool:
    return any(v for k, v in options.items() if k not in ("wyoming", "satellite"))


def _web(cfg: Any, engines: "Engines", options: dict) -> list:
    from ..faces.web import WebFace

    address = options.get("http") or cfg.service.http
    if not address:
        return []
    return [WebFace(cfg, address, announce=lambda url: click.echo(f"web page: {url}", err=True))]  # no token off loopback: refused here


FACE_BUILDERS: list[FaceBuilder] = [_wyoming, _web]


def build_faces(cfg: Any, engines: "Engines", options: dict) -> list:
    faces: list = []
    for builder in FACE_BUILDERS:
        faces.extend(builder(cfg, engines, options))
    return faces


@click.command("serve", short_help="Run without a microphone: a Wyoming server, the web page.")
@click.option("--wyoming", "wyoming", metavar="tcp://HOST:PORT", default=None,
              help="Wyoming server address (default [service] wyoming, else tcp://127.0.0.1:10400). "
                   "Wyoming has no authentication: bind beyond 127.0.0.1 only on a trusted network.")
@click.option("--satellite", "satellite", metavar="tcp://HOST:PORT", multiple=True,
              help="Drive a wyoming-satellite (repeatable; default [service] satellites).")
@click.option("--http", "http", metavar="HOST:PORT", is_flag=False, flag_value="127.0.0.1:8765", default=None,
              help="Serve the web page (bare --http: 127.0.0.1:8765; default [service] http). "
                   "Another address needs $ASSISTANT_HTTP_TOKEN or the systemd credential http_token.")
def serve_cmd(**options):
    """Serve the assistant to Home Assistant and satellites (asr, tts, conversation) and/or on the
    web page (--http), with no local audio."""
    import asyncio

    from ..audio.playback import NullSpeaker
    from ..engines import build_engines
    from ..faces.hosting import serve
    from ..history import HistoryWriter, default_history_path
    from ..loop import Assistant
    from ..memory import TrimWhenIdle
    from ..service.notify import Notifier

    from ..service.runner import reload
    cfg = get_config()
    holder: dict[str, Any] = {}
    engines = build_engines(cfg, speaker=NullSpeaker(),
                            on_fallback=lambda what: holder["assistant"].fallback_notice(what))
    faces = build_faces(cfg, engines, options)  # bad addresses fail here, before anything listens
    history = HistoryWriter([default_history_path(cfg.service.history)], keep=cfg.service.history_keep,
                            max_bytes=int(cfg.service.history_max_mb * 2**20))
    assistant = Assistant(cfg, engines, history=history,
                          notifier=Notifier(), console=lambda line: click.echo(line), warm_up=True)
    holder["assistant"] = assistant
    assistant.subscribe(TrimWhenIdle())  # idle RSS stays where warm-up left it (assistant/memory.py)
    config_path = click.get_current_context().find_object(Ctx).config_path
    asyncio.run(serve(assistant, faces, on_reload=lambda: reload(assistant, config_path)))


COMMANDS = [serve_cmd]
