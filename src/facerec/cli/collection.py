"""facerec identify | cluster: a photo collection named or grouped, as files, folders and a page."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from ..errors import FacerecError
from ..wording import counted
from .options import SHARE, add_threshold, whole


def _check_outputs(args) -> None:
    """Refuse output names that cannot work before any photo is read."""
    from ..collections.html_page import looks_like_page
    from ..collections.report import REPORT_FILES, refuse_replacing_report_files
    from ..collections.results_file import check_output_name, refuse_replacing_other_files
    from ..files import refuse_outputs_over_inputs, refuse_replacing_another_kind

    check_output_name(args.output)
    if args.html and Path(args.html).suffix.lower() not in (".html", ".htm"):
        raise FacerecError(f"{args.html}: the page is written as .html")
    if args.copy and not args.sort_into:
        raise FacerecError("--copy goes with --sort-into DIR")
    if args.sort_into and Path(args.sort_into).exists() and not Path(args.sort_into).is_dir():
        raise FacerecError(f"--sort-into {args.sort_into}: is a file, not a folder")
    for option, path in (("--sort-into", args.sort_into), ("--html", args.html)):
        if path and args.output and Path(path).resolve() == Path(args.output).resolve():
            raise FacerecError(f"{option} {path} is also the --output file")
    recognition = getattr(args, "recognition_file", None) or getattr(args, "gallery", None)
    refuse_outputs_over_inputs([("--output", args.output, False), ("--html", args.html, False),
                                ("--report", getattr(args, "report", None), True)], args.paths,
                               [(recognition, "the gallery or classifier")] if recognition else [], REPORT_FILES)
    # Then a file of the user's under an output's name (an earlier run's output may be replaced).
    refuse_replacing_other_files(args.output)
    if args.html:
        refuse_replacing_another_kind(args.html, looks_like_page, "a facerec page", "--html")
    if getattr(args, "report", None):
        refuse_replacing_report_files(args.report)


def _photos(args) -> list[str]:
    from ..collections.finding import find_photos

    photos, notes = find_photos(args.paths, recursive=args.recursive,
                                exclude=[args.sort_into] if args.sort_into else [])
    for note in notes:
        print(f"note: {note}")
    if not photos and args.sort_into and any(_within(p, args.sort_into) for p in args.paths):
        raise FacerecError(f"the photos are inside the --sort-into folder {args.sort_into}, whose photos are "
                           f"never read; sort into a folder outside them")
    if not photos:
        raise FacerecError("no photos found in " + ", ".join(args.paths))
    return photos


def _within(path, folder) -> bool:
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def _deliver(args, rows, columns, column: str, title: str, subtitle: str) -> None:
    """The results file, the sorted folders and the page, each as asked."""
    from ..collections.groups import group_of, page_groups
    from ..collections.results_file import write_rows

    if args.output:
        write_rows(args.output, rows, columns)
        print(f"Results written to {args.output} ({counted(len(rows), 'row')})")
    if args.sort_into:
        from ..collections.sorting import sort_into

        placements = [(g, r["path"]) for r in rows if (g := group_of(r, column)) is not None]
        done = sort_into(args.sort_into, placements, copy=args.copy)
        made = counted(done.made, "new copy" if args.copy else "new link")
        print(f"Sorted into {args.sort_into}: {counted(len(done.folders), 'folder')}, {made}"
              + (f", {done.kept} already there" if done.kept else "") + "; the originals are untouched")
    if args.html:
        from ..collections.html_page import write_page

        write_page(args.html, title, subtitle, page_groups(rows, column))
        print(f"Page written to {args.html}")


def _problems(rows) -> None:
    for r in rows:
        if r["face"] is None and r["note"] != "no face found":
            print(f"  skipped {r['path']}: {r['note']}")


def cmd_identify(args) -> int:
    from ..collections.identify_rows import identify_rows
    from ..collections.results_file import IDENTIFY_COLUMNS
    from ..recognizer import Recognizer

    _check_outputs(args)
    rec = Recognizer.load(args.recognition_file, model=args.model, threshold=args.threshold)  # refused first
    photos = _photos(args)
    rows = identify_rows(rec.recognize_files(photos, cache=not args.no_cache, batch_size=args.batch_size))
    for r in rows:
        if r["face"] is not None:
            seen = "".join(f" [{k}]" for k in ("masked", "soft") if r[k])
            print(f"{r['path']}  face {r['face']}: {r['name']} {r['probability']:.3f} "
                  f"(distance {r['distance']:.3f}){seen}")
    _problems(rows)
    summary = _identify_summary(photos, rows)
    print(summary)
    _deliver(args, rows, IDENTIFY_COLUMNS, "name", "People in the collection", summary)
    if args.report:
        from ..collections.report import write_collection_report

        print(f"Report written to {write_collection_report(args.report, rows, rec.identifier)}")
    unreadable = sum(r["face"] is None and r["note"] != "no face found" for r in rows)
    # A batch goes on past a broken photo; one where nothing could be read did nothing.
    return 1 if unreadable and (args.strict or unreadable == len({r["path"] for r in rows})) else 0


def _identify_summary(photos, rows) -> str:
    from ..identity.protocol import is_named

    faces = [r for r in rows if r["face"] is not None]
    counts = Counter(r["name"] for r in faces)
    no_face = sum(r["note"] == "no face found" for r in rows)
    unreadable = sum(r["face"] is None and r["note"] != "no face found" for r in rows)
    names = ", ".join(f"{n} {c}" for n, c in sorted(counts.items(), key=lambda kv: (not is_named(kv[0]), kv[0])))
    return (f"{counted(len(photos), 'photo')}, {counted(len(faces), 'face')}" + (f": {names}" if names else "")
            + f"; {no_face} without a face" + (f", {unreadable} unreadable" if unreadable else ""))


def _cluster_rows(args, rec, gallery):
    """(photos, rows): the photos or the faces file clustered."""
    faces_files = [p for p in args.paths if p.lower().endswith(".parquet")]
    if not faces_files:
        photos = _photos(args)
        return photos, rec.cluster(photos, gallery=gallery, pair_rate=args.pair_rate, cache=not args.no_cache,
                                   batch_size=args.batch_size)
    # Faces embedded earlier, by facerec embed (on Ray, say): nothing is embedded again.
    from ..batch.faces_table import read_files

    if len(args.paths) > 1:
        raise FacerecError("give one faces file (.parquet), or photos and folders, not both")
    files, _ = read_files(faces_files[0], rec.embedder)
    return [ff.path for ff in files], rec.cluster_files(files, gallery, args.pair_rate)


def cmd_cluster(args) -> int:
    from ..collections.results_file import CLUSTER_COLUMNS
    from ..identity.loading import embedder_for, load_identifier
    from ..recognizer import Recognizer

    _check_outputs(args)
    if args.pair_rate is not None and not 0 < args.pair_rate < 1:  # before any photo is read
        raise FacerecError(f"pair rate {args.pair_rate:g} must be between 0 and 1")
    gallery = load_identifier(args.gallery) if args.gallery else None
    rec = Recognizer.for_model(embedder_for(gallery, args.model, args.gallery))
    photos, rows = _cluster_rows(args, rec, gallery)
    _problems(rows)
    faces = [r for r in rows if r["face"] is not None]
    clusters = Counter(r["cluster"] for r in faces if r["cluster"] is not None)
    for number, size in sorted(clusters.items()):
        print(f"cluster {number}: {counted(size, 'face')}")
    named = sum(r["note"].startswith("named ") for r in faces)
    alone = sum(r["cluster"] is None for r in faces) - named
    summary = (f"{counted(len(photos), 'photo')}, {counted(len(faces), 'face')}: {counted(len(clusters), 'cluster')}, "
               f"{counted(alone, 'face that matches')} no one"
               + (f", {named} already named by {args.gallery}" if gallery is not None else ""))
    print(summary)
    _deliver(args, rows, CLUSTER_COLUMNS, "cluster", "Faces grouped by person", summary)
    if clusters and args.output:
        print(f"Name a cluster with: facerec enrol GALLERY --from-clusters {args.output} --name "
              f"{next(iter(sorted(clusters)))}=NAME")
    return 0


def _common(p, paths_help="photos and folders of photos") -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help=paths_help)
    p.add_argument("--recursive", "-r", action="store_true", help="read folders' sub-folders too")
    p.add_argument("--output", "-o", help="one row per face: results.csv or results.jsonl")
    p.add_argument("--sort-into", metavar="DIR", help="link each photo into DIR/<person>/ (originals untouched)")
    p.add_argument("--copy", action="store_true", help="with --sort-into: copy the photos instead of linking")
    p.add_argument("--html", metavar="PAGE", help="write a page of face thumbnails per group (report.html)")
    p.add_argument("--model", help="embedding model (default: the gallery's or classifier's, else 'default')")
    p.add_argument("--batch-size", type=whole(1), default=64, help="faces embedded at once (default 64)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")


def add_commands(sub, command) -> None:
    """Register identify and cluster on the facerec parser."""
    i = command(sub, "identify", "name every face of a photo collection with a gallery or classifier")
    i.add_argument("recognition_file", metavar="GALLERY_OR_CLASSIFIER",
                   help="a gallery (facerec enrol) or classifier (classifier.py TRAIN)")
    _common(i)
    i.add_argument("--report", metavar="DIR", help="faces per person and how close the named ones came "
                   "(summary.txt, distances.png)")
    i.add_argument("--strict", action="store_true",
                   help="exit 1 when a photo could not be read (without it: only when none could)")
    add_threshold(i)
    i.set_defaults(func=cmd_identify)
    c = command(sub, "cluster", "group the faces of a photo collection by person, to name each person once")
    _common(c, "photos and folders of photos, or one faces file from facerec embed (.parquet)")
    c.add_argument("--gallery", help="leave out the faces this gallery or classifier names")
    c.add_argument("--pair-rate", type=SHARE, default=None,
                   help="share of different people's face pairs close enough to link (default 2e-4; "
                   "lower splits more, higher merges more)")
    c.set_defaults(func=cmd_cluster)
