"""Uploaded photos: bytes in, uint8 RGB out, or a refusal that says why (with its HTTP status).

The same rules as facerec.images.load_image (every mode Pillow reads, EXIF turned upright,
the pixel count checked from the header before anything is decoded), from memory instead of a
file, under the service's own pixel limit.
"""
from __future__ import annotations

import io
import warnings

import numpy as np


class Refused(Exception):
    """A request the service turns down: status is the HTTP status, str() the message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def decode_image(data: bytes, max_pixels: int, what: str = "image") -> np.ndarray:
    """uint8 RGB (H, W, 3) of an uploaded image file; Refused (400, or 413 when too large)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    from ..images import MAX_PIXELS, pil_to_rgb

    # As load_image does: Pillow's own bomb check only past twice the library's limit, so the
    # check below (which names the size) is the one that speaks.
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    if not data:
        raise Refused(400, f"{what}: empty file (0 bytes)")
    try:
        with warnings.catch_warnings():  # Pillow's own limit is looser; the check below decides
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
        with im:
            if im.width * im.height > max_pixels:
                raise Refused(413, f"{what}: too large ({im.width}x{im.height} pixels, over "
                                   f"{max_pixels / 1e6:g} megapixels); not decoded")
            im.load()
            return pil_to_rgb(ImageOps.exif_transpose(im))
    except Refused:
        raise
    except UnidentifiedImageError:
        raise Refused(400, f"{what}: not an image (unknown format)") from None
    except Image.DecompressionBombError:
        raise Refused(413, f"{what}: too large (over {max_pixels / 1e6:g} megapixels)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        message = " ".join((str(exc) or type(exc).__name__).split())
        raise Refused(400, f"{what}: corrupt image ({message})") from None
