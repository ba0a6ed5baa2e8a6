"""One way to build the openai SDK client for a service section (stt, tts, images).

Retries are the SDK's own: up to ``max_retries`` for 408, 409, 429, 5xx and connection errors,
with exponential backoff and jitter (honouring Retry-After); ``timeout`` bounds each attempt.
"""
from __future__ import annotations

from typing import Any, Callable

from .config import ServiceBackend
from .errors import ApiError, PolicyError, UserError
from .secrets import api_key, redact, server_url

PLACEHOLDER_KEY = "sk-no-key"  # an OpenAI-compatible server at base_url may need no key


def make_client(cfg: ServiceBackend, section: str) -> Any:
    import openai

    key = api_key()
    if not key and not server_url(cfg.base_url):
        raise UserError(f"no OpenAI API key: set OPENAI_API_KEY (or use --backend local, or set {section}.base_url)")
    return openai.OpenAI(api_key=key or PLACEHOLDER_KEY, base_url=cfg.base_url or None,
                         timeout=cfg.timeout, max_retries=cfg.max_retries)


POLICY_CODES = ("content_policy_violation", "moderation_blocked")
BAD_RESPONSE = "bad_response"  # ApiError.code: the server answered, but with garbage or a cut body


def bad_response(message: str, status: int | None = 200) -> ApiError:
    """An answer that is not what the operation returns (HTML, wrong JSON, no audio, not an image)."""
    return ApiError(message, status, BAD_RESPONSE)


def is_transient(exc: BaseException) -> bool:
    """Worth another try or the local engine: not reached / cut off / garbage / 408, 409, 429, 5xx."""
    if not isinstance(exc, ApiError) or isinstance(exc, PolicyError):
        return False
    return exc.status is None or exc.code == BAD_RESPONSE or exc.status in (408, 409, 429) or exc.status >= 500


def transport_errors() -> tuple[type[BaseException], ...]:
    """The HTTP library's errors while a body is read (a truncated body is RemoteProtocolError);
    the SDK maps them only while sending the request, not while streaming the answer."""
    out: list[type[BaseException]] = []
    for name in ("httpx2", "httpx"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        out.append(module.TransportError)
    return tuple(out)


def status_error(exc: Any, what: str = "speech API") -> ApiError:
    """An SDK status error -> ApiError (PolicyError for refusals) with the API's own message."""
    status = getattr(exc, "status_code", None)
    message, code = "", None
    body = getattr(exc, "body", None)
    err = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(err, dict):
        message, code = str(err.get("message") or ""), err.get("code")
    elif isinstance(err, str):
        message = err
    if not message:
        try:
            message = exc.response.text.strip()[:300]
        except Exception:
            message = str(getattr(exc, "message", "") or exc)
    message = redact(" ".join(message.split()))
    if status == 401:
        return ApiError(f"the API key was rejected (401): {message}", status, code)
    if status == 429:
        return ApiError(f"rate limited or out of quota (429): {message}", status, code)
    if code in POLICY_CODES or "safety system" in message:
        return PolicyError(f"refused by content policy ({status}): {message}", status, code)
    return ApiError(f"{what} error {status}: {message}", status, code)


def call(fn: Callable[[], Any], cfg: ServiceBackend, what: str = "speech API") -> Any:
    """Run one SDK call; every SDK failure becomes an ApiError (status None: not reached)."""
    import openai

    try:
        return fn()
    except openai.APIStatusError as exc:
        raise status_error(exc, what) from None
    except openai.APITimeoutError:
        raise ApiError(f"the {what} timed out after {cfg.timeout:g} s", None) from None
    except openai.APIConnectionError as exc:
        where = server_url(cfg.base_url) or "api.openai.com"
        raise ApiError(f"cannot reach the {what} at {where}: {redact(str(exc))}", None) from None
    except openai.OpenAIError as exc:
        raise ApiError(f"{what} error: {redact(str(exc))}", None) from None
    except transport_errors() as exc:
        raise bad_response(f"the {what} connection broke mid-answer: {redact(str(exc))}", None) from None
    except ValueError as exc:  # the SDK could not parse the answer (bad JSON, wrong shape)
        raise bad_response(f"unreadable answer from the {what}: {redact(str(exc))[:200]}") from None


class ApiBacked:
    """Base of the openai engines: the SDK client for one config section, built on first use,
    and SDK calls whose failures become ApiError."""

    section = ""
    cfg: ServiceBackend
    _client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = make_client(self.cfg, self.section)
        return self._client

    def _call(self, fn: Callable[[], Any]) -> Any:
        return call(fn, self.cfg)
