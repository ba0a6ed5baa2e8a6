"""Who may use the page: the address rule and the token.

On a loopback address the page is open to this machine's users (as any local socket is). Any other
address needs a token, read from $ASSISTANT_HTTP_TOKEN or the systemd credential ``http_token``
(never from the config file, which is often world-readable); without one the server refuses to
start. A browser passes it once as ``?token=…`` and then holds it in an HttpOnly cookie; API
clients send ``Authorization: Bearer …``.
"""
from __future__ import annotations

import hmac
import os
from pathlib import Path

from ...errors import UserError
from ..net import is_loopback  # noqa: F401  (server.py uses security.is_loopback)

TOKEN_ENV = "ASSISTANT_HTTP_TOKEN"
CREDENTIAL_NAME = "http_token"
COOKIE = "assistant_token"
DEFAULT_ADDRESS = "127.0.0.1:8765"
MIN_TOKEN = 16


def parse_address(text: str) -> tuple[str, int]:
    """"HOST:PORT" (IPv6 as "[::1]:8765") -> (host, port); a clear UserError otherwise."""
    value = (text or "").strip()
    host, sep, port_text = value.rpartition(":")
    if not sep or not host or not port_text:
        raise UserError(f"--http wants HOST:PORT (like {DEFAULT_ADDRESS}), got {text!r}")
    if host.startswith("["):
        if not host.endswith("]"):
            raise UserError(f"--http: unbalanced brackets in {text!r}")
        host = host[1:-1]
    elif ":" in host:
        raise UserError(f"--http: write an IPv6 address in brackets, like [::1]:8765 (got {text!r})")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise UserError(f"--http: the port must be a number from 0 to 65535, got {port_text!r}")
    if not host or any(c.isspace() for c in host):
        raise UserError(f"--http: invalid host in {text!r}")
    return host, int(port_text)




def token_from_environment() -> str | None:
    """$ASSISTANT_HTTP_TOKEN, else $CREDENTIALS_DIRECTORY/http_token; None when neither is set."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
        if cred_dir:
            try:
                token = (Path(cred_dir) / CREDENTIAL_NAME).read_text("utf-8").strip()
            except (OSError, UnicodeDecodeError):
                token = ""
    return token or None


def required_token(host: str) -> str | None:
    """The token the server will ask for (None: open, loopback only). Off loopback a missing or
    short token is a UserError: the server does not start."""
    token = token_from_environment()
    if token is not None and len(token) < MIN_TOKEN:
        raise UserError(f"${TOKEN_ENV} is too short: use at least {MIN_TOKEN} random characters "
                        "(for example: python3 -c 'import secrets; print(secrets.token_urlsafe(24))')")
    if token is None and not is_loopback(host):
        raise UserError(f"refusing to serve the page on {host}, which is not a loopback address, without a token: "
                        f"set ${TOKEN_ENV} (or the systemd credential {CREDENTIAL_NAME}); "
                        "the config file is never read for it")
    return token


def same_token(given: str | None, token: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))
