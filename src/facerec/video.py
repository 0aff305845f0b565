"""Video: frame sources read in their own thread, face tracks, name voting, drawing, writers."""
from __future__ import annotations

import json
import queue
import threading
from collections import Counter, deque
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
        self.cap = cv2.VideoCapture(int(source) if source.isdigit() else source)
        if not self.cap.isOpened():
            what = "camera" if source.isdigit() else "video"
            raise FacerecError(f"cannot open {what} {source}" + ("" if source.isdigit() else
                               " (missing, or not a video OpenCV can decode)"))
        self.fps = self.cap.get(cv2.CAP_PROP_FPS) or 0.0
        if not (0 < self.fps < 1000):
            self.fps = 30.0
        self.size = (int(self.cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self.cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
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


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of each box in a (N, 4) with each in b (M, 4): (N, M)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x1 = np.maximum(a[:, None, 0], b[None, :, 0]); y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2]); y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda z: (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])
    return inter / np.maximum(area(a)[:, None] + area(b)[None] - inter, 1e-9)


@dataclass
class Track:
    """One face followed across frames, with the recent predictions it votes over."""

    id: int
    box: np.ndarray
    landmarks: np.ndarray
    start_frame: int
    last_seen: int
    last_embedded: int = -10**9
    votes: deque = field(default_factory=lambda: deque(maxlen=7))
    history: list = field(default_factory=list)
    embedding: np.ndarray | None = None

    def add_vote(self, name: str, prob: float):
        self.votes.append((name, prob))
        self.history.append((name, prob))

    @staticmethod
    def _winner(votes) -> str:
        return Counter(n for n, _ in votes).most_common(1)[0][0] if votes else "..."

    @property
    def name(self) -> str:
        """The vote of the recent predictions: what is drawn now."""
        return self._winner(self.votes)

    @property
    def probability(self) -> float:
        probs = [p for n, p in self.votes if n == self.name]
        return float(np.mean(probs)) if probs else 0.0

    def summary(self) -> tuple[str, float]:
        """(name, mean probability) voted over the whole appearance, for the events log."""
        name = self._winner(self.history)
        probs = [p for n, p in self.history if n == name]
        return name, float(np.mean(probs)) if probs else 0.0


class Tracker:
    """Greedy IoU matching of detections to tracks; a track ends after max_missed frames unseen."""

    def __init__(self, iou_threshold: float = 0.3, max_missed: int = 10):
        self.iou_threshold, self.max_missed = iou_threshold, max_missed
        self.tracks: list[Track] = []
        self.next_id = 0

    def update(self, frame_index: int, boxes: np.ndarray, landmarks: np.ndarray) -> list[Track]:
        """Match this frame's detections; returns the tracks that ended."""
        current = np.array([t.box for t in self.tracks]).reshape(-1, 4)
        m = iou(current, boxes)
        matched_t, matched_d = set(), set()
        for flat in np.argsort(-m, axis=None):
            ti, di = np.unravel_index(flat, m.shape)
            if m[ti, di] < self.iou_threshold:
                break
            if ti in matched_t or di in matched_d:
                continue
            matched_t.add(ti); matched_d.add(di)
            t = self.tracks[ti]
            t.box, t.landmarks, t.last_seen = boxes[di], landmarks[di], frame_index
        for di in range(len(boxes)):
            if di not in matched_d:
                self.tracks.append(Track(self.next_id, boxes[di], landmarks[di], frame_index, frame_index))
                self.next_id += 1
        ended = [t for t in self.tracks if frame_index - t.last_seen > self.max_missed]
        self.tracks = [t for t in self.tracks if frame_index - t.last_seen <= self.max_missed]
        return ended

    def restart(self, track: Track, frame_index: int) -> Track:
        """Replace a track whose face turned out to be someone else (a cut): same box, new id."""
        new = Track(self.next_id, track.box, track.landmarks, frame_index, frame_index)
        self.next_id += 1
        self.tracks[self.tracks.index(track)] = new
        return new

    def visible(self, frame_index: int, within: int) -> list[Track]:
        return [t for t in self.tracks if frame_index - t.last_seen <= within]


def draw(frame: np.ndarray, tracks, fps: float | None = None) -> None:
    """Boxes with name and probability (green known, red Unknown), and frames/s, in place (BGR)."""
    import cv2

    for t in tracks:
        x1, y1, x2, y2 = (int(round(v)) for v in t.box)
        unknown = t.name in ("Unknown", "...")
        color = (0, 0, 255) if unknown else (0, 200, 0)
        cv2.rectangle(frame, (x1, y1), (x2, y2), color, 2)
        label = t.name if t.name == "..." else f"{t.name} {t.probability:.2f}"
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        cv2.rectangle(frame, (x1, max(0, y1 - th - 6)), (x1 + tw + 4, y1), color, -1)
        cv2.putText(frame, label, (x1 + 2, max(th, y1 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1,
                    cv2.LINE_AA)
    if fps is not None:
        cv2.putText(frame, f"{fps:.1f} fps", (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 0), 2, cv2.LINE_AA)


class EventLog:
    """One JSON line per appearance (track): name, start_s, end_s, probability, box."""

    def __init__(self, path):
        self.path = Path(path) if path else None
        self._f = open(self.path, "w", encoding="utf-8") if self.path else None
        self.events = []

    def write(self, track: Track, fps: float):
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
