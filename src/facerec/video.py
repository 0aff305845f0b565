"""Video around the recognizer: frame sources read in their own thread, drawing, writers, the events log."""
from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import FacerecError


def is_live(source) -> bool:
    """A camera index or a stream URL: frames that go on until the source stops, not a file."""
    source = str(source)
    return source.isdigit() or "://" in source


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
        from .tfutil import quiet_output

        args = [int(source) if source.isdigit() else source]
        if "://" in source and read_timeout and hasattr(cv2, "CAP_PROP_READ_TIMEOUT_MSEC"):
            # FFmpeg's own waits (30 s) bounded too, so a dead stream's reader thread ends.
            ms = int(read_timeout * 1000)
            args += [cv2.CAP_ANY, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]]
        # OpenCV's backends print pages of warnings while probing a missing camera or a file that
        # is not a video; the one-line error below says what went wrong.
        with quiet_output(fds=(2,)):
            self.cap = cv2.VideoCapture(*args)
        if not self.cap.isOpened():
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


def draw(frame: np.ndarray, tracks, fps: float | None = None) -> None:
    """Boxes with name and probability (green known, red Unknown), and frames/s, in place (BGR)."""
    import cv2

    for t in tracks:
        x1, y1, x2, y2 = (int(round(v)) for v in t.box)
        unknown = t.name in ("Unknown", "...")
        color = (0, 0, 255) if unknown else (0, 200, 0)
        cv2.rectangle(frame, (x1, y1), (x2, y2), color, 2)
        # An Unknown's probability is that of the name it was refused, which only confuses a viewer.
        label = t.name if unknown else f"{t.name} {t.probability:.2f}"
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        # Keep the label inside the frame: above the box, or inside it at the top edge.
        lx = min(max(0, x1), max(0, frame.shape[1] - tw - 4))
        top = y1 - th - 6 if y1 - th - 6 >= 0 else max(0, y1)
        cv2.rectangle(frame, (lx, top), (lx + tw + 4, top + th + 6), color, -1)
        cv2.putText(frame, label, (lx + 2, top + th + 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1,
                    cv2.LINE_AA)
    if fps is not None:  # bottom left, where names rarely are
        cv2.putText(frame, f"{fps:.1f} fps", (8, frame.shape[0] - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                    (255, 255, 0), 2, cv2.LINE_AA)


def _make_parent(path: Path, what: str) -> None:
    """Create the folder a file goes in, as the other commands' outputs do."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FacerecError(f"{path}: cannot create the folder for the {what} ({exc.strerror})") from exc


class EventLog:
    """One JSON line per appearance (track): name, start_s, end_s, probability, box.

    Written a line at a time and flushed, not renamed into place at the end: a camera run can go
    on for hours and be killed, and each line is a whole event, so the log holds every appearance
    up to then and can be followed while it runs.
    """

    def __init__(self, path):
        self.path = Path(path) if path else None
        self._f = None
        if self.path:
            _make_parent(self.path, "events log")
            if not os.access(self.path.parent, os.W_OK) or (self.path.exists() and not os.access(self.path, os.W_OK)):
                raise FacerecError(f"{path}: cannot write the events log there (permission denied)")
        self.events = []

    def start(self):
        """Open (and empty) the log once the source has opened: a mistyped --source keeps the old log."""
        if self.path:
            try:
                self._f = open(self.path, "w", encoding="utf-8")
            except OSError as exc:
                raise FacerecError(f"{self.path}: cannot write the events log there ({exc.strerror})") from exc

    def write(self, track, fps: float):
        name, prob = track.summary()
        event = {"track": track.id, "name": name, "start_s": round(track.start_frame / fps, 3),
                 "end_s": round(track.last_seen / fps, 3), "probability": round(prob, 4),
                 "box": [round(float(v), 1) for v in track.box], "frames": track.last_seen - track.start_frame + 1}
        self.events.append(event)
        if self._f:
            self._f.write(json.dumps(event) + "\n")
            self._f.flush()

    def close(self):
        if self._f:
            self._f.close()


def display_available() -> bool:
    """False where a window cannot open: Linux with no X or Wayland display (OpenCV's Qt backend
    aborts the whole process there instead of raising)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


@dataclass
class RunStats:
    frames: int
    seconds: float
    events: list
    dropped: int = 0
    notes: list = field(default_factory=list)
    stopped_early: str | None = None  # why a live source or a damaged file gave out (see FrameSource)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def _partial_name(output: Path) -> Path:
    """A hidden name beside output, with its suffix (OpenCV picks the container by it)."""
    import tempfile

    from .files import _umask

    fd, tmp = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=f".partial{output.suffix}", dir=output.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600, as a plain open() would not
    return Path(tmp)


def run_video(source, recognizer, output=None, log=None, display: bool = True, max_frames: int | None = None,
              progress: bool = False, read_timeout: float | None = 10.0, **tracking) -> RunStats:
    """Frame source -> recognizer's tracker -> drawing, the annotated video, the events log.

    The annotated video is written under a hidden name and renamed to output once finished
    (also when the run ends early: what was written is a playable video), so a killed run never
    leaves a file that looks complete. Missing folders for output and log are created.
    stats.stopped_early says when the frames ran out before the source's end (a live source that
    stalled or disconnected, no frame for read_timeout seconds, a truncated file); callers that
    need the whole source should treat it as a failure, as real_time_face_recognition.py does.
    tracking: detect_every, embed_every, min_face_size (see FaceTracker).
    """
    import cv2

    tracker = recognizer.video(**tracking)
    notes = []
    if display and not display_available():
        display = False
        notes.append("no display found: running without a window")
    if output:
        output = Path(output)
        if output.is_dir():
            raise FacerecError(f"{output}: is a folder; name the video file to write")
        _make_parent(output, "annotated video")
    events = EventLog(log)  # before the reader thread starts: a bad path then stops nothing half-way
    try:
        src = FrameSource(str(source), read_timeout=read_timeout)
        events.start()
    except BaseException:
        events.close()
        raise
    from .progress import progress as progress_bar

    writer = partial = None
    window = "facerec" if display else None
    bar = progress_bar(max_frames or src.frame_count, "Frames", unit="frames", enabled=progress)
    n = 0
    t0 = time.perf_counter()
    recent = []
    stopped = None
    try:
        if output:
            try:
                partial = _partial_name(output)
            except OSError as exc:
                raise FacerecError(f"{output}: cannot write a video there ({exc.strerror})") from exc
            writer = cv2.VideoWriter(str(partial), cv2.VideoWriter_fourcc(*"mp4v"), src.fps, src.size)
            if not writer.isOpened():
                raise FacerecError(f"{output}: cannot write a video there")
        for index, frame in src:
            visible = tracker.step(np.ascontiguousarray(frame[:, :, ::-1]), index)
            for t in tracker.ended:
                events.write(t, src.fps)
            now = time.perf_counter()
            recent = (recent + [now])[-30:]
            fps = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 1 else None
            if writer is not None or window:
                draw(frame, visible, fps)
            if writer is not None:
                writer.write(frame)
            if window:
                cv2.imshow(window, frame)
                if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                    break
            n += 1
            bar.update()
            if max_frames and n >= max_frames:
                break
        else:  # the source gave out, rather than the user or --max-frames stopping it
            stopped = src.stopped_early()
        if n == 0 and not src.live:
            raise FacerecError(stopped or f"{source}: no frame could be read (not a video OpenCV can decode)")
    finally:
        seconds = time.perf_counter() - t0
        bar.close()
        for t in tracker.close():
            events.write(t, src.fps)
        events.close()
        if writer is not None:
            writer.release()
        if partial is not None:
            # Released, the video is whole and playable whatever stopped the run; none written
            # leaves any older file of that name alone.
            if n:
                os.replace(partial, output)
            else:
                partial.unlink(missing_ok=True)
        src.close()
        if window:
            cv2.destroyAllWindows()
    return RunStats(n, seconds, events.events, src.dropped, notes, stopped)
