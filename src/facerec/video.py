"""Video around the recognizer: frame sources read in their own thread, drawing, writers, the events log."""
from __future__ import annotations

import json
import queue
import threading
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import FacerecError


class FrameSource:
    """Frames (BGR, as OpenCV gives them) from a camera index, a file or a stream URL.

    A thread reads ahead into a small queue so decoding overlaps with recognition. From a file
    every frame is kept (block when the queue is full); from a live source only the newest
    frames are, so a slow consumer sees the present rather than a growing backlog.
    """

    def __init__(self, source: str, queue_size: int = 8):
        import cv2

        self.source = source
        self.live = source.isdigit() or "://" in source
        if not self.live and not Path(source).exists():
            raise FacerecError(f"{source}: no such video file")
        from .tfutil import quiet_output

        # OpenCV's backends print pages of warnings while probing a missing camera or a file that
        # is not a video; the one-line error below says what went wrong.
        with quiet_output(fds=(2,)):
            self.cap = cv2.VideoCapture(int(source) if source.isdigit() else source)
        if not self.cap.isOpened():
            what = "camera" if source.isdigit() else "video"
            raise FacerecError(f"cannot open {what} {source}" + ("" if source.isdigit() else
                               " (missing, or not a video OpenCV can decode)"))
        self.fps = self.cap.get(cv2.CAP_PROP_FPS) or 0.0
        if not (0 < self.fps < 1000):
            self.fps = 30.0
        self.size = (int(self.cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self.cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        self.frame_count = None if self.live else (int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None)
        self.dropped = 0
        self._q: queue.Queue = queue.Queue(queue_size)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="frame-reader", daemon=True)
        self._thread.start()

    def _read(self):
        index = 0
        while not self._stop.is_set():
            ok, frame = self.cap.read()
            if not ok:
                break
            item = (index, frame)
            index += 1
            if self.live:
                while True:
                    try:
                        self._q.put_nowait(item)
                        break
                    except queue.Full:
                        try:
                            self._q.get_nowait()
                            self.dropped += 1
                        except queue.Empty:
                            pass
            else:
                while not self._stop.is_set():
                    try:
                        self._q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        self._q.put(None)

    def __iter__(self):
        while True:
            item = self._q.get()
            if item is None:
                return
            yield item

    def close(self):
        self._stop.set()
        try:
            while True:
                self._q.get_nowait()
        except queue.Empty:
            pass
        self._thread.join(timeout=2)
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


class EventLog:
    """One JSON line per appearance (track): name, start_s, end_s, probability, box."""

    def __init__(self, path):
        self.path = Path(path) if path else None
        try:
            self._f = open(self.path, "w", encoding="utf-8") if self.path else None
        except OSError as exc:
            raise FacerecError(f"{path}: cannot write the events log there ({exc.strerror})") from exc
        self.events = []

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

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def run_video(source, recognizer, output=None, log=None, display: bool = True, max_frames: int | None = None,
              progress: bool = False, **tracking) -> RunStats:
    """Frame source -> recognizer's tracker -> drawing, the annotated video, the events log.

    tracking: detect_every, embed_every, min_face_size (see FaceTracker).
    """
    import cv2

    tracker = recognizer.video(**tracking)
    notes = []
    if display and not display_available():
        display = False
        notes.append("no display found: running without a window")
    events = EventLog(log)  # before the reader thread starts: a bad path then stops nothing half-way
    try:
        src = FrameSource(str(source))
    except BaseException:
        events.close()
        raise
    from .progress import progress as progress_bar

    writer = None
    window = "facerec" if display else None
    bar = progress_bar(max_frames or src.frame_count, "Frames", unit="frames", enabled=progress)
    n = 0
    t0 = time.perf_counter()
    recent = []
    try:
        if output:
            writer = cv2.VideoWriter(str(output), cv2.VideoWriter_fourcc(*"mp4v"), src.fps, src.size)
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
        if n == 0 and not src.live:
            raise FacerecError(f"{source}: no frame could be read (not a video OpenCV can decode)")
    finally:
        seconds = time.perf_counter() - t0
        bar.close()
        for t in tracker.close():
            events.write(t, src.fps)
        events.close()
        if writer is not None:
            writer.release()
        src.close()
        if window:
            cv2.destroyAllWindows()
    return RunStats(n, seconds, events.events, src.dropped, notes)
