"""Build the image service from the config (there is no local image engine)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config import Config
from ..errors import UserError
from ..secrets import api_key, server_url

if TYPE_CHECKING:
    from .service import ImageService

NEEDS_KEY = "drawing needs OPENAI_API_KEY or images.base_url"


def make_image_service(cfg: Config, client: Any = None) -> ImageService:
    """The OpenAI (or OpenAI-compatible) image service; UserError when it cannot be reached at all."""
    if cfg.images.backend == "local":
        raise UserError("there is no local image engine; set images.backend to auto or openai "
                        "(with OPENAI_API_KEY or images.base_url)")
    if client is None and not api_key() and not server_url(cfg.images.base_url):
        raise UserError(NEEDS_KEY)
    from .service import ImageService  # here: with Pillow ~4 MB of RSS that a refusal does not need

    return ImageService(cfg, client)
