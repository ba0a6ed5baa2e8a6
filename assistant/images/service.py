"""Image requests through the openai SDK: generate, edit (inpainting with prepared image + mask),
variation. Fields come from the capability table (models.py), so a model never receives a field
it does not take. Results are saved by store.py; errors become PolicyError / ApiError / UserError.
"""
from __future__ import annotations

import base64
import binascii
import html
import io
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol, Sequence

from ..config import Config
from ..errors import ApiError, PolicyError, UserError
from ..paths import atomic_write_bytes, cache_dir, ensure_private_dir
from ..openai_client import bad_response, make_client, transport_errors
from ..secrets import redact
from . import blend, store
from .models import (ModelCaps, Options, check_prompt, check_size, edit_fields, generate_fields, get_caps,
                     spoken_fields, variation_fields)
from .prepare import Prepared, decode, prepare, set_pixel_limit
from .regions import parse_region

log = logging.getLogger(__name__)

POLICY_CODES = frozenset({"content_policy_violation", "moderation_blocked"})
REFERENCE_EDGE = 2048                 # extra edit inputs are scaled down to this longest edge
Progress = Callable[[str], None]


@dataclass(frozen=True, eq=False)
class ImageResult:
    """Saved images and what produced them. ``images`` loads them as PIL images on first use."""

    paths: tuple[Path, ...]
    prompt: str
    revised_prompt: str | None
    model: str
    size: str | None
    quality: str | None = None
    style: str | None = None
    kind: str = "draw"                   # draw | edit | variation
    source: Path | None = None           # the edited / varied image
    notes: tuple[str, ...] = field(default=())

    @cached_property
    def images(self) -> list[Any]:
        from PIL import Image

        out = []
        for p in self.paths:
            with Image.open(p) as img:
                img.load()
                out.append(img.copy())
        return out

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self.paths)
        return f"ImageResult({self.kind}, {self.model}, {self.size}, [{names}])"

    def _repr_html_(self) -> str:  # Jupyter: thumbnails inline
        return _html_thumbnails(self.images, [str(p) for p in self.paths])


class ImagesClient(Protocol):
    """The part of ``openai.OpenAI().images`` we use (tests may pass a fake)."""

    def generate(self, **kwargs: Any) -> Any: ...
    def edit(self, **kwargs: Any) -> Any: ...
    def create_variation(self, **kwargs: Any) -> Any: ...


def _html_thumbnails(images: list[Any], captions: list[str], edge: int = 384) -> str:
    parts = []
    for img, caption in zip(images, captions):
        thumb = img.copy()
        thumb.thumbnail((edge, edge))
        buf = io.BytesIO()
        thumb.save(buf, "PNG")
        b64 = base64.b64encode(buf.getvalue()).decode("ascii")
        text = _html_escape(caption)
        parts.append(f'<figure style="display:inline-block;margin:4px">'
                     f'<img src="data:image/png;base64,{b64}" alt="{text}">'
                     f'<figcaption style="font-size:small">{text}</figcaption></figure>')
    return "".join(parts)


def _html_escape(text: str) -> str:
    return html.escape(text, quote=True)


class ImageService:
    def __init__(self, cfg: Config, client: Any = None):
        self.cfg = cfg
        self._client = client
        set_pixel_limit(self.max_pixels)

    @property
    def max_pixels(self) -> int:
        return int(self.cfg.images.max_megapixels * 1_000_000)

    # ------------------------------------------------------------------ helpers for the loop
    def last_image(self) -> Path | None:
        return store.last_image(self.cfg)

    def variation_supported(self) -> bool:
        return get_caps(self.cfg.images.model).variation

    def spoken_options(self, spoken: dict[str, str]) -> dict[str, Any]:
        return spoken_fields(get_caps(self.cfg.images.model), spoken)

    @property
    def images(self) -> Any:
        if self._client is None:
            self._client = make_client(self.cfg.images, "images")
        return self._client.images

    # ------------------------------------------------------------------ requests
    def generate(self, prompt: str, *, model: str | None = None, size: str | None = None,
                 quality: str | None = None, style: str | None = None, n: int = 1,
                 output_format: str | None = None, on_progress: Progress | None = None,
                 out: str | Path | None = None, background: str | None = None,
                 moderation: str | None = None, output_compression: int | None = None) -> ImageResult:
        caps = get_caps(model or self.cfg.images.model)
        prompt = check_prompt(caps, prompt)
        opts = self._options(size=size, quality=quality, style=style, n=n, output_format=output_format,
                             background=background, moderation=moderation, output_compression=output_compression)
        fields = generate_fields(caps, opts)
        answer = self._request(self.images.generate, dict(fields, prompt=prompt), on_progress, prompt)
        return self._save(answer, caps, fields, prompt, "draw", out=out)

    def prepare(self, image: str | Path, *, model: str | None = None, mask: str | Path | None = None,
                region: str | None = None, size: str | None = None, fit: str | None = None,
                mask_mode: str = "auto", feather: int = 0) -> tuple[Path, Prepared]:
        """Read and prepare an image (and mask) for an edit with ``model``: offline, no request."""
        caps = get_caps(model or self.cfg.images.model)
        if size:
            size = check_size(caps, size, "edit")  # never silently ignored
        path = store.resolve_image(self.cfg, image)
        img = decode(store.read_bytes(path), str(path), self.max_pixels)
        mask_img = None
        if mask is not None:
            mask_path = store.existing_file(mask, "mask")
            mask_img = decode(store.read_bytes(mask_path, "mask"), f"mask {mask_path}", self.max_pixels)
        region_name = parse_region(region) if region else None
        prepared = prepare(img, caps, mask=mask_img, region=region_name, fit=fit or self.cfg.images.fit,
                           mask_mode=mask_mode, feather=feather, size=size)
        return path, prepared

    def edit(self, image: str | Path, prompt: str, *, mask: Path | None = None, region: str | None = None,
             model: str | None = None, size: str | None = None, on_progress: Progress | None = None,
             out: str | Path | None = None, fit: str | None = None, mask_mode: str = "auto",
             quality: str | None = None, output_format: str | None = None,
             references: Sequence[str | Path] = (), feather: int = 0) -> ImageResult:
        """``references``: more input images for GPT image models (up to 16 in all); the mask and
        the output geometry belong to ``image``. The result is saved at ``image``'s size with its
        pixels outside the mask kept; ``feather`` (px) softens only that blend."""
        caps = get_caps(model or self.cfg.images.model)
        if not caps.edit:
            edit_fields(caps, Options())  # raises the "cannot edit; models that can: …" UserError
        prompt = check_prompt(caps, prompt)
        if references and 1 + len(references) > caps.edit_max_images:
            raise UserError(f"{caps.name} takes at most {caps.edit_max_images} input image(s) per edit; "
                            f"got {1 + len(references)}")
        refs = [self._reference(r, caps, i) for i, r in enumerate(references, 2)]
        if size:
            size = check_size(caps, size, "edit")
        source, prepared = self.prepare(image, model=caps.name, mask=mask, region=region, size=size,
                                        fit=fit, mask_mode=mask_mode, feather=feather)
        w, h = prepared.geometry.size
        opts = self._options(size=f"{w}x{h}", quality=quality, output_format=output_format, explicit_size=True)
        fields = edit_fields(caps, opts)
        first = ("image.png", prepared.png, "image/png")
        request: dict[str, Any] = dict(fields, prompt=prompt, image=[first, *refs] if refs else first)
        if prepared.mask_png is not None:
            request["mask"] = ("mask.png", prepared.mask_png, "image/png")
        elif caps.family == "dall-e-2":
            raise UserError("dall-e-2 edits need --mask or --region (or an image with transparent areas)")
        answer = self._request(self.images.edit, request, on_progress, prompt)
        return self._save(answer, caps, fields, prompt, "edit", out=out, source=source, prepared=prepared,
                          region=parse_region(region) if region else None)

    def variation(self, image: str | Path, *, n: int = 1, model: str | None = None,
                  out: str | Path | None = None) -> ImageResult:
        caps = get_caps(model or "dall-e-2")
        fields = variation_fields(caps, Options(n=n))
        source, prepared = self.prepare(image, model=caps.name, fit="crop")
        fields["size"] = f"{prepared.geometry.size[0]}x{prepared.geometry.size[1]}"
        request = dict(fields, image=("image.png", prepared.png, "image/png"))
        answer = self._request(_quiet(self.images.create_variation), request, None, "")
        meta_prompt = ""
        try:
            meta_prompt = store.read_png_text(source).get("prompt", "")
        except Exception:  # noqa: BLE001 - the source may be any image
            pass
        return self._save(answer, caps, fields, meta_prompt, "variation", out=out, source=source)

    # ------------------------------------------------------------------ internals
    def _reference(self, image: str | Path, caps: ModelCaps, index: int) -> tuple[str, bytes, str]:
        """An extra input image: RGB, longest edge at most REFERENCE_EDGE, PNG under the limit."""
        from PIL import Image

        from .prepare import encode_png, flatten

        path = store.resolve_image(self.cfg, image)
        img = flatten(decode(store.read_bytes(path), str(path), self.max_pixels))
        if max(img.size) > REFERENCE_EDGE:
            img.thumbnail((REFERENCE_EDGE, REFERENCE_EDGE), Image.Resampling.LANCZOS, reducing_gap=3.0)
        data, _ = encode_png(img, caps.edit_image_max_bytes or None)
        return (f"image-{index}.png", data, "image/png")

    def _options(self, *, size: str | None = None, quality: str | None = None, style: str | None = None,
                 n: int = 1, output_format: str | None = None, background: str | None = None,
                 moderation: str | None = None, output_compression: int | None = None,
                 explicit_size: bool = False) -> Options:
        c = self.cfg.images
        given = {"size": size, "quality": quality, "style": style, "output_format": output_format,
                 "background": background, "moderation": moderation, "output_compression": output_compression}
        explicit = frozenset(k for k, v in given.items() if v is not None)
        if explicit_size:
            explicit |= {"size"}
        return Options(size=size or c.size or None, quality=quality or c.quality or None,
                       style=style or c.style or None, n=n, output_format=output_format or c.output_format or None,
                       output_compression=output_compression, background=background, moderation=moderation,
                       partial_images=c.partial_images, explicit=explicit)

    def _request(self, call: Callable[..., Any], request: dict[str, Any], on_progress: Progress | None,
                 prompt: str) -> "_Answer":
        if log.isEnabledFor(logging.DEBUG):
            shown = {k: (_describe_files(v) if k in ("image", "mask") else v) for k, v in request.items()
                     if k != "prompt"}
            log.debug("image request %s", redact(str(shown)))
        try:
            response = call(**request)
            if request.get("stream"):
                return self._consume_stream(response, on_progress, prompt)
            return _Answer.from_response(response)
        except ImportError:  # pragma: no cover - openai is a dependency
            raise
        except Exception as exc:  # noqa: BLE001 - mapped below or re-raised
            mapped = map_error(exc, self.cfg.images.base_url, self.cfg.images.timeout)
            if mapped is None:
                raise
            raise mapped from None

    def _consume_stream(self, stream: Iterable[Any], on_progress: Progress | None, prompt: str) -> "_Answer":
        finals: list[_Item] = []
        partial_dir: Path | None = None
        stem = f"{store.stamp()}-{store.slugify(prompt)}"
        for event in stream:
            kind = getattr(event, "type", "")
            b64 = getattr(event, "b64_json", None)
            if kind.endswith("partial_image") and b64:
                if on_progress is not None and _is_image(_b64(b64), self.max_pixels):
                    partial_dir = partial_dir or ensure_private_dir(ensure_private_dir(cache_dir()) / "partial-images")
                    idx = getattr(event, "partial_image_index", 0)
                    path = partial_dir / f"{stem}-partial-{idx}.{getattr(event, 'output_format', 'png') or 'png'}"
                    atomic_write_bytes(path, _b64(b64))
                    on_progress(str(path))
            elif kind.endswith("completed") and b64:
                finals.append(_Item(_b64(b64), None, None))
        if not finals:
            raise bad_response("the image stream ended without an image")
        return _Answer(tuple(finals))

    def _save(self, answer: "_Answer", caps: ModelCaps, fields: dict[str, Any], prompt: str, kind: str, *,
              out: str | Path | None, source: Path | None = None, prepared: Prepared | None = None,
              region: str | None = None) -> ImageResult:
        limit = self.cfg.images.download_max_mb * 1024 * 1024
        blobs = [item.data if item.data is not None else download(item.url or "", self.cfg.images.timeout, limit)
                 for item in answer.items]
        if not blobs:
            raise bad_response("the image service answered without images")
        for blob in blobs:  # nothing is saved, indexed or made `last` unless every image is whole
            check_image(blob, self.max_pixels)
        fmt = fields.get("output_format") or "png"
        if prepared is not None:
            blobs = [blend.finish(b, prepared, fmt) for b in blobs]  # input's size; outside the mask kept
        revised = next((i.revised_prompt for i in answer.items if i.revised_prompt), None)
        targets = store.target_paths(self.cfg, prompt or (source.stem if source else "image"), len(blobs),
                                     blend.format_of(blobs[0], fmt), out)
        saved: list[Path] = []
        size_text = None
        for blob, target in zip(blobs, targets):
            size_text = _size_of(blob)
            meta = {"prompt": prompt, "revised_prompt": revised, "model": caps.name, "size": size_text,
                    "quality": fields.get("quality"), "style": fields.get("style"), "kind": kind,
                    "source": str(source) if source else None}
            path = store.save_image(target, blob, meta)
            store.record(self.cfg, path, {k: v for k, v in dict(meta, region=region).items() if v})  # region: the page's overlay
            saved.append(path)
        return ImageResult(tuple(saved), prompt, revised, caps.name, size_text, fields.get("quality"),
                           fields.get("style"), kind, source, prepared.notes if prepared else ())


def _describe_files(value: Any) -> str:
    files = value if isinstance(value, list) else [value]
    return ", ".join(f"<{name} {len(data)} bytes {ctype}>" for name, data, ctype in files)


def _quiet(call: Callable[..., Any]) -> Callable[..., Any]:
    """The SDK marks variations deprecated; the endpoint is still in the spec, so no warning."""
    def wrapped(**kwargs: Any) -> Any:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return call(**kwargs)
    return wrapped


@dataclass(frozen=True)
class _Item:
    data: bytes | None
    url: str | None
    revised_prompt: str | None


@dataclass(frozen=True)
class _Answer:
    items: tuple[_Item, ...]

    @classmethod
    def from_response(cls, response: Any) -> "_Answer":
        items = []
        for d in getattr(response, "data", None) or ():
            b64, url = getattr(d, "b64_json", None), getattr(d, "url", None)
            if not b64 and not url:
                continue
            items.append(_Item(_b64(b64) if b64 else None, url, getattr(d, "revised_prompt", None)))
        return cls(tuple(items))


def _b64(text: Any) -> bytes:
    if not isinstance(text, (str, bytes)):  # JSON of the wrong type: {"b64_json": 5}
        raise bad_response(f"the image service sent {type(text).__name__} where base64 data belongs")
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        raise bad_response("the image service sent invalid base64 data") from None


# ------------------------------------------------------------------ answer validation
MIN_EDGE = 16  # no model answers with a smaller image; a 1x1 "image" is an error page in disguise


def check_image(blob: bytes, max_pixels: int) -> tuple[int, int]:
    """(width, height) when ``blob`` is a whole image of sensible size, else ApiError
    (bad_response): Pillow's verify() checks the structure, load() decodes every pixel."""
    import warnings

    from PIL import Image

    if not blob:
        raise bad_response("the image service sent an empty image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(blob)) as img:
                size = img.size
                if size[0] * size[1] > max_pixels:
                    raise bad_response(f"the image service sent a {size[0]}x{size[1]} image, over the "
                                       f"{max_pixels / 1e6:g} MP limit")
                img.verify()
            with Image.open(io.BytesIO(blob)) as img:
                img.load()
    except ApiError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever Pillow says, it is not a usable image
        what = "not an image" if blob[:1] in (b"<", b"{") or "identify" in str(exc) else "a broken image"
        raise bad_response(f"the image service sent {what} ({len(blob)} bytes)") from None
    if min(size) < MIN_EDGE:
        raise bad_response(f"the image service sent a {size[0]}x{size[1]} image, too small to be a result")
    return size


def _is_image(blob: bytes, max_pixels: int) -> bool:
    try:
        check_image(blob, max_pixels)
        return True
    except ApiError as exc:
        log.warning("skipping a partial image: %s", exc)
        return False


def _size_of(blob: bytes) -> str | None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(blob)) as img:
            return f"{img.width}x{img.height}"
    except Exception:  # noqa: BLE001
        return None




class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects stay on http(s) (urllib would follow one to ftp://), and there are few of them."""

    max_redirections = 5

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 - urllib's signature
        scheme = urllib.parse.urlsplit(urllib.parse.urljoin(req.full_url, newurl)).scheme
        if scheme not in ("http", "https"):
            raise ApiError(f"the image URL redirects to an unusable URL ({scheme or 'no'} scheme)")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def download(url: str, timeout: float, limit: int) -> bytes:
    """GET an image URL (http/https only, redirects too) with a size cap and ``timeout`` for the
    whole download: a server trickling a byte at a time cannot hold a job (or the loop) forever."""
    import time

    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise ApiError(f"the image service answered with an unusable URL ({scheme or 'no'} scheme)")
    too_big = ApiError(f"the image is larger than images.download_max_mb ({limit // 1048576} MB)")
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(_HttpOnlyRedirects)
    try:
        with opener.open(urllib.request.Request(url, headers={"User-Agent": "assistant"}), timeout=timeout) as resp:
            declared = resp.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise too_big
            parts: list[bytes] = []
            size = 0
            while size <= limit:
                if time.monotonic() > deadline:
                    raise ApiError(f"downloading the image took longer than {timeout:g} s")
                piece = resp.read1(min(65536, limit + 1 - size))
                if not piece:
                    break
                parts.append(piece)
                size += len(piece)
            data = b"".join(parts)
    except urllib.error.HTTPError as exc:
        raise ApiError(f"downloading the image failed: HTTP {exc.code}", status=exc.code) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ApiError(f"downloading the image failed: {reason}") from None
    if len(data) > limit:
        raise too_big
    return data


def map_error(exc: Exception, base_url: str = "", timeout: float = 0) -> Exception | None:
    """openai SDK exceptions -> PolicyError (content policy, exit 3) / ApiError; None: not ours."""
    try:
        import openai
    except ImportError:  # pragma: no cover
        return None
    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        err = body.get("error") if isinstance(body.get("error"), dict) else body
        code = getattr(exc, "code", None) or err.get("code")
        etype = getattr(exc, "type", None) or err.get("type")
        message = err.get("message") or str(exc)
        if code in POLICY_CODES or etype in POLICY_CODES:
            return PolicyError(f"refused by content policy: {redact(message)}", exc.status_code, code)
        where = f" ({base_url})" if base_url else ""
        hint = " — check OPENAI_API_KEY" if exc.status_code == 401 else ""
        return ApiError(f"image service error {exc.status_code}{where}: {redact(message)}{hint}",
                        exc.status_code, code)
    if isinstance(exc, openai.APITimeoutError):
        return ApiError(f"the image service did not answer within {timeout:g} s")
    if isinstance(exc, openai.APIConnectionError):
        return ApiError(f"cannot reach the image service{' at ' + base_url if base_url else ''}: "
                        f"{redact(str(exc.__cause__ or exc))}")
    if isinstance(exc, openai.APIError):
        return ApiError(f"image service error: {redact(str(exc))}")
    if isinstance(exc, transport_errors()):  # a streamed answer cut off mid-way
        return bad_response(f"the image service connection broke mid-answer: {redact(str(exc))}", None)
    if isinstance(exc, ValueError):  # the SDK could not parse the answer (bad JSON, wrong shape)
        return bad_response(f"the image service sent an unreadable answer: {redact(str(exc))[:200]}")
    return None


@dataclass(frozen=True, eq=False)
class Preparation:
    """An offline preparation: PIL images (``image``, ``mask``) and, when written, their paths."""

    source: Path
    prepared: Prepared
    paths: tuple[Path, ...] = ()

    @property
    def image(self) -> Any:
        return self.prepared.image

    @property
    def mask(self) -> Any:
        return self.prepared.mask

    @property
    def images(self) -> list[Any]:
        return [i for i in (self.prepared.image, self.prepared.mask) if i is not None]

    def __repr__(self) -> str:
        g = self.prepared.geometry
        mask = f", mask {len(self.prepared.mask_png or b''):,} bytes" if self.prepared.mask_png else ""
        return (f"Preparation({self.source.name}: {g.original[0]}x{g.original[1]} -> {g.size[0]}x{g.size[1]} "
                f"{self.prepared.image.mode} for {self.prepared.model}, {len(self.prepared.png):,} bytes{mask})")

    def _repr_html_(self) -> str:
        captions = [str(p) for p in self.paths] or ["image", "mask"]
        return _html_thumbnails(self.images, captions)

    def save(self, out_dir: str | Path) -> "Preparation":
        """Write ``<stem>-prepared.png`` (+ ``<stem>-mask.png``) into ``out_dir``, never overwriting."""
        from ..paths import unique_path

        directory = Path(out_dir)
        if directory.exists() and not directory.is_dir():
            raise UserError(f"not a directory: {directory}")
        ensure_private_dir(directory)
        stem = store.slugify(self.source.stem, 60)
        written = []
        for suffix, data in (("prepared", self.prepared.png), ("mask", self.prepared.mask_png)):
            if data is not None:
                path = unique_path(directory, f"{stem}-{suffix}", ".png")
                atomic_write_bytes(path, data, overwrite=False)
                written.append(path)
        return Preparation(self.source, self.prepared, tuple(written))
