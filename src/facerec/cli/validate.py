"""validate_on_lfw: FaceNet's verification accuracy of a model on LFW-style pairs.

    python -m facerec.validate_on_lfw lfw_dir model [--lfw_pairs pairs.txt] [--distance_metric 0|1]
        [--subtract_mean] [--use_flipped_images] [--lfw_batch_size N] [--lfw_nrof_folds 10] [--roc roc.png]

lfw_dir may hold raw LFW photos (faces are detected and aligned on the fly) or crops written by
align_dataset.py (their landmark sidecars are used). A pair whose image is missing is reported
and skipped.
"""
from __future__ import annotations

import sys
from pathlib import Path
from .options import DISTANCE, Parser, whole


def parse_arguments(argv=None, prog="validate_on_lfw"):
    p = Parser(prog=prog, description="Verification accuracy on LFW pairs.")
    p.add_argument("lfw_dir", help="LFW photos (raw or aligned by align_dataset.py), one folder per person")
    p.add_argument("model", help="'default' or a FaceNet model path")
    p.add_argument("--lfw_pairs", default="pairs.txt", help="pairs file in LFW's format (default pairs.txt)")
    p.add_argument("--lfw_batch_size", type=whole(1), default=100)
    p.add_argument("--lfw_nrof_folds", type=whole(2), default=None, help="folds of the protocol (default: "
                   "those the pairs file was written for, its header's first number; 10 for LFW's)")
    p.add_argument("--distance_metric", type=int, default=0, choices=[0, 1], help="0 Euclidean, 1 cosine")
    p.add_argument("--subtract_mean", action="store_true", help="subtract the training folds' mean embedding")
    p.add_argument("--use_flipped_images", action="store_true", help="concatenate each face's and its mirror's "
                   "embeddings (FaceNet's option; a model that averages with the mirror, as the default does, "
                   "gains nothing from it)")
    p.add_argument("--image_size", type=whole(1), default=None)
    p.add_argument("--distance_threshold", type=DISTANCE, default=None, help="also report accuracy at this "
                   "Euclidean distance (default: the model's same-person distance, what `facerec verify` uses for sharp, "
                   "unmasked faces)")
    p.add_argument("--roc", default=None, help="where to draw the ROC curve (default roc.png, or roc-2.png "
                   "and so on when that is taken: a file already there is replaced only when named)")
    a = p.parse_args(argv)
    if a.roc is None:
        from ..files import unused_name

        a.roc = str(unused_name("roc.png"))
    return a


def main(argv=None, prog="validate_on_lfw") -> int:
    from . import run_main

    def _run(argv):
        from ..evaluation import figure_format, looks_like_figure, plot_roc, validate_pairs
        from ..files import refuse_output_over_input, refuse_replacing_another_kind

        a = parse_arguments(argv, prog)
        if a.roc:
            figure_format(a.roc)
            refuse_output_over_input(a.roc, [(a.lfw_pairs, "the pairs file")], "--roc")
            refuse_replacing_another_kind(a.roc, looks_like_figure, "a figure facerec drew", "--roc")
        print(f"Running forward pass on the images of {a.lfw_pairs}")
        r = validate_pairs(a.lfw_dir, a.lfw_pairs, a.model, n_folds=a.lfw_nrof_folds, metric=a.distance_metric,
                           subtract_mean=a.subtract_mean, use_flipped_images=a.use_flipped_images,
                           batch_size=a.lfw_batch_size, image_size=a.image_size,
                           distance_threshold=a.distance_threshold)
        for line in r["missing"]:
            print(f"  skipped pair (image missing): {line}")
        if r["no_face"]:
            print(f"  skipped {r['no_face']} pairs with an image where no face was found")
        print(f"Accuracy: {r['accuracy']:2.5f}+-{r['accuracy_std']:2.5f}")
        if r["val_measurable"]:
            print(f"Validation rate: {r['val']:2.5f}+-{r['val_std']:2.5f} @ FAR={r['far']:2.5f}")
        else:
            print(f"Validation rate: not measured: a FAR of {r['far_target']:g} needs "
                  f"{r['different_pairs_needed']:,} different-person pairs in the training folds, these have "
                  f"{r['different_pairs_per_training']:,}")
        print(f"Area Under Curve (AUC): {r['auc']:1.3f}")
        print(f"Equal Error Rate (EER): {r['eer']:1.3f}")
        if "fixed_accuracy" in r:
            print(f"Accuracy at distance {r['fixed_threshold']:.3f}: {r['fixed_accuracy']:2.5f}")
        print(f"Pairs evaluated: {r['pairs']} of {r['total_pairs']}")
        if a.roc:
            plot_roc(r, a.roc, f"{r['model_name']} on {Path(a.lfw_dir).name} ({r['pairs']} pairs)")
            print(f"ROC curve: {a.roc}")
        return 0

    return run_main(_run, argv, prog=prog)


if __name__ == "__main__":
    sys.exit(main())
