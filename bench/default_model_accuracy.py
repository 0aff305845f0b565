"""The default model's verification accuracy on raw lfw-dev photos, one pipeline step at a time.

Pairs: `facerec pairs ../shared/data/lfw-dev --per_fold 300` (10 folds x 300 same + 300 different
pairs, people disjoint between folds).  The steps:
  1. the largest face of each photo, chip warped from MTCNN's five landmarks (the old pipeline)
  2. 1 + FaceNet's centre rule for which face is the photo's subject
  3. 2 + the chip cut from dlib's own 5-point landmarks (facerec.detection.shape_predictor, run on the MTCNN box)
  4. 2 + each face's embedding averaged with its mirror image's
  5. 3 + the same
Columns: FaceNet's 10-fold accuracy (threshold chosen on the other folds), the accuracy at the
equal-error distance over all pairs, that distance, and the embedding cost per face.
Usage: python bench/default_model_accuracy.py [--per_fold 300]
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("FACEREC_SHARED_DATA", HERE.parent.parent / "shared" / "data"))


def equal_error_distance(d: np.ndarray, same: np.ndarray) -> float:
    """The distance where the share of same-person pairs above it equals the share of
    different-person pairs below it."""
    grid = np.linspace(0, 1.5, 1501)
    frr = np.array([(d[same] > t).mean() for t in grid])
    far = np.array([(d[~same] <= t).mean() for t in grid])
    return float(grid[np.argmin(np.abs(frr - far))])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per_fold", type=int, default=300)
    args = ap.parse_args(argv)
    lfw = SHARED / "lfw-dev"
    if not lfw.is_dir():
        print(f"skipped: {lfw} not available")
        return None
    from facerec import load_embedder, load_image
    from facerec.alignment import DLIB_5POINT_TEMPLATE, align_for, warp_to_template
    from facerec.detection import MTCNN
    from facerec.evaluation import evaluate, make_pairs, pair_paths
    from facerec.detection.shape_predictor import ShapePredictor, dlib_box
    from facerec.pipeline import subject_face

    text = make_pairs(lfw, per_fold=args.per_fold)
    pairs = [line.split() for line in text.splitlines()[1:]]
    paths, same, _ = pair_paths(lfw, pairs)
    files = sorted({str(p) for pair in paths for p in pair})
    emb, det, sp = load_embedder("default"), MTCNN(), ShapePredictor()
    chips = {"largest": [], "centre": [], "dlib5": []}
    cost = {"mtcnn_warp": 0.0, "dlib5": 0.0}
    for f in files:
        image = load_image(f)
        d = det.detect(image)
        if not len(d):
            for v in chips.values():
                v.append(None)
            continue
        wh = d.boxes[:, 2:] - d.boxes[:, :2]
        big, mid = int(np.argmax(wh[:, 0] * wh[:, 1])), subject_face(d.boxes, image.shape)
        t = time.perf_counter()
        chips["largest"].append(align_for(emb.alignment, image, d.boxes[big], d.landmarks[big]))
        chips["centre"].append(align_for(emb.alignment, image, d.boxes[mid], d.landmarks[mid]))
        cost["mtcnn_warp"] += (time.perf_counter() - t) / 2
        t = time.perf_counter()
        chips["dlib5"].append(warp_to_template(image, sp(image, dlib_box(d.boxes[mid])), 150, 0.25,
                                               DLIB_5POINT_TEMPLATE))
        cost["dlib5"] += time.perf_counter() - t
    ok = np.array([c is not None for c in chips["centre"]])
    index = {f: i for i, f in enumerate(files)}
    a = np.array([index[str(p)] for p, _ in paths])
    b = np.array([index[str(q)] for _, q in paths])
    keep = ok[a] & ok[b]

    def embed(name, flip=False):
        x = np.stack([c for c in chips[name] if c is not None])
        t = time.perf_counter()
        e = emb.embed(x)
        if flip:
            e = e + emb.embed(x[:, :, ::-1])
            e /= np.linalg.norm(e, axis=1, keepdims=True)
        per_face = (time.perf_counter() - t) / len(x)
        full = np.zeros((len(files), e.shape[1]), np.float32)
        full[ok] = e
        return full, per_face

    rows = []
    for label, name, flip in (("1. largest face, MTCNN-landmark chip", "largest", False),
                              ("2. 1 + FaceNet's centre rule", "centre", False),
                              ("3. 2 + dlib's 5-point landmarks for the chip", "dlib5", False),
                              ("4. 2 + mirror averaging", "centre", True),
                              ("5. 3 + mirror averaging", "dlib5", True)):
        e, per_face = embed(name, flip)
        r = evaluate(e[a[keep]], e[b[keep]], same[keep])
        dist = np.linalg.norm(e[a[keep]] - e[b[keep]], axis=1)
        t_eer = equal_error_distance(dist, same[keep])
        acc_eer = float(((dist <= t_eer) == same[keep]).mean())
        align_ms = 1000 * cost["dlib5" if name == "dlib5" else "mtcnn_warp"] / ok.sum()
        rows.append({"step": label, "accuracy": r["accuracy"], "accuracy_std": r["accuracy_std"],
                     "eer_distance": t_eer, "accuracy_at_eer_distance": acc_eer,
                     "align_ms_per_face": align_ms, "embed_ms_per_face": 1000 * per_face})
    print(f"\nDefault model on lfw-dev, {int(keep.sum())} of {len(paths)} pairs (raw photos, {os.cpu_count()} cores)")
    print(f"{'step':46}{'10-fold acc':>16}{'EER dist':>10}{'acc@EER':>9}{'chip ms':>9}{'embed ms':>10}")
    for r in rows:
        print(f"{r['step']:46}{r['accuracy']:9.4f}+-{r['accuracy_std']:.4f}{r['eer_distance']:10.3f}"
              f"{r['accuracy_at_eer_distance']:9.4f}{r['align_ms_per_face']:9.2f}{r['embed_ms_per_face']:10.2f}")
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "default_model_accuracy.json").write_text(json.dumps(rows, indent=2))
    return rows


if __name__ == "__main__":
    main()
