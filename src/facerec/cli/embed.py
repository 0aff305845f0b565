"""facerec embed: every face of many photos into Parquet, in this process's pool or on Ray."""
from __future__ import annotations

import sys
from .options import whole


def _cmd_embed(args) -> int:
    from ..batch.embed_photos import check_request
    from ..collections.finding import find_photos
    from ..errors import FacerecError
    from ..files import refuse_output_over_input
    from ..recognizer import Recognizer

    check_request(args.output, args.engine, args.batch_size, args.address)
    refuse_output_over_input(args.output, args.paths, "--output")
    photos, notes = find_photos(args.paths, recursive=args.recursive)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if not photos:
        raise FacerecError("no photos found in " + ", ".join(args.paths))
    s = Recognizer.for_model(args.model).embed(photos, args.output, engine=args.engine, address=args.address,
                                               workers=args.workers, batch_size=args.batch_size)
    print(f"Photos: {s.photos}" + (f" ({s.skipped} already in {args.output})" if s.skipped else "")
          + f"   embedded now: {s.embedded} ({s.faces} faces, {s.failed} without a face or unreadable)")
    print(f"Took {s.seconds:.1f} s ({s.rate:.1f} photos/s, engine {args.engine})")
    print(f"{args.output}: {s.rows} rows")
    return 0


def add_commands(sub, command) -> None:
    e = command(sub, "embed", "detect, align and embed every face of many photos into a Parquet file "
                "(in this machine's processes, or on a Ray cluster)")
    e.add_argument("paths", nargs="+", metavar="PATH", help="photos or folders of photos")
    e.add_argument("--output", "-o", required=True, help="the faces file to write (.parquet); a rerun "
                   "skips the photos already in it")
    e.add_argument("--recursive", "-r", action="store_true", help="read folders' sub-folders too")
    e.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local: a process per core here (default); ray: a Ray Data pipeline")
    e.add_argument("--address", help="a Ray cluster to run on (ray start --head prints it); "
                   "default: a private Ray on this machine")
    e.add_argument("--model", default="default", help="'default' or a model path")
    e.add_argument("--workers", type=whole(1), help="processes (local) or actors (ray); default: one per CPU")
    e.add_argument("--batch-size", type=whole(1), default=16, help="photos per batch (default 16)")
    e.set_defaults(func=_cmd_embed)
