"""Chat Completions (``POST /chat/completions``, streamed) through the openai SDK: OpenAI itself
or any compatible server (llama.cpp, Ollama, LocalAI, vLLM) at ``[chat] base_url``."""
from __future__ import annotations

from typing import Any, Iterator

from ..config import ChatConfig
from ..openai_client import call, make_client
from ..secrets import api_key, server_url

INSTRUCTIONS = (
    "You are a voice assistant: everything you write is spoken aloud. Answer in one to three short "
    "sentences, plainly, without markdown, lists, tables, code, URLs or emoji. Always answer in the "
    "language the user spoke (Korean in, Korean out). You can also draw and edit pictures, keep timers "
    "and tell the time; notes in square brackets say what was drawn."
)
LANGUAGE_HINT = {"ko": "The user is speaking Korean: answer in Korean.",
                 "en": "The user is speaking English: answer in English."}


def available(cfg: ChatConfig) -> bool:
    """Configured and reachable in principle: not "off", and a key or a server URL."""
    if cfg.backend == "off":
        return False
    return bool(api_key() or server_url(cfg.base_url))


class ChatEngine:
    def __init__(self, cfg: ChatConfig, client: Any = None):
        self.cfg = cfg
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = make_client(self.cfg, "chat")
        return self._client

    def request(self, history: list[dict[str, str]], text: str, language: str) -> dict[str, Any]:
        system = (self.cfg.instructions or INSTRUCTIONS) + " " + LANGUAGE_HINT.get(language, "")
        body: dict[str, Any] = {
            "model": self.cfg.model,
            "messages": [{"role": "system", "content": system.strip()}, *history, {"role": "user", "content": text}],
            "stream": True,
        }
        # OpenAI's current models take max_completion_tokens; compatible servers know max_tokens
        limit_key = "max_tokens" if server_url(self.cfg.base_url) else "max_completion_tokens"
        body[limit_key] = self.cfg.max_output_tokens
        return body

    def stream(self, history: list[dict[str, str]], text: str, language: str) -> Iterator[str]:
        """Blocking: the answer's text pieces as they arrive (ApiError on failure)."""
        body = self.request(history, text, language)
        chunks = call(lambda: self.client.chat.completions.create(**body), self.cfg, "chat model")
        iterator = iter(chunks)
        while True:
            chunk = call(lambda: next(iterator, None), self.cfg, "chat model")
            if chunk is None:
                return
            for choice in getattr(chunk, "choices", None) or ():
                piece = getattr(getattr(choice, "delta", None), "content", None)
                if piece:
                    yield piece
