"""facerec serve: the recognition service for cameras and other programs."""
from __future__ import annotations

import os
import sys

from .options import POSITIVE, add_threshold, whole


def cmd_serve(args) -> int:
    from ..serve.cameras import parse_cameras
    from ..serve.server import serve
    from ..serve.service import Limits

    service_args = dict(gallery=args.gallery, cameras=parse_cameras(args.camera), events_log=args.events,
                        webhook=args.webhook, api_key=args.api_key or None,
                        limits=Limits.of(args.max_upload_mb, args.max_megapixels, args.max_photos),
                        detect_every=args.detect_every, min_face_size=args.min_face_size,
                        threshold=args.threshold)

    def ready(url):
        print(f"Serving {args.gallery} on {url}  (web page: {url}/  API: {url}/docs)", flush=True)
        for name, source in service_args["cameras"].items():
            print(f"  camera {name}: {source}", flush=True)
        if args.api_key:
            print("  API key required (X-API-Key header, or the web page's prompt)", flush=True)
        print("Press Ctrl-C to stop.", file=sys.stderr, flush=True)

    serve(service_args, host=args.host, port=args.port, access_log=not args.no_access_log, on_ready=ready)
    return 0


def add_commands(sub, command) -> None:
    s = command(sub, "serve", "a recognition service: HTTP API, cameras, live appearances and a web page")
    s.add_argument("--gallery", required=True, help="the gallery file (facerec enrol); created at the first "
                   "enrolment if missing")
    s.add_argument("--camera", action="append", metavar="NAME=SOURCE", help="a camera to follow: an index (0), "
                   "a stream URL (rtsp://...) or a video file (played in real time, looped); repeat for more")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine "
                   "only; any other needs --api-key)")
    s.add_argument("--port", type=whole(1, 65535), default=8000, help="port (default 8000)")
    s.add_argument("--api-key", default=os.environ.get("FACEREC_API_KEY"), metavar="KEY",
                   help="require this key of every client (default: $FACEREC_API_KEY, which keeps it out of ps)")
    s.add_argument("--webhook", metavar="URL", help="POST every appearance event here as JSON (retried)")
    s.add_argument("--events", metavar="FILE", help="append every appearance event to this JSON-lines file")
    s.add_argument("--max-upload-mb", type=POSITIVE, default=20, help="largest request body (default 20 MB)")
    s.add_argument("--max-megapixels", type=POSITIVE, default=40, help="largest image accepted (default 40)")
    s.add_argument("--max-photos", type=whole(1), default=20, help="most photos in one enrolment (default 20)")
    s.add_argument("--detect-every", type=whole(1), default=2, help="cameras: detect faces every N frames (default 2)")
    s.add_argument("--min-face-size", type=whole(12), default=40, help="cameras: smallest face in pixels (default 40)")
    add_threshold(s)
    s.add_argument("--no-access-log", action="store_true", help="do not log each request")
    s.set_defaults(func=cmd_serve)
