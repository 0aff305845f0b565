"""Where video frames come from: a camera index, a video file or a stream URL, read in a thread
of its own so that decoding overlaps with recognition.

- FrameSource: one pass over a source for the real-time tool.  From a file every frame is kept;
  from a live source only the newest, so a slow consumer sees the present.  It ends at the
  source's end or when no frame came for read_timeout seconds.
- CameraFeed: a source that keeps going, for the service's cameras.  A file is played at its own
  frame rate and looped, as if it were a camera; a source that cannot be opened, or stops giving
  frames, is reopened after a back-off that doubles from backoff[0] to backoff[1] seconds.  The
  consumer only ever takes the newest frame: older ones are dropped (counted), never queued.
"""
from __future__ import annotations

import os
import queue
import threading
import time
from pathlib import Path

from ..errors import FacerecError

# FFmpeg's own complaints ("[mjpeg @ 0x...] No JPEG data found") went to the terminal before the
# one-line error that says the same; a user who wants them sets the variable themselves.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


def is_live(source) -> bool:
    """A camera index or a stream URL: frames that go on until the source stops, not a file."""
    source = str(source)
    return source.isdigit() or "://" in source


def open_capture(source: str, read_timeout: float | None = 10.0):
    """An OpenCV capture of the source, or None when it cannot be opened."""
    import cv2

    from ..tensorflow_loader import quiet_output

    args = [int(source) if source.isdigit() else source]
    if "://" in source and read_timeout and hasattr(cv2, "CAP_PROP_READ_TIMEOUT_MSEC"):
        # FFmpeg's own waits (30 s) bounded too, so a dead stream's reader thread ends.
        ms = int(read_timeout * 1000)
        args += [cv2.CAP_ANY, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]]
    # OpenCV's backends print pages of warnings while probing a missing camera or a file that is
    # not a video; the callers' one-line errors say what went wrong.
    with quiet_output(fds=(2,)):
        cap = cv2.VideoCapture(*args)
    if not cap.isOpened():
        cap.release()
        return None
    return cap


def frames_in(path) -> int:
    """How many frames a video file plays back (0 when it cannot be opened)."""
    import cv2

    cap = open_capture(str(path), None)
    if cap is None:
        return 0
    try:
        return int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        cap.release()


class FrameSource:
    """Frames (BGR, as OpenCV gives them) from a camera index, a file or a stream URL.

    A thread reads ahead into a small queue so decoding overlaps with recognition. From a file
    every frame is kept (block when the queue is full); from a live source only the newest
    frames are, so a slow consumer sees the present rather than a growing backlog.

    Iteration ends at the source's end, or when no frame came for read_timeout seconds (a source
    that hangs inside OpenCV would otherwise hang the run). stopped_early() then tells a live
    source that stopped, or a file that ended short of its frame count, from a file read through.
    """

    def __init__(self, source: str, queue_size: int = 8, read_timeout: float | None = 10.0):
        import cv2

        self.source = source
        self.live = is_live(source)
        if not self.live and not Path(source).exists():
            raise FacerecError(f"{source}: no such video file")
        self.cap = open_capture(source, read_timeout)
        if self.cap is None:
            what = "camera" if source.isdigit() else "video"
            raise FacerecError(f"cannot open {what} {source}" + ("" if source.isdigit() else
                               " (missing, or not a video OpenCV can decode)"))
        self.fps = self.cap.get(cv2.CAP_PROP_FPS) or 0.0
        if not (0 < self.fps < 1000):
            self.fps = 30.0
        self.size = (int(self.cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self.cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        self.frame_count = None if self.live else (int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None)
        self.read_timeout = read_timeout
        self.dropped = 0
        self.frames_read = 0  # by the reader, dropped ones included
        self.ended = False  # the source said it has no more frames
        self.error = None  # what the backend raised, if it did
        self.timed_out = False
        self._t0 = time.perf_counter()
        self._stopped_at = None
        self._q: queue.Queue = queue.Queue(queue_size)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="frame-reader", daemon=True)
        self._thread.start()

    def _put(self, item) -> None:
        if self.live and item is not None:
            while True:
                try:
                    self._q.put_nowait(item)
                    return
                except queue.Full:
                    try:
                        self._q.get_nowait()
                        self.dropped += 1
                    except queue.Empty:
                        pass
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _read(self):
        try:
            while not self._stop.is_set():
                ok, frame = self.cap.read()
                if not ok:
                    self.ended = True
                    break
                self._put((self.frames_read, frame))
                self.frames_read += 1
        except Exception as exc:  # noqa: BLE001 - a backend that raises: the consumer says so
            self.error = exc
        finally:
            self._put(None)  # always, so the consumer never waits on a dead reader

    def __iter__(self):
        while True:
            try:
                item = self._q.get(timeout=self.read_timeout)
            except queue.Empty:
                self.timed_out = True
                item = None
            if item is None:
                self._stopped_at = time.perf_counter()
                return
            yield item

    def stopped_early(self) -> str | None:
        """Why the frames ran out before the source's end, after iterating to the end; None for a
        file read to its last frame. A live source has no last frame: any end is a stall or a
        disconnect."""
        took = (self._stopped_at or time.perf_counter()) - self._t0
        what = f"source {self.source} stopped delivering frames after {self.frames_read} frames ({took:.1f} s"
        if self.timed_out:
            return f"{what}; none came for {self.read_timeout:g} s)"
        if self.error is not None:
            return f"{what}: {' '.join(str(self.error).split())})"  # OpenCV's errors span lines
        if self.live:
            return what + ")"
        # The container's count is exact for most files but an estimate for some (variable frame
        # rate): a little slack, so a good file is not called damaged.
        if self.frame_count and self.frames_read < self.frame_count - max(2, self.frame_count // 50):
            return (f"video {self.source} ended after {self.frames_read} of its {self.frame_count} frames "
                    f"(truncated or damaged)")
        return None

    def close(self):
        self._stop.set()
        try:
            while True:
                self._q.get_nowait()
        except queue.Empty:
            pass
        # After a time-out, give the backend's own time-out (FFmpeg's, set above; V4L2's select)
        # the time to end the read: a reader thread that returns from OpenCV while Python shuts
        # down aborts the process. One still blocked is left to end with the process, unreleased:
        # releasing the capture under a read can crash the backend.
        self._thread.join(timeout=max(2.0, self.read_timeout or 0) if self.timed_out else 2.0)
        if not self._thread.is_alive():
            self.cap.release()


class NewestFrame:
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


class CameraFeed:
    """A source that keeps going: opened, paced (files), looped (files), reconnected with back-off.

    ``take(timeout)`` gives the newest (generation, frame number, BGR frame); the generation goes
    up at each reopen or replay, and frame numbers start again from 0 with it.
    """

    def __init__(self, source: str, read_timeout: float = 10.0, backoff=(1.0, 30.0), name: str = "camera"):
        self.source = str(source)
        self.live = is_live(self.source)
        self.read_timeout = read_timeout
        self.backoff = (float(backoff[0]), float(backoff[1]))
        self.state = "starting"
        self.last_error: str | None = None
        self.retry_at: float | None = None
        self.connects = 0  # successful opens (the first included), a video file's replays not counted
        self.loops = 0  # times a video file was played through and started again
        self.failures = 0  # failed opens and sources that stopped
        self.frames_read = 0
        self.source_fps: float | None = None
        self.generation = 0
        self._slot = NewestFrame()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name=f"{name}-read", daemon=True)

    @property
    def dropped(self) -> int:
        return self._slot.dropped

    def start(self) -> "CameraFeed":
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def take(self, timeout: float):
        """The newest (generation, frame number, frame) not taken yet, or None after timeout."""
        return self._slot.take(timeout)

    def _down(self, why: str, delay: float) -> None:
        self.state, self.last_error = "reconnecting", why
        self.failures += 1
        self.retry_at = time.time() + delay
        self._stop.wait(delay)
        self.retry_at = None

    def _read(self) -> None:
        delay, looping = self.backoff[0], False
        while not self._stop.is_set():
            cap = None if not self.live and not Path(self.source).exists() else open_capture(self.source,
                                                                                             self.read_timeout)
            if cap is None:
                self._down("video file not found" if not self.live and not Path(self.source).exists()
                           else "cannot open the source", delay)
                delay, looping = min(delay * 2, self.backoff[1]), False
                continue
            self.generation += 1
            if looping:
                self.loops += 1
            else:
                self.connects += 1
            try:
                n = self._play(cap)
            finally:
                cap.release()
            if n >= 25:  # frames flowed: the next failure starts the back-off afresh
                delay = self.backoff[0]
            if self._stop.is_set():
                break
            looping = not self.live and n > 0  # a video file played through: play it again
            if not looping:
                self._down("no frames from the source" if n == 0 else f"the source stopped after {n} frames", delay)
                delay = min(delay * 2, self.backoff[1])

    def _play(self, cap) -> int:
        """Read frames into the slot until the source ends or the feed stops; how many were read."""
        import cv2

        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        self.source_fps = fps if 0 < fps < 1000 else None
        pace = None if self.live else 1.0 / (self.source_fps or 25.0)
        n, t0 = 0, time.monotonic()
        while not self._stop.is_set():
            try:
                ok, frame = cap.read()
            except Exception as exc:  # noqa: BLE001 - a backend that raises: reconnect
                self.last_error = " ".join(str(exc).split())[:200]
                ok = False
            if not ok:
                return n
            if n == 0:
                self.state, self.retry_at = "running", None
            self._slot.put((self.generation, n, frame))
            n += 1
            self.frames_read += 1
            if pace:  # a file plays at its own frame rate, like a camera
                wait = t0 + n * pace - time.monotonic()
                if wait > 0:
                    self._stop.wait(wait)
                elif wait < -1.0:  # far behind (a busy machine): catch up, don't rush
                    t0 = time.monotonic() - n * pace
        return n
