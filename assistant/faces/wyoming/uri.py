"""tcp://HOST:PORT addresses of Wyoming peers, with our defaults and the bind warning."""
from __future__ import annotations

import logging
from urllib.parse import urlparse

from ...errors import UserError
from ..net import is_loopback

log = logging.getLogger(__name__)

SERVER_PORT = 10400  # `assistant serve --wyoming` / [service] wyoming
SATELLITE_PORT = 10700  # wyoming-satellite's usual port
DEFAULT_HOST = "127.0.0.1"


def parse_uri(uri: str, default_port: int, *, what: str = "wyoming address",
              default_host: str | None = DEFAULT_HOST) -> tuple[str, int]:
    """``tcp://HOST:PORT`` (``tcp://`` and the port may be left out) -> (host, port); UserError if bad."""
    text = (uri or "").strip()
    if not text:
        raise UserError(f"{what} is empty; use tcp://HOST:PORT")
    if "://" not in text:
        text = "tcp://" + text
    try:
        parsed = urlparse(text)
        port = parsed.port
    except ValueError:
        raise UserError(f"bad {what} {uri!r}; use tcp://HOST:PORT") from None
    if parsed.scheme != "tcp" or parsed.path not in ("", "/") or parsed.query:
        raise UserError(f"bad {what} {uri!r}; use tcp://HOST:PORT (only tcp:// is supported)")
    host = parsed.hostname or default_host
    if not host:
        raise UserError(f"bad {what} {uri!r}: no host; use tcp://HOST:PORT")
    return host, default_port if port is None else port




def warn_if_exposed(host: str, port: int) -> bool:
    """Log the no-authentication warning when bound beyond loopback; True if it warned."""
    if is_loopback(host):
        return False
    log.warning("the Wyoming server listens on %s:%d: Wyoming has no authentication, anyone who can reach "
                "this address can use the assistant (bind 127.0.0.1 unless the network is trusted)", host, port)
    return True
