"""real_time_face_recognition.py: name the people on a webcam, video file or stream."""
from __future__ import annotations

import sys

from ..wording import counted
from .options import POSITIVE, Parser, add_threshold, whole


def parse_arguments(argv=None, prog="real_time_face_recognition.py"):
    p = Parser(prog=prog, description="Detect, embed and name every face of a camera or video, with a classifier "
               "(classifier.py TRAIN) or a gallery (facerec enrol).")
    p.add_argument("--source", default="0", help="camera index, video file or rtsp:// URL (default 0)")
    p.add_argument("--classifier", "--gallery", required=True, metavar="FILE",
                   help="who to name: a classifier from classifier.py TRAIN or a gallery from facerec enrol")
    p.add_argument("--model", default=None, help="embedding model (default: the one the classifier was trained with)")
    p.add_argument("--output", help="write the annotated video here (.mp4)")
    p.add_argument("--log", help="write one JSON line per appearance here (.jsonl)")
    p.add_argument("--no-display", action="store_true", help="open no window (servers, CI)")
    p.add_argument("--detect-every", type=whole(1), default=2, help="run the detector every N frames (default 2)")
    p.add_argument("--embed-every", type=whole(1), default=5, help="re-embed a tracked face every N frames (default 5)")
    p.add_argument("--min-face-size", type=whole(12), default=40, help="smallest face to find, in pixels (default 40)")
    p.add_argument("--max-frames", type=whole(1), help="stop after this many frames")
    add_threshold(p)
    p.add_argument("--read-timeout", type=POSITIVE, default=10.0, metavar="SECONDS",
                   help="give up on a source that delivers no frame for this long (default 10)")
    return p.parse_args(argv)


def check_outputs(args) -> None:
    """Refuse --output or --log that is an input (or each other), or a file there of another kind
    (a document under the log's name), before anything is read: written over, it would be lost
    and the run would not notice.  An earlier run's video or events log may be replaced."""
    from ..files import refuse_output_over_input, refuse_replacing_another_kind
    from ..video.appearances import looks_like_events
    from ..video.realtime import looks_like_video
    from ..video.sources import is_live

    inputs = [(args.classifier, "the --classifier (--gallery)"), (args.model, "the --model")]
    if not is_live(args.source):  # "0" is a camera, not a file of that name
        inputs.append((args.source, "the --source"))
    refuse_output_over_input(args.output, inputs, "--output")
    refuse_output_over_input(args.log, inputs + [(args.output, "the --output")], "--log")
    if args.output:
        refuse_replacing_another_kind(args.output, looks_like_video, "a video", "--output")
    if args.log:
        refuse_replacing_another_kind(args.log, looks_like_events, "an events log", "--log")


def main(argv=None, prog="real_time_face_recognition.py") -> int:
    from . import run_main
    from ..errors import FacerecError

    def _run(argv):
        from ..recognizer import Recognizer
        from ..video.realtime import run_video

        args = parse_arguments(argv, prog)
        check_outputs(args)
        rec = Recognizer.load(args.classifier, model=args.model, threshold=args.threshold)
        stats = run_video(args.source, rec, output=args.output, log=args.log, display=not args.no_display,
                          max_frames=args.max_frames, progress=True, read_timeout=args.read_timeout,
                          detect_every=args.detect_every, embed_every=args.embed_every,
                          min_face_size=args.min_face_size)
        for note in stats.notes:
            print(f"{prog}: note: {note}", file=sys.stderr)
        print(f"Processed {counted(stats.frames, 'frame')} in {stats.seconds:.1f} s ({stats.fps:.1f} fps)")
        for e in sorted(stats.events, key=lambda e: e["start_s"]):
            print(f"  {e['start_s']:6.1f}-{e['end_s']:6.1f} s  {e['name']} ({e['probability']:.2f})")
        if stats.dropped:
            print(f"Dropped {stats.dropped} frames to keep up with the live source")
        if args.output:
            print(f"Annotated video: {args.output}")
        if args.log:
            print(f"Events: {args.log} ({len(stats.events)} appearances)")
        if stats.stopped_early:  # what was seen is written, but the source did not run its course
            raise FacerecError(stats.stopped_early)
        return 0

    return run_main(_run, argv, prog=prog)


if __name__ == "__main__":
    sys.exit(main())
