"""Reading images safely (EXIF, every mode Pillow reads, size limits) and writing crops."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .errors import FacerecError

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm"}
# Pillow refuses images over ~179 MP as decompression bombs; real photo collections hold
# panoramas and 100 MP camera files, so allow up to 250 MP (about 750 MB decoded).
MAX_PIXELS = 250_000_000


class UnreadableImage(FacerecError):
    """An image file that cannot be decoded; the message says why."""


def is_image_name(path) -> bool:
    """True for a visible file with an image extension (hidden files and sidecars are skipped)."""
    p = Path(path)
    return not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS


def load_image(path) -> np.ndarray:
    """uint8 RGB (H, W, 3) for any common image file, EXIF orientation applied.

    Grayscale, 16-bit, paletted, RGBA (composited on white) and CMYK files are converted;
    anything that cannot be decoded raises UnreadableImage with the reason.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableImage(f"cannot open: {exc.strerror or exc}") from exc
    if size == 0:
        raise UnreadableImage("empty file (0 bytes)")
    try:
        with warnings.catch_warnings():  # Pillow's warning for a large image: the check below decides
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
        with im:
            # Pillow only refuses past twice its limit; decoding costs 3+ bytes a pixel, so check first.
            if im.width * im.height > MAX_PIXELS:
                raise UnreadableImage(f"too large ({im.width}x{im.height}, over {MAX_PIXELS // 1_000_000} "
                                      f"megapixels); not decoded")
            im.load()  # decode now, so a truncated file fails here and not later
            im = ImageOps.exif_transpose(im)
            return pil_to_rgb(im)
    except UnidentifiedImageError as exc:
        raise UnreadableImage("not an image (unknown format)") from exc
    except Image.DecompressionBombError as exc:
        raise UnreadableImage(f"too large (over {MAX_PIXELS // 1_000_000} megapixels)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        msg = str(exc) or type(exc).__name__
        if "truncated" in msg:
            msg = "truncated file: " + msg
        raise UnreadableImage(f"corrupt image: {msg}") from exc


def pil_to_rgb(im) -> np.ndarray:
    from PIL import Image

    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit and float grayscale: Pillow's convert("RGB") clips at 255, so scale instead.
        a = np.asarray(im, dtype=np.float64)
        top = 65535.0 if im.mode.startswith("I;16") or a.max() > 255 else 255.0
        a = np.clip(a / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(a[:, :, None], 3, axis=2)
    if im.mode == "P":
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "RGB" and "transparency" in im.info):
        im = im.convert("RGBA")
        background = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, im)
    if im.mode != "RGB":
        im = im.convert("RGB")
    return np.asarray(im, dtype=np.uint8).copy()


def atomic_save_png(path, rgb: np.ndarray) -> None:
    """Write an RGB image as PNG via a temporary file and a rename."""
    atomic_save_image(path, rgb, ".png")


def atomic_save_image(path, rgb: np.ndarray, kind: str | None = None) -> None:
    """Write an RGB image via a temporary file and a rename, in the format its name's ending (or
    kind, ".png" ".jpg" ...) says: JPEG at quality 95, PNG fast."""
    import cv2

    from .files import atomic_write_bytes

    kind = (kind or Path(path).suffix).lower()
    params = {".png": [cv2.IMWRITE_PNG_COMPRESSION, 1], ".jpg": [cv2.IMWRITE_JPEG_QUALITY, 95],
              ".jpeg": [cv2.IMWRITE_JPEG_QUALITY, 95]}.get(kind, [])
    try:
        ok, buf = cv2.imencode(kind, np.ascontiguousarray(rgb[:, :, ::-1]), params)
    except cv2.error:
        ok = False
    if not ok:
        raise FacerecError(f"{path}: could not encode the image as {kind}")
    atomic_write_bytes(path, buf.tobytes(), fsync=False)
