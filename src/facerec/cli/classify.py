"""classifier.py TRAIN|CLASSIFY: FaceNet's classifier script on facerec's library."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..errors import FacerecError


def parse_arguments(argv=None):
    p = argparse.ArgumentParser(prog="classifier.py", description="Train a face classifier on folders of "
                                "people, or classify photos with one (FaceNet's classifier.py).")
    p.add_argument("mode", choices=["TRAIN", "CLASSIFY"], help="train a new classifier or use one")
    p.add_argument("data_dir", help="one sub-folder of photos (or align_dataset crops) per person; for "
                   "CLASSIFY also a plain folder of photos")
    p.add_argument("model", help="'default' (built-in dlib-resnet-v1) or a FaceNet model path")
    p.add_argument("classifier_filename", help="classifier file to write (TRAIN) or read (CLASSIFY)")
    p.add_argument("--use_split_dataset", action="store_true", help="split each class into train and test "
                   "photos (FaceNet's split), train on the first and classify the second")
    p.add_argument("--batch_size", type=int, default=64, help="faces per embedding batch")
    p.add_argument("--image_size", type=int, default=None, help="face size the model takes (checked)")
    p.add_argument("--seed", type=int, default=666, help="random seed for the split and the SVM")
    p.add_argument("--min_nrof_images_per_class", type=int, default=20)
    p.add_argument("--nrof_train_images_per_class", type=int, default=10)
    p.add_argument("--threshold", type=float, default=None, help="probability under which a face is "
                   "Unknown (default: chosen on the training data by holding people out)")
    p.add_argument("--no_mirror", action="store_true", help="do not add each training face's mirror image")
    p.add_argument("--unknown_dir", help="CLASSIFY: also a folder of people absent from training, "
                   "all of whom should come out Unknown")
    p.add_argument("--report", metavar="DIR", help="CLASSIFY: write per-class precision/recall and a "
                   "confusion-matrix PNG here")
    p.add_argument("--no_cache", action="store_true", help="do not read or write the embedding cache")
    return p.parse_args(argv)


def split_dataset(dataset, min_nrof_images_per_class, nrof_train_images_per_class, seed):
    """FaceNet's split: per class with enough photos, a seeded shuffle, the first N to train."""
    rng = np.random.RandomState(seed)
    train, test = [], []
    for cls in dataset:
        paths = list(cls.image_paths)
        if len(paths) < min_nrof_images_per_class:
            continue
        rng.shuffle(paths)
        train.append((cls.name, paths[:nrof_train_images_per_class]))
        test.append((cls.name, paths[nrof_train_images_per_class:]))
    return train, test


def _labelled(data_dir, args, part):
    from ..io import get_dataset, is_image_name

    root = Path(data_dir)
    if not root.is_dir():
        raise FacerecError(f"{root}: data folder does not exist")
    dataset = get_dataset(root)
    if args.use_split_dataset:
        train, test = split_dataset(dataset, args.min_nrof_images_per_class, args.nrof_train_images_per_class,
                                    args.seed)
        chosen = train if part == "train" else test
        if not chosen:
            raise FacerecError(f"{root}: no person has {args.min_nrof_images_per_class} or more photos "
                               f"(--min_nrof_images_per_class)")
        return chosen, False
    if dataset and any(len(c) for c in dataset):
        return [(c.name, list(c.image_paths)) for c in dataset], False
    flat = sorted(str(f) for f in root.iterdir() if f.is_file() and is_image_name(f))
    if flat and part == "test":
        return [(None, flat)], True  # a plain folder of photos: name whoever is in them
    raise FacerecError(f"{root}: no photos found (expected one sub-folder of photos per person)")


def _load(args):
    from .. import load_embedder
    from ..faces import FaceEncoder

    print("Loading feature extraction model")
    emb = load_embedder(args.model, image_size=args.image_size)
    return emb, FaceEncoder(emb, cache=not args.no_cache, batch_size=args.batch_size)


def _embedder_info(emb, model_spec) -> dict:
    from ..faces import model_key

    return {"name": emb.name, "spec": str(model_spec), "key": model_key(emb), "dim": emb.dim,
            "input_size": list(emb.input_size), "standardization": emb.standardization}


def train(args) -> int:
    from ..classifier import FaceClassifier

    classes, _ = _labelled(args.data_dir, args, "train")
    empty = [name for name, paths in classes if not paths]
    classes = [(name, paths) for name, paths in classes if paths]
    n_images = sum(len(p) for _, p in classes)
    print(f"Number of classes: {len(classes)}")
    print(f"Number of images: {n_images}")
    for name in empty:
        print(f"Skipping class {name}: it holds no photos")
    emb, enc = _load(args)
    print("Calculating features for images")
    paths = [p for _, ps in classes for p in ps]
    labels = [i for i, (_, ps) in enumerate(classes) for _ in ps]
    mirror = not args.no_mirror
    faces = enc.encode(paths, flip=mirror, progress=sys.stderr.isatty())
    X, y, groups, problems = [], [], [], []
    for k, (ff, label) in enumerate(zip(faces, labels)):
        if ff.error:
            problems.append(f"{ff.path}: {ff.error}")
            continue
        j = ff.largest()
        if j is None:
            problems.append(f"{ff.path}: no face found")
            continue
        X.append(ff.embeddings[j]); y.append(label); groups.append(k)
        if mirror:
            X.append(ff.flipped[j]); y.append(label); groups.append(k)
    for line in problems:
        print(f"  skipped {line}")
    names = [n for n, _ in classes]
    faceless = [names[i] for i in range(len(names)) if i not in set(y)]
    for n in faceless:
        print(f"Class {n} has no usable face; it is left out")
    if not X:
        raise FacerecError(f"no face found in any photo under {args.data_dir}")
    X, y, groups = np.asarray(X), np.asarray(y), np.asarray(groups)
    print("Training classifier")
    clf = FaceClassifier(seed=args.seed).fit(X, y, names)
    if args.threshold is not None:
        if not 0 <= args.threshold <= 1:
            raise FacerecError(f"--threshold {args.threshold} is not a probability between 0 and 1")
        clf.threshold = args.threshold
        clf.calibration = {"method": "given by --threshold"}
    else:
        cal = clf.choose_unknown_rule(X, y, groups)
        if "known_accuracy" in cal:
            dist = "" if np.isinf(clf.max_distance) else f", distance {clf.max_distance:.3f}"
            print(f"Unknown threshold: probability {clf.threshold:.3f}{dist} (held-out people: "
                  f"known {cal['known_accuracy']:.3f}, strangers rejected {cal['stranger_rejection']:.3f})")
        elif emb.same_person_distance is not None:
            # Too few people to hold any out: fall back on the model's own measured distance.
            clf.max_distance = float(emb.same_person_distance)
            clf.calibration = {"method": f"{emb.name}'s same-person distance ({cal['reason']})"}
            print(f"Unknown threshold: distance {clf.max_distance:.3f}, {emb.name}'s same-person distance "
                  f"({cal['reason']})")
        else:
            print(f"Unknown threshold: {cal['method']}")
    clf.embedder_info = _embedder_info(emb, args.model)
    clf.save(args.classifier_filename)
    print(f'Saved classifier model to file "{args.classifier_filename}"')
    return 0


def classify(args) -> int:
    from ..classifier import UNKNOWN, FaceClassifier
    from ..faces import model_key

    clf = FaceClassifier.load(args.classifier_filename)  # refuse a bad file before loading models
    classes, unlabelled = _labelled(args.data_dir, args, "test")
    if args.unknown_dir:
        extra, _ = _labelled(args.unknown_dir, argparse.Namespace(**{**vars(args), "use_split_dataset": False}), "test")
        classes = classes + [(f"\0{n}", p) for n, p in extra]  # marked: strangers whatever their name
    emb, enc = _load(args)
    if clf.embedder_info.get("key") and clf.embedder_info["key"] != model_key(emb):
        raise FacerecError(f"{args.classifier_filename} was trained with model '{clf.embedder_info.get('spec')}' "
                           f"({clf.embedder_info.get('name')}); classify with that model, or TRAIN again "
                           f"with '{args.model}'")
    print("Testing classifier")
    print(f'Loaded classifier model from file "{args.classifier_filename}"')
    paths = [p for _, ps in classes for p in ps]
    truth = [n for n, ps in classes for _ in ps]
    faces = enc.encode(paths, progress=sys.stderr.isatty())
    known = set(clf.class_names)
    rows = []  # (true, predicted)
    i = 0
    for ff, true in zip(faces, truth):
        if ff.error:
            print(f"  {ff.path}: {ff.error}")
            continue
        if not len(ff):
            print(f"  {ff.path}: no face found")
            if true is not None:
                rows.append((true, None))
            continue
        picks = range(len(ff)) if unlabelled else [ff.largest()]
        names, probs = clf.predict(ff.embeddings[list(picks)])
        for j, name, prob in zip(picks, names, probs):
            where = f"  ({Path(ff.path).name}" + (f", face at {', '.join(str(int(v)) for v in ff.boxes[j])})"
                                                  if unlabelled else ")") if unlabelled else ""
            print(f"{i:4d}  {name}: {prob:.3f}{where}")
            i += 1
            if true is not None:
                rows.append((true, name))
    if rows:
        k_rows = [(t, p) for t, p in rows if t in known]
        s_rows = [(t, p) for t, p in rows if t not in known]
        if k_rows:
            acc = np.mean([t == p for t, p in k_rows])
            print(f"Accuracy: {acc:.3f}")
        if s_rows:
            rej = np.mean([p in (UNKNOWN, None) for _, p in s_rows])
            print(f"Known people: accuracy {acc if k_rows else float('nan'):.3f} ({len(k_rows)} faces); "
                  f"strangers rejected: {rej:.3f} ({len(s_rows)} faces)")
        if args.report:
            from ..report import write_report

            out = write_report(args.report, rows, clf.class_names)
            print(f"Report written to {out}")
    return 0


def main(argv=None) -> int:
    from . import run_main

    def _run(argv):
        args = parse_arguments(argv)
        return train(args) if args.mode == "TRAIN" else classify(args)

    return run_main(_run, argv, prog="classifier.py")


if __name__ == "__main__":
    sys.exit(main())
