"""facerec mask: a masked copy of a folder of photos, to test a gallery on masked faces."""
from __future__ import annotations

from ..wording import counted
from .options import whole


def cmd_mask(args) -> int:
    from ..batch.mask_folder import check_folders, mask_folder, photos_under
    from ..progress import progress

    from ..errors import FacerecError

    src, dst = check_folders(args.input, args.output)
    photos = photos_under(src)
    if not photos:
        raise FacerecError(f"{src}: no photos in it (or its sub-folders)")
    bar = progress(len(photos), "Masking", enabled=not args.quiet)
    try:
        done = mask_folder(src, dst, kind=None if args.kind == "mixed" else args.kind, seed=args.seed,
                           progress=bar)
    finally:
        bar.close()
    for path, why in done.failed:
        print(f"  skipped {path}: {why}")
    print(f"Wrote {counted(done.written, 'masked photo')} ({counted(done.faces, 'face')}) to {dst}"
          + (f"; {done.kept} already there, left as they were" if done.kept else "")
          + (f"; {len(done.no_face)} without a face found, not copied" if done.no_face else "")
          + (f"; {len(done.failed)} unreadable" if done.failed else ""))
    return 0 if done.written or done.kept else 1  # nothing of the folder could be masked


def add_commands(sub, command) -> None:
    from ..masks import KINDS

    m = command(sub, "mask", "write a copy of a folder of photos with a face mask drawn on every face found "
                "(to test a gallery on masked faces)")
    m.add_argument("input", help="a folder of photos (its sub-folders too, their layout kept)")
    m.add_argument("output", help="the folder to write the masked copy into (photos already there are kept)")
    m.add_argument("--kind", choices=[*KINDS, "mixed"], default="mixed",
                   help="the mask's shape (default mixed: surgical, cloth and N95 in several colours)")
    m.add_argument("--seed", type=whole(0), default=0, help="which masks are drawn (the same seed, the same masks)")
    m.add_argument("--quiet", action="store_true", help="no progress line")
    m.set_defaults(func=cmd_mask)
