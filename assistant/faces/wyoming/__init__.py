"""Wyoming faces: the server Home Assistant adds (asr, tts, handle) and the satellite links.

- ``WyomingServer`` (server.py): ``assistant serve --wyoming`` / ``run --wyoming`` / ``[service] wyoming``.
- ``SatelliteLink`` (satellite.py): ``run --satellite`` / ``[service] satellites``; each room's
  wyoming-satellite is driven as Home Assistant drives it, as a session of its own.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from .uri import SATELLITE_PORT, SERVER_PORT, parse_uri

if TYPE_CHECKING:
    from ...engines import Engines


def faces_from_options(cfg: Any, engines: "Engines | None" = None, *, wyoming: str | None = None,
                       satellites: Sequence[str] = ()) -> list[Any]:
    """``--wyoming``/``--satellite`` values, else ``[service] wyoming``/``satellites`` (engines: None
    = the running assistant's, taken when the face starts)."""
    server = wyoming or cfg.service.wyoming
    return wyoming_faces(cfg, engines, servers=[server] if server else [],
                         satellites=list(satellites) or list(cfg.service.satellites))


def wyoming_faces(cfg: Any, engines: "Engines | None", *, servers: Sequence[str] = (), satellites: Sequence[str] = ()) -> list[Any]:
    """The faces for these addresses (command-line values, else the config's [service] keys)."""
    from ...secrets import resolve_backend

    faces: list[Any] = []
    for uri in servers:
        from .server import WyomingServer

        host, port = parse_uri(uri, SERVER_PORT, what="--wyoming address")
        faces.append(WyomingServer(cfg, engines, host, port,
                                   stt_backend=resolve_backend(cfg.stt.backend, cfg.stt.base_url),
                                   tts_backend=resolve_backend(cfg.tts.backend, cfg.tts.base_url)))
    for uri in satellites:
        from .satellite import SatelliteLink

        host, port = parse_uri(uri, SATELLITE_PORT, what="--satellite address", default_host=None)
        faces.append(SatelliteLink(cfg, host, port))
    return faces
