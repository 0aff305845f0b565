"""The service's enrolment and forgetting on a large gallery (45,000 faces by default): each change
copies the gallery, changes the copy, writes it and its index, then makes it current
(serve/live_gallery.py).  Faces are synthetic unit vectors; the index is the gallery's own.
Usage: python bench/serve_gallery_change.py [faces]"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main(argv=None):
    from facerec.identity.gallery import Gallery
    from facerec.serve.live_gallery import LiveGallery

    faces = int((argv or sys.argv[1:] or ["45000"])[0])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(faces, 128)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.npz"
        g = Gallery({"name": "dlib-resnet-v1", "key": "bench", "dim": 128}, 128)
        g.add_many([f"p{i // 3}" for i in range(faces)], x, [f"{i}.jpg" for i in range(faces)])
        t = time.perf_counter()
        g.save(path)  # and its index, once
        print(f"{faces:,} faces: written with its index in {time.perf_counter() - t:.1f} s")
        live = LiveGallery(path)
        for k in range(3):
            v = rng.normal(size=(1, 128)).astype(np.float32)
            t = time.perf_counter()
            live.add(f"new{k}", v / np.linalg.norm(v), [f"new{k}.jpg"])
            added = time.perf_counter() - t
            t = time.perf_counter()
            live.forget(f"p{k}")
            print(f"  enrol {added:.2f} s, forget {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
