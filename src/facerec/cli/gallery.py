"""facerec enrol | forget | people: a gallery of people that grows without retraining."""
from __future__ import annotations

from pathlib import Path
from ..wording import counted
from .options import POSITIVE, SHARE, number, whole


def describe_rule(gallery) -> str:
    """The numbers that decide who is named, for the gallery as it now stands: masked faces are
    named by the gallery's masked side, whose default floor is its own (its strangers come closer)."""
    rule = (f"A face is named when the chance the name is right is at least {gallery.probability_floor():.3f} "
            f"({counted(len(gallery.people()), 'person')}, {counted(len(gallery.labels), 'face')}, "
            f"{gallery.false_accept:g} false-accept "
            f"target): expected strangers named {gallery.strangers_named():.2%}")
    masked = gallery.masked_side() if len(gallery.labels) else gallery
    return rule + (f"\n{masked.masked_rule()}" if masked is not gallery else "")


def _check_sources(args) -> None:
    from ..errors import FacerecError

    filmed = args.from_video is not None or args.camera is not None
    if filmed:
        if args.replace:
            raise FacerecError("--replace goes with a PEOPLE_DIR (filming adds faces to the person)")
        _check_filming(args)
        return
    if args.seconds is not None or args.save_faces or args.start:
        raise FacerecError("--seconds, --start and --save-faces go with --from-video or --camera")
    if args.replace and not args.people_dir:
        raise FacerecError("--replace goes with a PEOPLE_DIR (every other source adds faces)")
    sources = [args.people_dir is not None, args.from_clusters is not None, args.names is not None]
    if sum(sources) != 1 or (args.names and not args.from_parquet):
        raise FacerecError("give a PEOPLE_DIR, or --from-clusters FILE with --name N=NAME, or "
                           "--from-parquet FACES with --names NAMES.csv")
    if args.from_parquet and args.people_dir:
        raise FacerecError("--from-parquet goes with --names or --from-clusters, not a PEOPLE_DIR")


def _check_filming(args) -> None:
    from ..errors import FacerecError
    from ..identity.protocol import person_name

    if args.from_video is not None and args.camera is not None:
        raise FacerecError("give --from-video or --camera, not both")
    if args.camera is not None and args.start:
        raise FacerecError("--start goes with --from-video (a camera films from now)")
    if args.people_dir or args.from_clusters or args.names or args.from_parquet:
        raise FacerecError("--from-video and --camera enrol one person: give --name NAME and no folder or file")
    if not args.name or len(args.name) != 1 or "=" in args.name[0]:
        raise FacerecError("say who is filmed: --name NAME (one person)")
    person_name(args.name[0])
    if args.from_video is not None and not Path(args.from_video).is_file():
        raise FacerecError(f"{args.from_video}: no such video file")
    if args.save_faces and Path(args.save_faces).exists() and not Path(args.save_faces).is_dir():
        raise FacerecError(f"--save-faces {args.save_faces}: is a file, not a folder")


def _filmed(args):
    """enrol's job for --from-video / --camera: film, choose, print what was chosen, enrol."""
    from ..identity.enrolment import enrol_capture
    from ..progress import progress
    from ..video.capture import record, save_faces

    name, source = args.name[0], args.from_video if args.from_video is not None else args.camera
    seconds = args.seconds if args.seconds is not None or args.from_video is not None else 10.0

    def job(g, rec):
        bar = progress(None, f"Filming {name}", unit="frames looked at")
        try:
            capture = record(source, rec.pipeline, seconds, args.start, args.faces,
                             on_progress=lambda left, good: (bar.set_postfix_str(
                                 (f"{left:.0f} s left, " if left is not None else "") + f"{good} good faces seen"),
                                 bar.update()))
        finally:
            bar.close()
        _print_capture(capture)
        if args.save_faces:
            print(f"Chosen faces written to {save_faces(capture.chosen, args.save_faces, name)}")
        return enrol_capture(g, rec.pipeline, name, capture, str(source)), [name]

    return job


def _print_capture(capture) -> None:
    refused = ", ".join(f"{n} {why}" for why, n in capture.refused.most_common())
    print(f"Looked at {counted(capture.searched, 'frame')}: {capture.with_face} with a face, "
          f"{counted(capture.person_faces, 'face')} of this person" + (f" ({refused})" if refused else ""))
    print(f"Kept {counted(len(capture.chosen), 'face')}, as different from each other as were seen "
          f"(mean distance {capture.diversity:.2f}, mean sharpness {capture.sharpness:.0f}):")
    for c in capture.chosen:
        q = c.quality
        print(f"  at {capture.at(c):6.1f} s: {q.size:.0f} px wide, sharpness {q.sharpness:.0f}, yaw {q.yaw:+.2f}")


def _faces_file(args, rec) -> dict | None:
    """path -> FileFaces from --from-parquet (faces embedded earlier: nothing is embedded again)."""
    if not args.from_parquet:
        return None
    from ..batch.faces_table import read_files

    files, _ = read_files(args.from_parquet, rec.embedder)
    return {ff.path: ff for ff in files}


def _enrolment(args):
    """What to enrol, read (and refused if wrong) before any model loads: a function of (gallery,
    recognizer) that enrols it and returns (notes, the names enrolled)."""
    from ..collections.results_file import read_rows
    from ..identity.enrolment import enrol_clusters, enrol_named_faces
    from ..people_folders import passed_over, read_people

    if args.from_video is not None or args.camera is not None:
        return _filmed(args)
    if args.from_clusters:
        names, rows = _cluster_names(args.name), read_rows(args.from_clusters)
        return lambda g, rec: (enrol_clusters(g, rec.pipeline, rows, names, faces=_faces_file(args, rec)),
                               sorted(set(names.values())))
    if args.names:
        named = _read_names(args.names)
        return lambda g, rec: (enrol_named_faces(g, _faces_file(args, rec).values(), named),
                               sorted({n for _, _, n in named}))
    people, left_out = read_people(args.people_dir), passed_over(args.people_dir)
    return lambda g, rec: (left_out + rec.enrol(g, people, replace=args.replace), [n for n, p in people if p])


def cmd_enrol(args) -> int:
    import time

    from ..errors import FacerecError
    from ..identity.gallery import check_false_accept
    from ..identity.gallery_change import change_gallery, merge_people
    from ..recognizer import Recognizer

    _check_sources(args)
    if args.false_accept is not None:
        check_false_accept(args.false_accept)
    enrol = _enrolment(args)
    path = Path(args.gallery)
    rec = Recognizer.for_gallery(path, args.model, args.false_accept)
    draft = rec.identifier  # embedded into without the lock: photos take long, other writers wait for none of it
    before = None if args.replace else len(draft.labels)  # every source adds, unless --replace
    t = time.perf_counter()
    notes, enrolled = enrol(draft, rec)
    for note in notes:
        print(f"  {note}")
    enrolled = [n for n in enrolled if len(draft.person(n)[0])]  # people with at least one face found
    if _nothing_usable(draft, enrolled, notes, before):
        raise FacerecError(f"no usable face of anyone (see above): {path} "
                           + ("left as it was" if path.exists() else "not written"))
    _, gallery = change_gallery(path, lambda g: merge_people(g, draft, enrolled, rec.embedder, before),
                                new=lambda: draft)
    added = "" if before is None else f" ({counted(len(draft.labels) - before, 'face')} added)"
    print(f"Enrolled {counted(len(enrolled), 'person')}{added} in {time.perf_counter() - t:.1f} s; {path} now holds "
          f"{counted(len(gallery.people()), 'person')}, {counted(len(gallery.labels), 'face')}")
    print(describe_rule(gallery))
    return 0


def _nothing_usable(draft, enrolled: list, notes: list, before: int | None) -> bool:
    """Whether this run found no usable face: nobody has any, or faces were to be added, none was,
    and someone's photos gave none (photos all enrolled before are a rerun, not a failure)."""
    from ..identity.enrolment import NO_USABLE_FACE

    added_none = before is not None and len(draft.labels) == before
    return not enrolled or (added_none and any(note.endswith(NO_USABLE_FACE) for note in notes))


def _read_names(path) -> list:
    """(path, face or None, name) from a names file: CSV with columns path, name and optionally face."""
    from ..collections.results_file import read_rows
    from ..errors import FacerecError

    rows = read_rows(path)
    if rows and "name" not in rows[0]:
        raise FacerecError(f"{path}: a names file needs the columns path and name (and face, optionally)")
    return [(r["path"], r["face"], (r["name"] or "").strip()) for r in rows]


def _cluster_names(pairs) -> dict:
    """{cluster number: name} from --name N=NAME options."""
    from ..errors import FacerecError

    if not pairs:
        raise FacerecError("--from-clusters needs at least one --name N=NAME (a cluster number and who it is)")
    names = {}
    for pair in pairs:
        number, _, name = pair.partition("=")
        if not number.strip().isdigit() or not name.strip():
            raise FacerecError(f"--name {pair}: expected a cluster number and a name, as 3=Alice")
        names[int(number)] = name.strip()
    return names


def cmd_forget(args) -> int:
    from ..identity.gallery_change import change_gallery

    removed, gallery = change_gallery(args.gallery, lambda g: g.forget(args.names))
    print(f"Forgot {', '.join(removed)}; {args.gallery} now holds {counted(len(gallery.people()), 'person')}")
    return 0


def cmd_people(args) -> int:
    from ..identity.gallery import Gallery

    gallery = Gallery.load(args.gallery)
    for name, count in gallery.people():
        print(f"{name}\t{count}")
    print(f"{counted(len(gallery.people()), 'person')}, {counted(len(gallery.labels), 'face')}, "
          f"model {gallery.embedder_info.get('name')}")
    return 0


def add_commands(sub, command) -> None:
    """Register enrol, forget and people on the facerec parser."""
    e = command(sub, "enrol", "add the people of a folder (one sub-folder each) to a gallery, or more photos "
                "of people it has")
    e.add_argument("gallery", help="gallery file (.npz), created if missing")
    e.add_argument("people_dir", nargs="?", help="one sub-folder of photos per person: their faces are added to "
                   "what the gallery has for them (a photo already enrolled is not added twice)")
    e.add_argument("--replace", action="store_true", help="with PEOPLE_DIR: each sub-folder's faces become all "
                   "its person has, replacing the faces enrolled before")
    e.add_argument("--from-clusters", metavar="FILE", help="enrol clusters of a facerec cluster --output file")
    e.add_argument("--from-parquet", metavar="FACES", help="take the faces' embeddings from this facerec "
                   "embed file instead of embedding the photos again (with --names or --from-clusters)")
    e.add_argument("--names", metavar="NAMES.csv", help="with --from-parquet: who is in which photo, as CSV "
                   "columns path,name (and face, where a photo holds several)")
    e.add_argument("--name", action="append", metavar="NAME", help="with --from-video or --camera: who is "
                   "filmed; with --from-clusters, N=NAME: cluster N is NAME (repeat for more; a name given twice "
                   "gets both clusters)")
    e.add_argument("--from-video", metavar="VIDEO", help="enrol the one person in view in a video file")
    e.add_argument("--camera", metavar="INDEX_OR_URL", help="film the one person in view with this camera "
                   "(an index, or an rtsp:// or http:// stream)")
    e.add_argument("--seconds", type=POSITIVE, help="how long to film (default 10 for a camera; a video: to its end)")
    e.add_argument("--start", type=number(0, low_open=False), default=0.0, metavar="SECONDS",
                   help="with --from-video: start this far in")
    e.add_argument("--faces", type=whole(1, 100), default=10, help="faces to keep (default 10)")
    e.add_argument("--save-faces", metavar="DIR", help="write the chosen faces here as pictures, to look at")
    e.add_argument("--model", help="embedding model (default: the gallery's, or 'default' for a new one)")
    e.add_argument("--false_accept", type=SHARE, default=None,
                   help="share of stranger faces the gallery may name (default 0.01)")
    e.set_defaults(func=cmd_enrol)
    f = command(sub, "forget", "remove people from a gallery")
    f.add_argument("gallery")
    f.add_argument("names", nargs="+", metavar="NAME")
    f.set_defaults(func=cmd_forget)
    p = command(sub, "people", "list a gallery's people and their photo counts")
    p.add_argument("gallery")
    p.set_defaults(func=cmd_people)
