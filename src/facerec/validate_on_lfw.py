"""FaceNet's validate_on_lfw.py: verification accuracy of a model on LFW-style pairs.

    python -m facerec.validate_on_lfw lfw_dir model [--lfw_pairs pairs.txt] [--distance_metric 0|1]
        [--subtract_mean] [--use_flipped_images] [--lfw_batch_size N] [--lfw_nrof_folds 10] [--roc roc.png]

lfw_dir may hold raw LFW photos (faces are detected and aligned on the fly) or crops written by
align_dataset.py (their landmark sidecars are used). A pair whose image is missing is reported
and skipped.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .errors import FacerecError


def parse_arguments(argv=None):
    p = argparse.ArgumentParser(prog="validate_on_lfw", description="Verification accuracy on LFW pairs.")
    p.add_argument("lfw_dir", help="LFW photos (raw or aligned by align_dataset.py), one folder per person")
    p.add_argument("model", help="'default' or a FaceNet model path")
    p.add_argument("--lfw_pairs", default="pairs.txt", help="pairs file in LFW's format (default pairs.txt)")
    p.add_argument("--lfw_batch_size", type=int, default=100)
    p.add_argument("--lfw_nrof_folds", type=int, default=10)
    p.add_argument("--distance_metric", type=int, default=0, choices=[0, 1], help="0 Euclidean, 1 cosine")
    p.add_argument("--subtract_mean", action="store_true", help="subtract the training folds' mean embedding")
    p.add_argument("--use_flipped_images", action="store_true", help="concatenate each face's and its mirror's embeddings")
    p.add_argument("--image_size", type=int, default=None)
    p.add_argument("--roc", default="roc.png", help="where to draw the ROC curve (default roc.png)")
    return p.parse_args(argv)


def validate(args) -> dict:
    from . import load_embedder
    from .evaluation import evaluate, pair_paths, plot_roc, read_pairs
    from .faces import FaceEncoder

    pairs = read_pairs(args.lfw_pairs)
    if not Path(args.lfw_dir).is_dir():
        raise FacerecError(f"{args.lfw_dir}: LFW folder does not exist")
    paths, same, missing = pair_paths(args.lfw_dir, pairs)
    for line in missing:
        print(f"  skipped pair (image missing): {line}")
    if not paths:
        raise FacerecError(f"none of the pairs in {args.lfw_pairs} has both images under {args.lfw_dir}")
    emb = load_embedder(args.model, image_size=args.image_size)
    enc = FaceEncoder(emb, batch_size=args.lfw_batch_size)
    files = sorted({str(p) for pair in paths for p in pair})
    print(f"Running forward pass on {len(files)} LFW images")
    faces = dict(zip(files, enc.encode(files, flip=args.use_flipped_images, progress=sys.stderr.isatty())))
    e1, e2, keep, noface = [], [], [], 0
    for k, (a, b) in enumerate(paths):
        fa, fb = faces[str(a)], faces[str(b)]
        if fa.largest() is None or fb.largest() is None:
            noface += 1
            continue
        va = [fa.embeddings[fa.largest()]]
        vb = [fb.embeddings[fb.largest()]]
        if args.use_flipped_images:
            va.append(fa.flipped[fa.largest()]); vb.append(fb.flipped[fb.largest()])
        e1.append(np.concatenate(va)); e2.append(np.concatenate(vb)); keep.append(k)
    if noface:
        print(f"  skipped {noface} pairs with an image where no face was found")
    r = evaluate(np.asarray(e1), np.asarray(e2), same[keep], n_folds=args.lfw_nrof_folds,
                 metric=args.distance_metric, subtract_mean=args.subtract_mean)
    print(f"Accuracy: {r['accuracy']:2.5f}+-{r['accuracy_std']:2.5f}")
    print(f"Validation rate: {r['val']:2.5f}+-{r['val_std']:2.5f} @ FAR={r['far']:2.5f}")
    print(f"Area Under Curve (AUC): {r['auc']:1.3f}")
    print(f"Equal Error Rate (EER): {r['eer']:1.3f}")
    print(f"Pairs evaluated: {r['pairs']} of {len(pairs)}")
    if args.roc:
        plot_roc(r, args.roc, f"{emb.name} on {Path(args.lfw_dir).name} ({r['pairs']} pairs)")
        print(f"ROC curve: {args.roc}")
    return r


def main(argv=None) -> int:
    from .cli import run_main

    def _run(a):
        validate(parse_arguments(a))
        return 0

    return run_main(_run, argv, prog="validate_on_lfw")


if __name__ == "__main__":
    sys.exit(main())
