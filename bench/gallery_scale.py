"""A gallery of 10,000 people: time to add one more person (and write the file) and to identify a face.

Real embeddings of lfw-singles' 1,000 people, plus synthetic people drawn to make up the count: a
real face's embedding rotated to a random point of the sphere keeps the model's spread of one
person's photos while placing the person elsewhere (distances between synthetic people follow
those of random directions in 128-d, which are farther apart than real faces; this measures cost,
not accuracy).  Usage: python bench/gallery_scale.py [--people 10000]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("FACEREC_SHARED_DATA", HERE.parent.parent / "shared" / "data"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=10000)
    ap.add_argument("--photos", type=int, default=3, help="enrolled photos per synthetic person")
    args = ap.parse_args(argv)
    from facerec import load_embedder
    from facerec.identity.gallery import Gallery

    emb = load_embedder("default")
    rng = np.random.default_rng(0)
    real, names = np.zeros((0, emb.dim), np.float32), []
    if (SHARED / "lfw-singles").is_dir():
        from facerec.people_folders import read_people
        from facerec.identity.training import embed_people

        ts = embed_people(emb, read_people(SHARED / "lfw-singles"), mirror=False, progress=False)
        real, names = ts.embeddings, [ts.names[i] for i in ts.labels]
    g = Gallery.for_embedder(emb)
    for n, e in zip(names, real):
        g.enrol(n, e[None], ["lfw"])
    synthetic = args.people - len(set(names))
    centres = rng.normal(size=(synthetic, emb.dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    spread = rng.normal(scale=0.2 / np.sqrt(emb.dim), size=(synthetic, args.photos, emb.dim)).astype(np.float32)
    faces = centres[:, None] + spread
    faces /= np.linalg.norm(faces, axis=2, keepdims=True)
    # Built in one go (enrol() one at a time would copy the array 10,000 times just to set up).
    g.add_many([f"synthetic_{i:05d}" for i in range(synthetic) for _ in range(args.photos)],
               faces.reshape(-1, emb.dim), ["synthetic"] * (synthetic * args.photos))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.npz"
        g.save(path)
        newcomer = faces[0] + rng.normal(scale=0.01, size=faces[0].shape).astype(np.float32)
        newcomer /= np.linalg.norm(newcomer, axis=1, keepdims=True)
        t = time.perf_counter()
        g2 = Gallery.load(path)
        g2.enrol("newcomer", newcomer, ["new.jpg"] * len(newcomer))
        g2.save(path)
        add_s = time.perf_counter() - t
        probes = faces[rng.integers(0, synthetic, 200), 0]
        g2.identify(probes[:1])
        times = []
        for p in probes:
            t = time.perf_counter()
            g2.identify(p[None])
            times.append(time.perf_counter() - t)
        size_mb = path.stat().st_size / 1e6
    print(f"\nGallery of {len(g2.people())} people, {len(g2.labels)} faces ({size_mb:.1f} MB file)")
    print(f"  add one person (load, enrol, write atomically): {add_s * 1000:.0f} ms")
    print(f"  identify one face: median {np.median(times) * 1000:.2f} ms, p99 {np.percentile(times, 99) * 1000:.2f} ms")
    return {"people": len(g2.people()), "add_s": add_s, "identify_ms_p50": float(np.median(times)) * 1000}


if __name__ == "__main__":
    main()
