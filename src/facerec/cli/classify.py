"""classifier.py TRAIN|CLASSIFY: FaceNet's classifier script on facerec's library."""
from __future__ import annotations

import sys

from ..errors import FacerecError
from .options import Parser, SHARE, add_threshold, whole


def parse_arguments(argv=None, prog="classifier.py"):
    p = Parser(prog=prog, description="Train a face classifier on folders of "
                                "people, or classify photos with one (FaceNet's classifier.py).")
    p.add_argument("mode", choices=["TRAIN", "CLASSIFY"], help="train a new classifier or use one")
    p.add_argument("data_dir", help="one sub-folder of photos (or align_dataset crops) per person; for "
                   "CLASSIFY also a plain folder of photos")
    p.add_argument("model", help="'default' (built-in dlib-resnet-v1) or a FaceNet model path")
    p.add_argument("classifier_filename", help="classifier file to write (TRAIN) or read (CLASSIFY)")
    p.add_argument("--use_split_dataset", action="store_true", help="split each class into train and test "
                   "photos (FaceNet's split), train on the first and classify the second")
    p.add_argument("--batch_size", type=whole(1), default=64, help="faces per embedding batch")
    p.add_argument("--image_size", type=whole(1), default=None, help="face size the model takes (checked)")
    p.add_argument("--seed", type=whole(0, 4294967295), default=666, help="random seed for the split and the SVM")
    p.add_argument("--min_nrof_images_per_class", type=whole(1), default=20)
    p.add_argument("--nrof_train_images_per_class", type=whole(1), default=10)
    add_threshold(p, "; TRAIN stores it, CLASSIFY may override it")
    p.add_argument("--no_mirror", action="store_true", help="do not add each training face's mirror image")
    p.add_argument("--false_accept", type=SHARE, default=0.01, help="TRAIN: share of stranger faces the "
                   "classifier may name (default 0.01); sets the default --threshold")
    p.add_argument("--unknown_dir", help="CLASSIFY: also a folder of people absent from training, "
                   "all of whom should come out Unknown")
    p.add_argument("--report", metavar="DIR", help="CLASSIFY: labelled folders: per-class precision/recall "
                   "and a confusion-matrix PNG; plain photos: faces per person and a distance plot")
    p.add_argument("--output", help="CLASSIFY: one row per face, results.csv or results.jsonl")
    p.add_argument("--no_cache", action="store_true", help="do not read or write the embedding cache")
    return p.parse_args(argv)


def _split(args):
    from ..people_folders import Split

    if not args.use_split_dataset:
        return None
    return Split(args.min_nrof_images_per_class, args.nrof_train_images_per_class, args.seed)


def train(args) -> int:
    from ..embedding import load_embedder
    from ..files import refuse_output_over_input, refuse_replacing_another_kind
    from ..identity.classifier_file import looks_like_classifier
    from ..identity.training import check_training_request, describe_unknown_rule
    from ..people_folders import read_people
    from ..recognizer import Recognizer

    # TRAIN writes the classifier: never over the model it is trained with or the photos.
    refuse_output_over_input(args.classifier_filename, [(args.model, "the model"), (args.data_dir, "the data_dir")],
                             "classifier_filename")
    refuse_replacing_another_kind(args.classifier_filename, looks_like_classifier, "a classifier file",
                                  "classifier_filename")
    people = read_people(args.data_dir, _split(args), "train")
    check_training_request(people, args.threshold, args.false_accept)  # before the slow part
    print(f"Number of classes: {sum(1 for _, p in people if p)}")
    print(f"Number of images: {sum(len(p) for _, p in people)}")
    for name, paths in people:
        if not paths:
            print(f"Skipping class {name}: it holds no photos")
    print("Loading feature extraction model")
    rec = Recognizer.for_model(load_embedder(args.model, image_size=args.image_size))
    print("Calculating features for images")
    ts = rec.training_set(people, mirror=not args.no_mirror, cache=not args.no_cache, batch_size=args.batch_size)
    for line in ts.problems:
        print(f"  skipped {line}")
    for name in ts.left_out:
        print(f"Class {name} has no usable face; it is left out")
    if not len(ts.embeddings):
        raise FacerecError(f"no face found in any photo under {args.data_dir}")
    print("Training classifier")
    clf = rec.train(ts, threshold=args.threshold, false_accept=args.false_accept, seed=args.seed)
    print(describe_unknown_rule(clf))
    clf.save(args.classifier_filename)
    print(f'Saved classifier model to file "{args.classifier_filename}"')
    return 0


def _photos_to_classify(args, class_names):
    """(classes, unlabelled): (true name, photos) pairs, strangers' names marked with a NUL."""
    from ..people_folders import read_photos_to_classify

    classes, unlabelled, notes = read_photos_to_classify(args.data_dir, _split(args), known=class_names)
    for note in notes:
        print(f"note: {note}")
    if args.unknown_dir:
        extra, _, _ = read_photos_to_classify(args.unknown_dir)
        classes = classes + [(f"\0{n}", p) for n, p in extra]  # marked: strangers whatever their name
    return classes, unlabelled


def _print_faces(results, truth, unlabelled: bool) -> list:
    """FaceNet's line per face; returns (true, predicted) per face of a labelled photo."""
    rows = []
    i = 0
    for res, true in zip(results, truth):
        if res.error or not res.faces:
            print(f"  {res.path}: {res.error or 'no face found'}")
            if not res.error and true is not None:
                rows.append((true, None))
            continue
        for face in res.faces:
            where = f"  ({res.path}" + (f", face at {', '.join(str(int(v)) for v in face.box)})" if unlabelled else ")")
            print(f"{i:4d}  {face.name}: {face.probability:.3f}{where}")
            i += 1
            if true is not None:
                rows.append((true, face.name))
    return rows


def _print_scores(rows, class_names) -> None:
    from ..evaluation import score_classification

    s = score_classification(rows, class_names)
    if s["known_faces"]:
        print(f"Accuracy: {s['accuracy']:.3f}")
    if s["stranger_faces"]:
        known = f"Known people: accuracy {s['accuracy']:.3f} ({s['known_faces']} faces); " if s["known_faces"] else ""
        print(f"{known}strangers rejected: {s['stranger_rejection']:.3f} ({s['stranger_faces']} faces)")


def _write_outputs(args, results, rows, identifier) -> None:
    from ..collections.report import write_collection_report, write_report
    from ..collections.results_file import IDENTIFY_COLUMNS, write_rows
    from ..collections.identify_rows import identify_rows

    if args.output:
        write_rows(args.output, identify_rows(results), IDENTIFY_COLUMNS)
        print(f"Results written to {args.output}")
    if args.report and rows:
        print(f"Report written to {write_report(args.report, rows, identifier.class_names)}")
    elif args.report:
        print(f"Report written to {write_collection_report(args.report, identify_rows(results), identifier)} "
              f"(no labels to score: faces per person and their distances)")


def classify(args) -> int:
    from ..collections.results_file import check_output_name, refuse_replacing_other_files
    from ..embedding import load_embedder
    from ..identity.loading import load_identifier
    from ..recognizer import Recognizer
    from ..collections.report import REPORT_FILES, refuse_replacing_report_files
    from ..files import refuse_outputs_over_inputs

    check_output_name(args.output)
    refuse_outputs_over_inputs([("--output", args.output, False), ("--report", args.report, True)],
                               [p for p in (args.data_dir, args.unknown_dir) if p],
                               [(args.classifier_filename, "the classifier"), (args.model, "the model")],
                               REPORT_FILES)
    refuse_replacing_other_files(args.output)
    if args.report:
        refuse_replacing_report_files(args.report)
    clf = load_identifier(args.classifier_filename)  # refuse a bad file before loading models
    clf.use_threshold(args.threshold)
    classes, unlabelled = _photos_to_classify(args, clf.class_names)
    print("Loading feature extraction model")
    rec = Recognizer(clf, load_embedder(args.model, image_size=args.image_size), source=args.classifier_filename)
    print("Testing classifier")
    print(f'Loaded classifier model from file "{args.classifier_filename}"')
    paths = [p for _, ps in classes for p in ps]
    truth = [n for n, ps in classes for _ in ps]
    results = rec.recognize_files(paths, subject_only=not unlabelled, cache=not args.no_cache,
                                  batch_size=args.batch_size)
    rows = _print_faces(results, truth, unlabelled)
    if rows:
        _print_scores(rows, clf.class_names)
    _write_outputs(args, results, rows, clf)
    return 0


def main(argv=None, prog="classifier.py") -> int:
    from . import run_main

    def _run(argv):
        args = parse_arguments(argv, prog)
        return train(args) if args.mode == "TRAIN" else classify(args)

    return run_main(_run, argv, prog=prog)


if __name__ == "__main__":
    sys.exit(main())
