"""A masked copy of a folder of photos (`facerec mask`): every face found wears a mask.

For a user's own tests (does my gallery know us masked?) and the bench.  The copy keeps the
folder's layout (one sub-folder per person stays one), each photo under its own name.  A photo
already at the copy's place is left as it is (a rerun adds what is missing); the masks drawn
depend only on the seed and the photo's place in the folder, so a rerun draws the same ones.
"""
from __future__ import annotations

import dataclasses
import os
import hashlib
from pathlib import Path

import numpy as np

from ..errors import FacerecError
from ..images import IMAGE_EXTENSIONS, UnreadableImage, atomic_save_image, load_image
from ..masks import pick_style, draw_mask

WRITABLE = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


@dataclasses.dataclass
class MaskedCopy:
    written: int = 0
    faces: int = 0
    kept: int = 0  # already in the copy
    no_face: list = dataclasses.field(default_factory=list)
    failed: list = dataclasses.field(default_factory=list)  # (path, why)


def photos_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def check_folders(src, dst) -> tuple[Path, Path]:
    """Both folders, checked before any work: the copy must not land in the photos it is made of."""
    src, dst = Path(src), Path(dst)
    if not src.is_dir():
        raise FacerecError(f"{src}: " + ("a file, not a folder of photos" if src.exists() else "no such folder"))
    s, d = src.resolve(), dst.resolve()
    if d == s:
        raise FacerecError(f"{dst} is the input folder: write the masked copy somewhere else")
    if s in d.parents:
        raise FacerecError(f"{dst} is inside {src}: write the masked copy somewhere else")
    if d in s.parents:
        raise FacerecError(f"{src} is inside {dst}: write the masked copy somewhere else")
    if dst.exists() and not dst.is_dir():
        raise FacerecError(f"{dst} is a file; name a folder for the masked copy")
    return src, dst


def mask_folder(src, dst, kind: str | None = None, seed: int = 0, detector=None, progress=None) -> MaskedCopy:
    """Copy every photo of src with a face into dst, each face masked (a random style, or one kind)."""
    src, dst = check_folders(src, dst)
    if detector is None:
        from ..detection import MTCNN

        detector = MTCNN()
    done = MaskedCopy()
    for photo in photos_under(src):
        _mask_one(photo, src, dst, kind, seed, detector, done)
        if progress is not None:
            progress.update(1)
    return done


def _mask_one(photo: Path, src: Path, dst: Path, kind, seed: int, detector, done: MaskedCopy) -> None:
    rel = photo.relative_to(src)
    out = dst / rel if photo.suffix.lower() in WRITABLE else dst / (str(rel) + ".png")
    if out.exists():
        done.kept += 1
        return
    try:
        image = load_image(photo)
    except UnreadableImage as exc:
        done.failed.append((str(photo), str(exc)))
        return
    found = detector.detect(image)
    if not len(found):
        done.no_face.append(str(photo))
        return
    rng = np.random.default_rng([seed, int.from_bytes(hashlib.sha256(os.fsencode(rel)).digest()[:8], "little")])
    try:
        for landmarks in found.landmarks:
            image = draw_mask(image, landmarks, pick_style(rng, kind))
    except FacerecError as exc:  # landmarks a mask cannot follow: this photo, not the whole run
        done.failed.append((str(photo), str(exc)))
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_save_image(out, image)
    done.written += 1
    done.faces += len(found)
