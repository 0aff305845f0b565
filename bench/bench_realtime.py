"""Real-time loop on the real video: facerec's against the same loop with the mtcnn package.

Classifier: lin-manuel-miranda.png and alex-lacamoire.png (../shared/data/video). facerec's
loop (detection every 2nd frame on a downscaled copy, tracking, re-embedding every 5th frame)
runs the whole clip headless; the anchor loop detects with the `mtcnn` package on every frame
and embeds and classifies every face of every frame, on the first --anchor-frames frames.
Writes bench/out/realtime.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("FACEREC_SHARED_DATA", HERE.parent.parent / "shared" / "data"))
CLIP = SHARED / "video" / "short_hamilton_clip.mp4"


def train(tmp: Path) -> Path:
    from facerec import train_classifier

    for person, photo in (("lin_manuel_miranda", "lin-manuel-miranda.png"), ("alex_lacamoire", "alex-lacamoire.png")):
        (tmp / "gallery" / person).mkdir(parents=True)
        shutil.copy(SHARED / "video" / photo, tmp / "gallery" / person / photo)
    clf = tmp / "hamilton.npz"
    train_classifier(tmp / "gallery").save(clf)
    return clf


def anchor_loop(clf_path, frames: int) -> float:
    """The naive loop: mtcnn package on every frame, every face embedded and classified."""
    import cv2
    from mtcnn import MTCNN as PackageMTCNN

    from facerec import Recognizer
    from facerec.alignment import align_for

    rec = Recognizer.load(clf_path)
    clf, emb, det = rec.identifier, rec.embedder, PackageMTCNN()
    cap = cv2.VideoCapture(str(CLIP))
    ok, frame = cap.read()
    det.detect_faces(frame[:, :, ::-1].copy())  # warm-up
    n, t = 0, time.perf_counter()
    while ok and n < frames:
        rgb = frame[:, :, ::-1].copy()
        faces = det.detect_faces(rgb, threshold_onet=0.7)
        chips = []
        for f in faces:
            x, y, w, h = f["box"]
            k = f["keypoints"]
            lm = np.array([k[j] for j in ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")], float)
            chips.append(align_for(emb.alignment, rgb, np.array([x, y, x + w, y + h]), lm))
        if chips:
            clf.predict(emb.embed(np.stack(chips)))
        n += 1
        ok, frame = cap.read()
    cap.release()
    return n / (time.perf_counter() - t)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--anchor-frames", type=int, default=40)
    args = ap.parse_args(argv)
    if not CLIP.exists():
        print(f"skipped: {CLIP} not available")
        return None
    from facerec import Recognizer
    from facerec.video.realtime import run_video

    tmp = Path(tempfile.mkdtemp(prefix="bench-rt-"))
    try:
        clf = train(tmp)
        rec = Recognizer.load(clf)
        run_video(str(CLIP), rec, display=False, max_frames=10)  # warm caches and graphs
        stats = run_video(str(CLIP), rec, display=False, log=tmp / "events.jsonl")
        names = sorted({e["name"] for e in stats.events})
        anchor = anchor_loop(clf, args.anchor_frames)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    r = {"ours_fps": stats.fps, "ours_frames": stats.frames, "anchor_fps": anchor,
         "anchor_frames": args.anchor_frames, "speedup": stats.fps / anchor, "names_in_log": names}
    print(f"\nReal-time loop on short_hamilton_clip.mp4 (640x360, {os.cpu_count()} cores)")
    print(f"  facerec (detect every 2nd frame, track, vote): {stats.fps:6.1f} frames/s over {stats.frames} frames")
    print(f"  same loop, mtcnn package every frame:          {anchor:6.1f} frames/s over {args.anchor_frames} frames")
    print(f"  speed-up: {stats.fps / anchor:.1f}x; names in the events log: {', '.join(names)}")
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "realtime.json").write_text(json.dumps(r, indent=2))
    return r


if __name__ == "__main__":
    main()
