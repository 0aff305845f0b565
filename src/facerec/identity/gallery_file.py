"""The gallery file: a NumPy archive read with allow_pickle=False, written atomically, keyed to its
model; every field is checked before use, so a damaged or hostile file is refused with one line."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import FacerecError
from .protocol import UNKNOWN

FORMAT = "facerec-gallery"
FORMAT_VERSION = 2  # 2: the faces rendered masked beside them


def write_gallery(gallery, path) -> None:
    """Write a Gallery's people and faces to path atomically."""
    from ..files import atomic_write_bytes
    from ..npz_file import write_arrays

    meta = {"format": FORMAT, "version": FORMAT_VERSION, "embedder": gallery.embedder_info,
            "false_accept": gallery.false_accept, "labels": gallery.labels, "sources": gallery.sources}
    atomic_write_bytes(path, write_arrays({"meta": meta, "embeddings": gallery.embeddings,
                                           "masked_embeddings": gallery.masked_embeddings}))


def read_gallery(path) -> tuple[dict, np.ndarray, np.ndarray]:
    """(meta, embeddings, masked renderings) of a gallery file, every field checked: meta's
    embedder, false_accept, labels and sources; anything that is not a whole gallery file is
    refused.  A file from before masked renderings has none (zeros)."""
    from ..npz_file import read_arrays

    path = Path(path)
    meta, arrays = read_arrays(path, "gallery", ["embeddings"], optional=["masked_embeddings"],
                               newest=FORMAT_VERSION)
    if meta.get("format") != FORMAT:
        raise FacerecError(f"{path}: not a facerec gallery file")
    if not isinstance(meta.get("version"), int) or meta["version"] > FORMAT_VERSION:
        raise FacerecError(f"{path}: made by a newer facerec (format {meta.get('version')}); upgrade facerec")
    emb = arrays["embeddings"]
    masked = arrays.get("masked_embeddings", np.zeros_like(emb))
    _check(path, meta, emb)
    _check_masked(path, masked, emb.shape)
    return meta, emb.astype(np.float32), masked.astype(np.float32)


def _check_masked(path, masked: np.ndarray, shape) -> None:
    from ..embedding.vectors import rendered_rows
    from ..npz_file import check, is_float

    present = rendered_rows(masked) if is_float(masked) and masked.ndim == 2 else None
    check(present is not None and masked.shape == shape and np.isfinite(masked).all()
          and np.allclose(np.linalg.norm(masked[present], axis=1), 1, atol=1e-3), path, "gallery",
          "masked renderings")


def _check(path, meta: dict, emb: np.ndarray) -> None:
    """Refuse any field a gallery could not have written."""
    from ..npz_file import check, finite_number, is_float, unit_rows

    def ok(condition, what):
        check(condition, path, "gallery", what)

    labels, sources, info = meta.get("labels"), meta.get("sources"), meta.get("embedder")
    ok(isinstance(info, dict) and isinstance(info.get("dim"), int) and 0 < info["dim"] <= 4096
       and isinstance(info.get("name", ""), str), "model fields")
    ok(finite_number(meta.get("false_accept", 0.01), 0, 1) and 0 < meta.get("false_accept", 0.01) < 1,
       "false-accept rate")
    ok(is_float(emb) and emb.ndim == 2 and emb.shape[1] == info["dim"] and np.isfinite(emb).all()
       and unit_rows(emb), "embeddings")
    ok(isinstance(labels, list) and len(labels) == len(emb) and all(_is_name(n) for n in labels), "names")
    ok(isinstance(sources, list) and len(sources) == len(emb) and all(isinstance(p, str) for p in sources),
       "photo paths")


def _is_name(name) -> bool:
    """A name a gallery may hold: the rule older facerec wrote them by (a plain label: no path, no
    control characters, not Unknown); Gallery.load brings each to the one form names take now."""
    return isinstance(name, str) and bool(name.strip()) and name not in (".", "..", UNKNOWN) \
        and not any(c in name for c in "/\\") and not any(ord(c) < 32 for c in name)


def is_gallery_file(path) -> bool:
    """Whether a recognition file is a gallery (else it is taken for a classifier)."""
    from ..npz_file import read_arrays

    try:
        return read_arrays(path, "gallery", [], verify=False)[0].get("format") == FORMAT
    except FacerecError:  # anything unreadable is left to the classifier's loader to explain
        return False
