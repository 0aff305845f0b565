"""Cameras of the service: each source read by a video.sources.CameraFeed (opening, pacing and
looping files, reconnecting with back-off), its faces tracked and named in a thread of its own,
every model call on the shared model thread (inference.py), every appearance published.

Everything between the frame and the event is the real-time tool's: the Recognizer's tracker
(FaceTracker) and video.appearances (appeared / renamed / left, one event schema).  /healthz says
which cameras are down, why, and when the next try is.
"""
from __future__ import annotations

import collections
import re
import threading
import time
from pathlib import Path

import numpy as np

from ..errors import FacerecError
from ..wording import brief
from ..video.sources import frames_in, is_live

CAMERA_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")


def parse_cameras(specs) -> dict:
    """{name: source} from NAME=SOURCE strings (--camera); names are short plain words."""
    cameras = {}
    for spec in specs or []:
        name, sep, source = str(spec).partition("=")
        if not sep or not source.strip():
            raise FacerecError(f"--camera {spec}: expected NAME=SOURCE (a camera index, a stream URL or a video "
                               f"file), as door=0 or hall=rtsp://192.168.1.20/stream")
        if not CAMERA_NAME.fullmatch(name):
            raise FacerecError(f"--camera {spec}: the name '{name}' must be 1 to 32 letters, digits, - or _")
        if name in cameras:
            raise FacerecError(f"--camera {spec}: there is already a camera named '{name}'")
        source = source.strip()
        if not is_live(source):
            # A camera or a stream may be down for a while (the service reconnects); a video file
            # that is not there is a typo, and a service that starts anyway only says so in /healthz.
            source = str(Path(source).expanduser())
            if not Path(source).exists():
                raise FacerecError(f"--camera {spec}: no such video file (a camera is an index, as door=0, "
                                   f"or a stream URL)")
            if Path(source).is_file() and not frames_in(source):
                raise FacerecError(f"--camera {spec}: not a video OpenCV can read")
        cameras[name] = source
    return cameras


class Camera:
    """One source: a CameraFeed reading frames, and a thread tracking and naming its faces."""

    def __init__(self, name: str, source: str, worker, gallery, bus, detect_every: int = 2, embed_every: int = 5,
                 min_face_size: int = 40, read_timeout: float = 10.0, backoff=(1.0, 30.0)):
        from ..recognizer import Recognizer
        from ..video.sources import CameraFeed
        from ..video.tracking import FaceTracker
        from .inference import SharedDetector, SharedEmbedder

        self.name, self.source, self.bus = name, str(source), bus
        self.read_timeout = read_timeout
        self.tracking = dict(detect_every=detect_every, embed_every=embed_every, min_face_size=min_face_size)
        # The tracker's recognizer: the live gallery as its identifier, the shared model thread as
        # its detector and embedder (so this camera's faces are batched with everyone else's).
        self.recognizer = Recognizer(gallery, embedder=SharedEmbedder(worker), detector=SharedDetector(worker),
                                     source=f"the gallery ({gallery.path})")
        FaceTracker(self.recognizer, **self.tracking)  # bad settings refused now, not in a thread
        self.feed = CameraFeed(self.source, read_timeout, backoff, name=f"camera-{name}")
        self.last_error: str | None = None  # of naming; the feed has its own
        self.frames = 0  # processed by the tracker
        self.visible = 0
        self._last_frame_at: float | None = None
        self._times: collections.deque = collections.deque(maxlen=600)
        self._stop = threading.Event()
        self._taps: list = []  # queues of recordings in progress (recording), each given every frame
        self.filming = threading.Lock()  # one enrolment recording at a time (serve.filming)
        self._thread = threading.Thread(target=self._track, name=f"camera-{name}-track", daemon=True)

    def start(self) -> "Camera":
        self.feed.start()
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.feed.stop(timeout)
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.feed.state = "stopped"

    # --- tracking and naming ----------------------------------------------------------------

    def _track(self) -> None:
        from ..video.appearances import Appearances

        generation, tracker, appearances = None, None, None
        while not self._stop.is_set():
            item = self.feed.take(0.5)
            if item is None:
                continue
            gen, number, frame = item
            for tap in list(self._taps):
                if not tap.full():  # a recording that falls behind misses frames, never holds this one up
                    tap.put_nowait((number, frame))
            if gen != generation:  # reopened or looped: earlier faces have left
                if tracker is not None:
                    self._publish(appearances.ended(tracker.close()))
                tracker = self.recognizer.video(**self.tracking)
                appearances = Appearances(self.name, gen)
                generation = gen
            try:
                # The tracker counts the frames it is given, not the source's: when naming falls
                # behind, its cadences (detect, embed, give up on a face) stay per frame named.
                visible = tracker.step(np.ascontiguousarray(frame[:, :, ::-1]))
            except Exception as exc:  # noqa: BLE001 - the model thread stopped, say: report, go on
                self.last_error = f"naming failed: {brief(exc, 200)}"
                self._stop.wait(0.5)
                continue
            self.last_error = None
            self._last_frame_at = time.time()
            self.frames += 1
            self._times.append(time.monotonic())
            self.visible = len(visible)
            seconds = number / (self.feed.source_fps or 25.0)  # the frame's place in the source
            self._publish(appearances.update(visible, tracker.ended, tracker.index, seconds), frame)
        if tracker is not None:
            self._publish(appearances.ended(tracker.close()))

    def _publish(self, events, frame=None) -> None:
        from ..video.drawing import thumbnail_jpeg

        for event, track in events:
            thumb = thumbnail_jpeg(frame, track.box) if frame is not None and event["type"] == "appeared" else None
            self.bus.publish(event, thumb)

    def recording(self, seconds: float):
        """The frames (number, BGR) this camera reads in the next seconds, as they come; FacerecError
        when none comes for read_timeout seconds (the camera is down)."""
        import queue

        tap: queue.Queue = queue.Queue(maxsize=32)
        self._taps.append(tap)
        try:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                try:
                    yield tap.get(timeout=min(self.read_timeout, max(0.05, end - time.monotonic() + 1)))
                except queue.Empty:
                    if time.monotonic() < end:
                        raise FacerecError(f"camera {self.name} sent no frame for {self.read_timeout:g} s "
                                           f"({self.feed.last_error or self.feed.state})") from None
        finally:
            self._taps.remove(tap)

    # --- health ----------------------------------------------------------------------------

    def fps(self, window: float = 5.0) -> float:
        times = [t for t in list(self._times) if t >= time.monotonic() - window]
        return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0

    def status(self) -> dict:
        feed = self.feed
        state = feed.state
        age = None if self._last_frame_at is None else time.time() - self._last_frame_at
        if state == "running" and age is not None and age > self.read_timeout:
            state = "stalled"  # the source is open but no frame has come for a while
        return {"state": state, "fps": round(self.fps(), 1), "source_fps": feed.source_fps,
                "frames": self.frames, "frames_read": feed.frames_read, "dropped": feed.dropped,
                "faces_in_view": self.visible, "connects": feed.connects, "loops": feed.loops,
                "failures": feed.failures, "last_error": self.last_error or feed.last_error,
                "retry_in_s": None if feed.retry_at is None else round(max(0.0, feed.retry_at - time.time()), 1),
                "last_frame_age_s": None if age is None else round(age, 2)}
