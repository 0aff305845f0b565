"""Face detection and alignment speed: facerec's MTCNN against the `mtcnn` package, same run.

Per LFW photo (250x250) and per frame of the real video (640x360), both detectors with
FaceNet's thresholds; then align_dataset end to end (decode, detect, crop, write PNG and
sidecar) over all of lfw-dev.  Needs ../shared/data.  Writes bench/out/detection.json.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import tempfile
import time
from pathlib import Path


HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("FACEREC_SHARED_DATA", HERE.parent.parent / "shared" / "data"))


def paired_ms(fns: dict, items, rounds: int = 2, block: int = 10) -> dict:
    """Mean milliseconds per item for each function, timed side by side.

    One warm-up pass first, so one-time set-up (TensorFlow tracing in the mtcnn package,
    interpreter allocation per new shape in facerec) counts for neither.  Then the items go
    through the functions in short blocks, back to back as in a video loop, the functions taking
    turns block by block (order alternating), so a slow spell of this shared machine lands on
    both sides of the ratio instead of on whichever ran during it.  Each block starts with one
    untimed call: right after the other detector has filled the caches and left the cores in
    another state, the first call runs up to 1.4x slower, on either side.
    """
    for fn in fns.values():
        for x in items:
            fn(x)
    total = dict.fromkeys(fns, 0.0)
    names = list(fns)
    for r in range(rounds):
        for b, start in enumerate(range(0, len(items), block)):
            chunk = items[start:start + block]
            for name in (names if (r + b) % 2 == 0 else names[::-1]):
                fns[name](chunk[0])
                t = time.perf_counter()
                for x in chunk:
                    fns[name](x)
                total[name] += time.perf_counter() - t
    return {name: 1000 * t / (rounds * len(items)) for name, t in total.items()}


def video_frames(n: int) -> list:
    """n frames spread evenly over the whole clip (close-ups, the stage, the audience)."""
    import cv2

    cap = cv2.VideoCapture(str(SHARED / "video" / "short_hamilton_clip.mp4"))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    step = max(1, len(frames) // n)
    return [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in frames[::step][:n]]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=100)
    ap.add_argument("--frames", type=int, default=60)
    args = ap.parse_args(argv)
    if not (SHARED / "lfw-dev").is_dir():
        print(f"skipped: {SHARED} not available")
        return None

    from facerec.tensorflow_loader import import_tensorflow

    import_tensorflow()
    from mtcnn import MTCNN as PackageMTCNN

    from facerec import load_image
    from facerec.batch.align_dataset import align_dataset
    from facerec.detection import MTCNN

    photos = [load_image(f) for f in sorted(glob.glob(str(SHARED / "lfw-dev" / "*" / "*.jpg")))[: args.photos]]
    frames = video_frames(args.frames)
    ours, theirs = MTCNN(), PackageMTCNN()
    r = {}
    fns = {"ours": ours.detect, "mtcnn": lambda im: theirs.detect_faces(im, threshold_onet=0.7)}
    for label, items in (("lfw_photo", photos), ("video_frame", frames)):
        ms = paired_ms(fns, items)
        r[f"{label}_ours_ms"], r[f"{label}_mtcnn_ms"] = ms["ours"], ms["mtcnn"]

    out = Path(tempfile.mkdtemp(prefix="bench-align-"))
    try:
        s = align_dataset(SHARED / "lfw-dev", out, progress=False)
        r["align_dataset_photos_per_s"] = s.images / s.seconds
        r["align_dataset_images"] = s.images
        r["align_dataset_workers"] = os.cpu_count()
    finally:
        shutil.rmtree(out, ignore_errors=True)

    print(f"\nMTCNN detection, facerec vs the mtcnn package (same run, {os.cpu_count()} cores)")
    print(f"{'':34}{'facerec':>10}{'mtcnn':>10}{'speed-up':>10}")
    for label, name in (("lfw_photo", f"LFW photo 250x250 (n={len(photos)})"),
                        ("video_frame", f"video frame 640x360 (n={len(frames)})")):
        a, b = r[f"{label}_ours_ms"], r[f"{label}_mtcnn_ms"]
        r[f"{label}_speedup"] = b / a
        print(f"{name:<34}{a:8.1f}ms{b:8.1f}ms{b / a:9.1f}x")
    print(f"align_dataset.py end to end on lfw-dev: {r['align_dataset_photos_per_s']:.1f} photos/s "
          f"({r['align_dataset_images']} photos, {r['align_dataset_workers']} workers)")
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "detection.json").write_text(json.dumps(r, indent=2))
    return r


if __name__ == "__main__":
    main()
