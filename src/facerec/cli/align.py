"""align_dataset: FaceNet's align_dataset_mtcnn.py command line on facerec's aligner."""
from __future__ import annotations

import sys

from ..errors import FacerecError
from .options import CHANCE, Parser, whole


def parse_arguments(argv=None, prog="align_dataset.py"):
    p = Parser(prog=prog, description="Detect and align the faces of a folder of people "
                                "(one sub-folder each) into face crops, as FaceNet's align_dataset_mtcnn.py.")
    p.add_argument("input_dir", help="folder with one sub-folder of photos per person")
    p.add_argument("output_dir", help="where the aligned crops go (same sub-folders)")
    p.add_argument("--image_size", type=whole(1), default=160, help="crop size in pixels (default 160)")
    p.add_argument("--margin", type=whole(0), default=32, help="margin around the face box, in pixels of the photo (default 32)")
    p.add_argument("--random_order", action="store_true", help="process images in random order "
                   "(lets several runs share one output folder)")
    p.add_argument("--detect_multiple_faces", action="store_true", help="write every face, not only the main one")
    p.add_argument("--gpu_memory_fraction", type=CHANCE, default=1.0,
                   help="accepted for FaceNet compatibility; detection runs on the CPU")
    p.add_argument("--workers", type=whole(1), default=None, help="processes to use (default: one per core)")
    return p.parse_args(argv)


def main(argv=None, prog="align_dataset.py") -> int:
    from ..batch.align_dataset import align_dataset, format_summary
    from . import run_main

    def _run(argv):
        args = parse_arguments(argv, prog)
        s = align_dataset(args.input_dir, args.output_dir, image_size=args.image_size, margin=args.margin,
                          random_order=args.random_order, detect_multiple_faces=args.detect_multiple_faces,
                          workers=args.workers)
        print(format_summary(s, args.output_dir))
        if s.aligned_images == 0:
            raise FacerecError(f"nothing could be aligned in {args.input_dir}"
                               + (" (no images found)" if s.images == 0 else ""))
        return 0

    return run_main(_run, argv, prog=prog)


if __name__ == "__main__":
    sys.exit(main())
