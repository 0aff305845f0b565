"""The ``facerec`` command: one entry point whose subcommands call the library."""
from __future__ import annotations

import argparse
import sys

from ..errors import FacerecError
from ..wording import counted
from .options import Parser, SHARE, whole


def run_main(fn, argv=None, prog="facerec") -> int:
    """Run fn(argv) turning user errors into one line on stderr and a non-zero exit."""
    for stream in (sys.stdout, sys.stderr):
        # A file name that is not UTF-8 prints with its odd bytes escaped instead of stopping the run.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        return int(fn(argv) or 0)
    except FacerecError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head, say: the reader has what it wanted
        sys.stderr.close()
        return 0
    except OSError as exc:  # the system refused a read or write the library does not wrap itself
        if exc.filename2:  # a copy or a rename: which of the two failed, the system does not say
            what = f"copy {exc.filename} to {exc.filename2}"
        else:
            what = f"read or write {exc.filename}" if exc.filename else "read or write"
        print(f"{prog}: error: cannot {what}: {exc.strerror or exc}", file=sys.stderr)
        return 1


def _cmd_download(args) -> int:
    from ..download import download

    made = download(args.name, root=args.root, url=args.url, sha256=args.sha256, keep_archive=args.keep_archive,
                    force=args.force)
    for path in made:
        print(path)
    return 0


def _cmd_model(args) -> int:
    import time

    from ..embedding import load_embedder

    t = time.perf_counter()
    emb = load_embedder(args.model, standardization=args.standardization)
    took = time.perf_counter() - t
    a = emb.alignment
    print(f"model:           {emb.name}")
    print(f"input:           {emb.input_size[0]}x{emb.input_size[1]} RGB")
    print(f"embedding:       {emb.dim}-d, L2-normalised")
    print(f"standardization: {emb.standardization}")
    extra = f"padding {a.padding}" if a.kind == "similarity" else f"margin {a.margin}"
    print(f"alignment:       {a.kind}, {a.size} px, {extra}")
    print(f"mirror average:  {'on' if emb.flip else 'off'}")
    if emb.same_person_distance is not None:
        print(f"same person:     within {emb.same_person_distance:g} (what verify decides by)")
    where = getattr(emb, "loaded_from", None)
    print(f"loaded in:       {took:.2f} s" + (f" ({where})" if where else ""))
    print(f"detection:       {_detection_line()}")
    return 0


def _detection_line() -> str:
    from ..detection.blazeface import FULL_RANGE, SHORT_RANGE, available, weights_path

    missing = [str(weights_path(m)) for m in (SHORT_RANGE, FULL_RANGE) if not available(m)]
    fetch = "`python -m facerec.detection.blazeface` fetches them"
    if not missing:
        return ("MTCNN; faces checked by dlib's detector and BlazeFace (short and full range), "
                "which also finds masked faces MTCNN misses")
    if available(SHORT_RANGE):
        return (f"MTCNN; faces checked by dlib's detector and BlazeFace's short-range model (the full-range "
                f"model's weights are not at {missing[0]}: fewer unsure faces are kept; {fetch})")
    return (f"MTCNN; faces checked by dlib's detector (BlazeFace's weights are not at {' or '.join(missing)}: "
            f"fewer faces are kept and masked faces are found less often; {fetch})")


FIRM_PAIRS = 10  # different-person pairs under an acceptance distance for it to be more than a guess


def _cmd_calibrate(args) -> int:
    from ..files import atomic_write_bytes, refuse_output_over_input, refuse_replacing_another_kind
    from ..identity.calibrate import calibrate
    from ..identity.openset import looks_like_statistics

    if not 0 < args.false_accept < 1:  # before the slow part
        raise FacerecError(f"false-accept rate {args.false_accept} must be between 0 and 1")
    if args.output:
        refuse_output_over_input(args.output, [(args.model, "the model")] + [(d, "a PEOPLE_DIR") for d in
                                                                             args.people_dirs], "--output")
        refuse_replacing_another_kind(args.output, looks_like_statistics, "a calibration file", "--output")
    stats = calibrate(args.model, args.people_dirs)
    print(f"{stats.model}: {counted(stats.faces, 'face')} of {counted(stats.identities, 'person')}; "
          f"{counted(stats.impostor_pairs, 'different-person pair')}, {counted(stats.genuine_pairs, 'same-person pair')}")
    print(f"At a false-accept target of {args.false_accept:g} per stranger face:")
    print(f"{'gallery faces':>14}{'distance':>10}{'strangers named':>17}{'known faces named':>19}")
    guesses = 0
    for m in (1, 3, 10, 30, 100, 300, 1000, 10000):
        d = stats.acceptance_distance(m, args.false_accept)
        guess = stats.pairs_behind(m, args.false_accept) < FIRM_PAIRS
        guesses += guess
        print(f"{m:14d}{d:10.4f}{stats.strangers_accepted(d, m):17.4f}{stats.known_accepted(d):19.4f}"
              + ("  *" if guess else ""))
    if guesses:
        print(f"* rests on fewer than {FIRM_PAIRS} different-person pairs closer than its distance: a guess; "
              f"measure more people to make it firm ({counted(stats.identities, 'person')} now)")
    if args.output:
        atomic_write_bytes(args.output, stats.to_json().encode())
        print(f"Written to {args.output}")
    return 0


def _cmd_demo(args) -> int:
    from ..demo import run_demo

    run_demo(args.out)
    return 0


def _cmd_pairs(args) -> int:
    from ..evaluation import looks_like_pairs, make_pairs
    from ..files import atomic_write_bytes, refuse_replacing_another_kind

    refuse_replacing_another_kind(args.output, looks_like_pairs, "a pairs file", "")
    text = make_pairs(args.lfw_dir, n_folds=args.folds, per_fold=args.per_fold, seed=args.seed)
    atomic_write_bytes(args.output, text.encode(), fsync=False)
    print(f"Wrote {args.folds} folds x {args.per_fold} same + {args.per_fold} different pairs to {args.output}")
    return 0


# Subcommands that are the FaceNet-style scripts themselves: their own parsers take every
# argument (so --help and options in any order work), under the name "facerec SUBCOMMAND".
_SCRIPTS = {
    "align": ("facerec.cli.align", "align a folder of people into face crops (align_dataset.py)"),
    "classify": ("facerec.cli.classify", "TRAIN or CLASSIFY with a face classifier (classifier.py)"),
    "realtime": ("facerec.cli.realtime", "recognise people on a camera or video (real_time_face_recognition.py)"),
    "validate": ("facerec.cli.validate", "verification accuracy on LFW pairs (validate_on_lfw)"),
}


def _command(sub, name: str, text: str) -> argparse.ArgumentParser:
    """A subcommand whose --help opens with the line that lists it in facerec --help."""
    return sub.add_parser(name, help=text, description=text)


def _add_download(sub) -> None:
    from ..download import SOURCES

    d = _command(sub, "download", "fetch FaceNet's pretrained models or LFW (explicit; nothing else downloads)")
    d.add_argument("name", choices=sorted(SOURCES))
    d.add_argument("--root", default=".", help="project folder holding models/ and datasets/ (default: .)")
    d.add_argument("--url", help="fetch from this address instead (a mirror); the known checksum still applies")
    d.add_argument("--sha256", help="expected SHA-256 of the (first) file, replacing the known one if any")
    d.add_argument("--keep-archive", action="store_true", help="keep the downloaded archive after unpacking")
    d.add_argument("--force", action="store_true",
                   help="download again and replace models/<name> or datasets/<name> if it exists "
                        "(only that entry; nothing else is ever replaced)")
    d.set_defaults(func=_cmd_download)


def _add_model_commands(sub) -> None:
    """pairs, calibrate: a model on pairs of photos and folders of people."""
    pp = _command(sub, "pairs", "write an LFW-format pairs file for a folder of people")
    pp.add_argument("lfw_dir", help="a folder with one sub-folder of photos per person")
    pp.add_argument("output", help="the pairs file to write")
    pp.add_argument("--folds", type=whole(2), default=10)
    pp.add_argument("--per_fold", type=whole(1), default=100, help="same-person (and as many different) pairs per fold")
    pp.add_argument("--seed", type=whole(0), default=0)
    pp.set_defaults(func=_cmd_pairs)

    c = _command(sub, "calibrate", "measure how close different people's faces come with a model, and the "
                 "acceptance distance that keeps strangers out for each gallery size")
    c.add_argument("model", help="'default' or a model path")
    c.add_argument("people_dirs", nargs="+", metavar="PEOPLE_DIR",
                   help="folders with one sub-folder of photos per person (many people, few photos each)")
    c.add_argument("--false_accept", type=SHARE, default=0.01, help="share of stranger faces a gallery may name "
                   "(default 0.01)")
    c.add_argument("--output", help="write the measured distributions here (JSON, numbers only)")
    c.set_defaults(func=_cmd_calibrate)


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    from . import collection, compare, embed, gallery, mask, serve

    p = Parser(prog="facerec", description="FaceNet-style face recognition: align, embed, classify.")
    p.add_argument("--version", action="version", version=f"facerec {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    _add_download(sub)
    for name, (_, help_text) in _SCRIPTS.items():
        sub.add_parser(name, help=help_text, add_help=False)  # listed here, run by main()
    compare.add_commands(sub, _command)
    _add_model_commands(sub)
    gallery.add_commands(sub, _command)
    collection.add_commands(sub, _command)
    embed.add_commands(sub, _command)
    serve.add_commands(sub, _command)
    mask.add_commands(sub, _command)

    dm = _command(sub, "demo", "the whole job end to end on sample photos (what `make demo` runs)")
    dm.add_argument("--out", default="demo_output", help="where to put everything (default demo_output)")
    dm.set_defaults(func=_cmd_demo)

    m = _command(sub, "model", "load an embedding model (building the default one's cache) and describe it")
    m.add_argument("model", nargs="?", default="default", help="'default' or a model path")
    m.add_argument("--standardization", choices=["prewhiten", "fixed", "dlib", "none"])
    m.set_defaults(func=_cmd_model)
    return p


def _main(argv):
    args = build_parser().parse_args(argv)
    return args.func(args)


def main(argv=None) -> int:
    """Entry point of the ``facerec`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in _SCRIPTS:
        import importlib

        return importlib.import_module(_SCRIPTS[argv[0]][0]).main(argv[1:], prog=f"facerec {argv[0]}")
    return run_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
