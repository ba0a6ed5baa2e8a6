"""`assistant draw`, `assistant edit`, `assistant prepare`: images from prompts, inpainting edits
with a mask file or a spoken region, and offline preparation of an image + mask."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import UserError
from .common import get_config, text_option

FORMATS = ("png", "jpeg", "webp")
FITS = ("pad", "crop", "stretch")
MASK_MODES = ("auto", "white", "transparent")


def _service():
    from ..images.factory import make_image_service

    return make_image_service(get_config())


def _progress(path: str) -> None:
    click.echo(f"partial: {path}", err=True)


def _print_paths(result) -> None:
    for path in result.paths:
        click.echo(str(path))
    if result.revised_prompt:
        click.echo(f"revised prompt: {result.revised_prompt}", err=True)
    for note in getattr(result, "notes", ()):
        click.echo(f"note: {note}", err=True)


@click.command()
@click.argument("prompt", callback=text_option("PROMPT"))
@click.option("--model", help="dall-e-2, dall-e-3, gpt-image-2, gpt-image-1.5, … (default: images.model).")
@click.option("--size", help="e.g. 1024x1024, 1536x1024, auto; gpt-image-2 takes any WxH within its limits.")
@click.option("--quality", help="GPT image: low|medium|high|auto; dall-e-3: standard|hd.")
@click.option("--style", help="dall-e-3 only: vivid|natural.")
@click.option("--n", "n", type=int, default=1, show_default=True, help="How many images (dall-e-3: 1).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="GPT image models only (default: images.output_format).")
@click.option("--background", type=click.Choice(("transparent", "opaque", "auto")), help="GPT image models only.")
@click.option("--compression", type=int, help="0..100, GPT image models with --format jpeg or webp.")
@click.option("--moderation", type=click.Choice(("low", "auto")), help="GPT image models only.")
@click.option("--out", help="A file name, or a directory (existing or ending in '/'); default: images.output_dir.")
def draw(prompt: str, model: str | None, size: str | None, quality: str | None, style: str | None, n: int,
         fmt: str | None, background: str | None, compression: int | None, moderation: str | None,
         out: str | None) -> None:
    """Draw PROMPT and print the saved file paths."""
    if not prompt.strip():
        raise UserError("the prompt is empty")
    service = _service()
    result = service.generate(prompt, model=model, size=size, quality=quality, style=style, n=n,
                              output_format=fmt, background=background, output_compression=compression,
                              moderation=moderation, on_progress=_progress, out=out)
    _print_paths(result)


@click.command(short_help="Edit an image (or `last`), optionally inside a mask or region.")
@click.argument("image")
@click.argument("prompt", callback=text_option("PROMPT"))
@click.option("--mask", type=click.Path(path_type=Path), help="Mask file: white = edit, or transparent = edit.")
@click.option("--region", help="A spoken region: 'top left', 'everything but the centre', '왼쪽 위', …")
@click.option("--mask-mode", type=click.Choice(MASK_MODES), default="auto", show_default=True,
              help="How to read --mask: white areas or transparent areas are edited (auto: transparent if it has any).")
@click.option("--ref", "refs", multiple=True, help="Another input image (GPT image models, up to 15); repeatable.")
@click.option("--model", help="dall-e-2 or a GPT image model (default: images.model).")
@click.option("--size", help="Prepared/output size (default: the nearest size the model takes).")
@click.option("--fit", type=click.Choice(FITS), help="How the image is brought to that size (default: images.fit).")
@click.option("--feather", type=click.IntRange(0, 200), default=0,
              help="Soften the blend of the edit into the original by this many px (the API mask is unchanged).")
@click.option("--out", help="A file name, or a directory (existing or ending in '/'); default: images.output_dir.")
def edit(image: str, prompt: str, mask: Path | None, region: str | None, mask_mode: str, refs: tuple[str, ...],
         model: str | None, size: str | None, fit: str | None, feather: int, out: str | None) -> None:
    """Edit IMAGE (a file, or `last`) as PROMPT says, only inside --mask / --region when given.
    The result has IMAGE's size; outside the mask or region every pixel is IMAGE's."""
    if mask is not None and region:
        raise UserError("give either --mask or --region, not both")
    if not prompt.strip():
        raise UserError("the prompt is empty")
    service = _service()
    result = service.edit(image, prompt, mask=mask, region=region, mask_mode=mask_mode, model=model, size=size,
                          fit=fit, on_progress=_progress, out=out, references=refs, feather=feather)
    _print_paths(result)


@click.command(short_help="Prepare an image (and mask) for an edit, offline.")
@click.argument("image")
@click.option("--mask", type=click.Path(path_type=Path), help="Mask file: white = edit, or transparent = edit.")
@click.option("--region", help="A spoken region: 'top left', 'the middle', '가운데', …")
@click.option("--model", help="Model to prepare for (default: images.model).")
@click.option("--size", help="Target size (default: the nearest size the model takes).")
@click.option("--fit", type=click.Choice(FITS), help="pad | crop | stretch (default: images.fit).")
@click.option("--mask-mode", type=click.Choice(MASK_MODES), default="auto", show_default=True,
              help="How to read --mask: white areas or transparent areas are edited (auto: transparent if it has any).")
@click.option("--feather", type=click.IntRange(0, 200), default=0, help="Also write the feathered blend mask (px); the API mask is unchanged.")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where the prepared files go (never overwriting).")
def prepare(image: str, mask: Path | None, region: str | None, model: str | None, size: str | None,
            fit: str | None, mask_mode: str, feather: int, out_dir: Path) -> None:
    """Prepare IMAGE (and a mask) for an edit, offline: print sizes, modes and bytes."""
    from ..images.service import ImageService
    from ..images.store import slugify
    from ..paths import atomic_write_bytes, ensure_private_dir, unique_path

    if mask is not None and region:
        raise UserError("give either --mask or --region, not both")
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"not a directory: {out_dir}")
    service = ImageService(get_config())  # no client: preparation never sends anything
    source, prep = service.prepare(image, model=model, mask=mask, region=region, size=size, fit=fit,
                                   mask_mode=mask_mode, feather=feather)
    ensure_private_dir(out_dir)  # 0700, only once there is something to write
    stem = slugify(source.stem, 60)
    geo = prep.geometry
    img_path = unique_path(out_dir, f"{stem}-prepared", ".png")
    atomic_write_bytes(img_path, prep.png, overwrite=False)
    click.echo(f"image: {img_path}  {geo.size[0]}x{geo.size[1]} {prep.image.mode} PNG {len(prep.png):,} bytes "
               f"(from {geo.original[0]}x{geo.original[1]}, fit {geo.fit}, content box {geo.box}) for {prep.model}")
    if prep.mask_png is not None and prep.bitmask is not None:
        mask_path = unique_path(out_dir, f"{stem}-mask", ".png")
        atomic_write_bytes(mask_path, prep.mask_png, overwrite=False)
        hist = prep.bitmask.histogram()
        share = hist[255] / max(1, sum(hist)) * 100
        click.echo(f"mask:  {mask_path}  {prep.mask.size[0]}x{prep.mask.size[1]} {prep.mask.mode} PNG "
                   f"{len(prep.mask_png):,} bytes (alpha 0 = repaint: {share:.1f} %, else 255)")
        if feather and prep.soft_mask is not None:
            import io

            soft_path = unique_path(out_dir, f"{stem}-mask-soft", ".png")
            buf = io.BytesIO()
            prep.soft_mask.save(buf, "PNG")
            atomic_write_bytes(soft_path, buf.getvalue(), overwrite=False)
            click.echo(f"soft:  {soft_path}  feathered blend mask ({feather} px; the API mask is unchanged)")
    for note in prep.notes:
        click.echo(f"note: {note}", err=True)


COMMANDS = [draw, edit, prepare]
