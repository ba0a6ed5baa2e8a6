"""What the assistant's image skill needs from an image engine (``service.ImageService`` is the
OpenAI one; tests bring fakes)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Protocol

Progress = Callable[[str], None]


class Picture(Protocol):
    """A finished request: the saved files and what made them."""

    paths: tuple[Path, ...]
    model: str | None
    size: str | None


class ImageService(Protocol):
    def last_image(self) -> Path | None:
        """The picture "it" means when no session has one yet."""
        ...

    def variation_supported(self) -> bool:
        """Does the configured model make variations of a picture without a prompt?"""
        ...

    def spoken_options(self, spoken: dict[str, str]) -> dict[str, Any]:
        """Spoken draw options ("tall", "high") -> request options the model takes (others dropped)."""
        ...

    def generate(self, prompt: str, *, on_progress: Progress | None = None, **options: Any) -> Picture: ...

    def edit(self, image: str | Path, prompt: str, *, region: str | None = None,
             on_progress: Progress | None = None) -> Picture: ...

    def variation(self, image: str | Path) -> Picture: ...
