"""Cameras of the service: each source read in its own thread, its faces tracked and named in
another, every model call on the shared model thread (inference.py), every appearance published.

A source is a camera index, a stream URL or a video file.  A file is played at its own frame
rate and looped, as if it were a camera (for trying the service, and for load tests).  A source
that cannot be opened, or stops giving frames, is reopened after a back-off that doubles from
``backoff[0]`` to ``backoff[1]`` seconds and starts again once frames flow; /healthz says which
cameras are down, why, and when the next try is.  The tracker only ever sees the newest frame:
when naming falls behind the source, older frames are dropped (counted) rather than queued.

Naming is the real-time tool's (Recognizer.track / FaceTracker): detection every few frames,
tracks between, a track named from the mean of its embeddings.  A track is announced
("appeared") once it has a name, again when its name changes ("renamed"), and closed ("left")
when it ends.
"""
from __future__ import annotations

import collections
import re
import threading
import time
from pathlib import Path

import numpy as np

from ..errors import FacerecError

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
        cameras[name] = source.strip()
    return cameras


def _open(source: str, read_timeout: float):
    """An OpenCV capture of the source, or None when it cannot be opened."""
    import cv2

    from ..tfutil import quiet_output

    args = [int(source) if source.isdigit() else source]
    if "://" in source and hasattr(cv2, "CAP_PROP_READ_TIMEOUT_MSEC"):
        ms = int(read_timeout * 1000)  # FFmpeg's own waits bounded, so a dead stream's read returns
        args += [cv2.CAP_ANY, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]]
    with quiet_output(fds=(2,)):  # OpenCV's backends print pages while probing a missing source
        cap = cv2.VideoCapture(*args)
    if not cap.isOpened():
        cap.release()
        return None
    return cap


class _Newest:
    """A one-frame slot: the reader puts, the tracker takes the newest; an untaken frame that is
    replaced counts as dropped."""

    def __init__(self):
        self._cv = threading.Condition()
        self._item = None
        self.dropped = 0

    def put(self, item) -> None:
        with self._cv:
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._cv.notify()

    def take(self, timeout: float):
        with self._cv:
            if self._item is None:
                self._cv.wait(timeout)
            item, self._item = self._item, None
            return item


def thumbnail_jpeg(frame_bgr: np.ndarray, box, height: int = 96) -> bytes | None:
    """A small JPEG of the face in box (x1, y1, x2, y2), with some of its surroundings."""
    import cv2

    x1, y1, x2, y2 = (float(v) for v in box)
    m = 0.2 * max(x2 - x1, y2 - y1)
    h, w = frame_bgr.shape[:2]
    x1, y1 = int(max(0, x1 - m)), int(max(0, y1 - m))
    x2, y2 = int(min(w, x2 + m)), int(min(h, y2 + m))
    if x2 - x1 < 2 or y2 - y1 < 2:
        return None
    crop = frame_bgr[y1:y2, x1:x2]
    crop = cv2.resize(crop, (max(1, round(crop.shape[1] * height / crop.shape[0])), height),
                      interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return buf.tobytes() if ok else None


class Camera:
    """One source: a reader thread (opening, pacing files, reconnecting) and a tracker thread."""

    def __init__(self, name: str, source: str, worker, gallery, bus, detect_every: int = 2, embed_every: int = 5,
                 min_face_size: int = 40, read_timeout: float = 10.0, backoff=(1.0, 30.0)):
        from ..recognizer import Recognizer
        from ..tracking import FaceTracker
        from ..video import is_live
        from .inference import SharedDetector, SharedEmbedder

        self.name, self.source, self.bus = name, str(source), bus
        self.live = is_live(self.source)
        self.read_timeout = read_timeout
        self.backoff = (float(backoff[0]), float(backoff[1]))
        self.tracking = dict(detect_every=detect_every, embed_every=embed_every, min_face_size=min_face_size)
        # The tracker's recognizer: the live gallery as its classifier, the shared model thread as
        # its detector and embedder (so this camera's faces are batched with everyone else's).
        self.recognizer = Recognizer(gallery, embedder=SharedEmbedder(worker), detector=SharedDetector(worker),
                                     source=f"the gallery ({gallery.path})")
        FaceTracker(self.recognizer, **self.tracking)  # bad settings refused now, not in a thread
        self.state = "starting"
        self.last_error: str | None = None
        self.retry_at: float | None = None
        self.connects = 0  # successful opens (the first included), a video file's replays not counted
        self.loops = 0  # times a video file was played through and started again
        self.failures = 0  # failed opens and sources that stopped
        self.frames_read = 0
        self.frames = 0  # processed by the tracker
        self.source_fps: float | None = None
        self.visible = 0
        self._last_frame_at: float | None = None
        self._times: collections.deque = collections.deque(maxlen=600)
        self._slot = _Newest()
        self._generation = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._read, name=f"camera-{name}-read", daemon=True),
                         threading.Thread(target=self._track, name=f"camera-{name}-track", daemon=True)]

    def start(self) -> "Camera":
        for t in self._threads:
            t.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout)
        self.state = "stopped"

    # --- reading ---------------------------------------------------------------------------

    def _down(self, why: str, delay: float) -> None:
        self.state, self.last_error = "reconnecting", why
        self.failures += 1
        self.retry_at = time.time() + delay
        self._stop.wait(delay)
        self.retry_at = None

    def _read(self) -> None:
        import cv2

        delay, looping = self.backoff[0], False
        while not self._stop.is_set():
            if not self.live and not Path(self.source).exists():
                self._down("video file not found", delay)
                delay, looping = min(delay * 2, self.backoff[1]), False
                continue
            cap = _open(self.source, self.read_timeout)
            if cap is None:
                self._down("cannot open the source", delay)
                delay, looping = min(delay * 2, self.backoff[1]), False
                continue
            fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
            self.source_fps = fps if 0 < fps < 1000 else None
            pace = None if self.live else 1.0 / (self.source_fps or 25.0)
            self._generation += 1
            if looping:
                self.loops += 1
            else:
                self.connects += 1
            looping = False
            n, t0 = 0, time.monotonic()
            try:
                while not self._stop.is_set():
                    try:
                        ok, frame = cap.read()
                    except Exception as exc:  # noqa: BLE001 - a backend that raises: reconnect
                        self.last_error = " ".join(str(exc).split())[:200]
                        ok = False
                    if not ok:
                        break
                    if n == 0:
                        self.state, self.retry_at = "running", None
                    n += 1
                    self.frames_read += 1
                    self._slot.put((self._generation, frame))
                    if n >= 25:  # frames flow again: the next failure starts the back-off afresh
                        delay = self.backoff[0]
                    if pace:  # a file plays at its own frame rate, like a camera
                        wait = t0 + n * pace - time.monotonic()
                        if wait > 0:
                            self._stop.wait(wait)
                        elif wait < -1.0:  # far behind (a busy machine): catch up, don't rush
                            t0 = time.monotonic() - n * pace
            finally:
                cap.release()
            if self._stop.is_set():
                break
            if not self.live and n > 0:
                looping = True  # a video file played through: play it again
                continue
            self._down("no frames from the source" if n == 0 else f"the source stopped after {n} frames", delay)
            delay = min(delay * 2, self.backoff[1])

    # --- tracking and naming ----------------------------------------------------------------

    def _track(self) -> None:
        generation, tracker, announced, first_seen = None, None, {}, {}
        while not self._stop.is_set():
            item = self._slot.take(0.5)
            if item is None:
                continue
            gen, frame = item
            if gen != generation:  # reopened or looped: earlier faces have left
                if tracker is not None:
                    self._ended(tracker.close(), generation, announced, first_seen)
                tracker = self.recognizer.video(**self.tracking)
                generation, announced, first_seen = gen, {}, {}
            try:
                visible = tracker.step(np.ascontiguousarray(frame[:, :, ::-1]))
            except Exception as exc:  # noqa: BLE001 - the model thread stopped, say: report, go on
                self.last_error = f"naming failed: {' '.join(str(exc).split())[:200]}"
                self._stop.wait(0.5)
                continue
            now = time.time()
            self._last_frame_at = now
            self.frames += 1
            self._times.append(time.monotonic())
            self.visible = len(visible)
            self._ended(tracker.ended, gen, announced, first_seen)
            for t in visible:
                first_seen.setdefault(t.id, now)
                if t.name == "...":  # not embedded yet
                    continue
                if t.id not in announced:
                    announced[t.id] = t.name
                    self._publish("appeared", t, gen, first_seen[t.id], frame=frame)
                elif announced[t.id] != t.name:
                    announced[t.id] = t.name
                    self._publish("renamed", t, gen, first_seen[t.id])
        if tracker is not None:
            self._ended(tracker.close(), generation, announced, first_seen)

    def _ended(self, tracks, generation, announced, first_seen) -> None:
        for t in tracks:
            if t.id in announced:
                self._publish("left", t, generation, first_seen.get(t.id), ended=True)
                del announced[t.id]
            first_seen.pop(t.id, None)

    def _publish(self, kind: str, track, generation, started, frame=None, ended: bool = False) -> None:
        now = time.time()
        event = {"type": kind, "camera": self.name, "appearance": f"{self.name}-{generation}-{track.id}",
                 "name": track.name, "probability": round(float(track.probability), 4),
                 "distance": round(float(track.distance), 4) if np.isfinite(track.distance) else None,
                 "box": [round(float(v), 1) for v in track.box], "start": round(started or now, 3)}
        if ended:
            event["end"] = round(now, 3)
            event["frames"] = int(track.last_seen - track.start_frame + 1)
        thumb = thumbnail_jpeg(frame, track.box) if frame is not None else None
        self.bus.publish(event, thumb)

    # --- health ----------------------------------------------------------------------------

    def fps(self, window: float = 5.0) -> float:
        times = [t for t in list(self._times) if t >= time.monotonic() - window]
        return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0

    def status(self) -> dict:
        state = self.state
        age = None if self._last_frame_at is None else time.time() - self._last_frame_at
        if state == "running" and age is not None and age > self.read_timeout:
            state = "stalled"  # the source is open but no frame has come for a while
        return {"state": state, "fps": round(self.fps(), 1), "source_fps": self.source_fps,
                "frames": self.frames, "frames_read": self.frames_read, "dropped": self._slot.dropped,
                "faces_in_view": self.visible, "connects": self.connects, "loops": self.loops,
                "failures": self.failures, "last_error": self.last_error,
                "retry_in_s": None if self.retry_at is None else round(max(0.0, self.retry_at - time.time()), 1),
                "last_frame_age_s": None if age is None else round(age, 2)}
