"""A static page of faces: a row of thumbnails per person or cluster, each linking to its photo.

One self-contained file (thumbnails are embedded as JPEG data), so it can be mailed or opened
from anywhere; the links to photos are relative to the page, so the page and collection can
move together.
"""
from __future__ import annotations

import base64
import html
import os
from pathlib import Path
from urllib.parse import quote

import numpy as np

THUMB = 96       # pixels, square
MAX_PER_GROUP = 240  # a page that still opens quickly; the rest are counted

STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;background:#fafafa;color:#222}
h1{font-size:20px;margin:0 0 4px} p.sub{color:#666;margin:0 0 20px}
section{margin:0 0 18px;padding:12px;background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002}
h2{font-size:16px;margin:0 0 8px} h2 small{color:#777;font-weight:normal}
.faces{display:flex;flex-wrap:wrap;gap:6px}
.faces a{display:block;line-height:0} .faces img{width:96px;height:96px;border-radius:4px;object-fit:cover}
.more{align-self:center;color:#777;padding:0 8px}
section.unknown{background:#f4f4f4}
"""


def _thumbnail(image: np.ndarray, box) -> str:
    """A square crop around the face with some context, as a data: URL."""
    import cv2

    x1, y1, x2, y2 = (float(v) for v in box)
    cx, cy, side = (x1 + x2) / 2, (y1 + y2) / 2, max(x2 - x1, y2 - y1) * 1.3
    h, w = image.shape[:2]
    a, b = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    c, d = int(min(w, cx + side / 2)), int(min(h, cy + side / 2))
    crop = image[b:d, a:c] if c > a and d > b else image
    crop = cv2.resize(crop, (THUMB, THUMB), interpolation=cv2.INTER_AREA)
    ok, jpg = cv2.imencode(".jpg", np.ascontiguousarray(crop[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return "data:image/jpeg;base64," + base64.b64encode(jpg.tobytes()).decode()


PAGE_START = "<!doctype html><html><head><meta charset='utf-8'>"  # how every page begins


def looks_like_page(head: bytes) -> bool:
    """Whether a file's first bytes are a page write_page wrote (a rerun may replace it)."""
    return head.startswith(PAGE_START.encode())


def write_page(path, title: str, subtitle: str, groups) -> None:
    """groups: (heading, faces, is_unknown) with faces as (photo path, box, tooltip); written atomically."""
    from ..files import atomic_write_bytes
    from ..images import UnreadableImage, load_image

    page_dir = Path(path).resolve().parent
    images: dict = {}

    def image_of(photo):
        if photo not in images:
            images.clear()  # faces come grouped by person, not photo: keep one decoded image
            try:
                images[photo] = load_image(photo)
            except UnreadableImage:
                images[photo] = None
        return images[photo]

    parts = [f"{PAGE_START}<title>{html.escape(title)}</title>"
             f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
             f"<p class='sub'>{html.escape(subtitle)}</p>"]
    for heading, faces, unknown in groups:
        photos = len({p for p, _, _ in faces})
        parts.append(f"<section class='{'unknown' if unknown else 'person'}'><h2>{html.escape(heading)} "
                     f"<small>{len(faces)} face{'s' * (len(faces) != 1)} in {photos} photo{'s' * (photos != 1)}"
                     f"</small></h2><div class='faces'>")
        for photo, box, tip in faces[:MAX_PER_GROUP]:
            image = image_of(photo)
            if image is None:
                continue
            href = quote(os.fsencode(os.path.relpath(Path(photo).resolve(), page_dir).replace(os.sep, "/")))
            parts.append(f"<a href='{href}' title='{html.escape(tip, quote=True)}'>"
                         f"<img src='{_thumbnail(image, box)}' alt='{html.escape(Path(photo).name, quote=True)}'></a>")
        if len(faces) > MAX_PER_GROUP:
            parts.append(f"<span class='more'>and {len(faces) - MAX_PER_GROUP} more</span>")
        parts.append("</div></section>")
    parts.append("</body></html>\n")
    # A file name that is not UTF-8 shows escaped; its link above is percent-encoded from its bytes.
    atomic_write_bytes(path, "".join(parts).encode("utf-8", "backslashreplace"), fsync=False)
