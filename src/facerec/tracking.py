"""Faces followed across video frames: IoU tracks, name voting, and the per-frame recognition step."""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

import numpy as np

from .errors import FacerecError


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


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


class FaceTracker:
    """Frame in, named tracks out, for one video: no I/O, so any camera loop can drive it.

    Detection runs every ``detect_every`` frames on a copy scaled so ``min_face_size`` pixels
    become MTCNN's 20; tracks carry faces between detections; a track is embedded again only
    every ``embed_every`` frames (all due faces of a frame in one embedding call) and its name is
    the vote of its recent predictions, so names do not flicker.
    """

    def __init__(self, recognizer, detect_every: int = 2, embed_every: int = 5, min_face_size: int = 40):
        if detect_every < 1 or embed_every < 1:
            raise FacerecError("detect_every (--detect-every) and embed_every (--embed-every) must be at least 1")
        if min_face_size < 12:
            raise FacerecError(f"--min-face-size {min_face_size} is below what MTCNN can see (12 px)")
        self.recognizer = recognizer
        self.detect_every, self.embed_every = detect_every, embed_every
        self.scale = min(1.0, 20.0 / min_face_size)
        # A track is split when its face gets another name *and* is farther than the model's
        # same-person distance from the face it had: a cut or someone walking past, not a pose change.
        self.split_distance = recognizer.embedder.same_person_distance or 0.45
        self.tracks = Tracker(max_missed=max(10, 3 * detect_every))
        self.index = -1
        self.ended: list[Track] = []  # appearances that ended at the last step

    def step(self, frame: np.ndarray, index: int | None = None) -> list[Track]:
        """The named tracks visible in this uint8 RGB frame; index: its number in the video
        (default: one after the last), which times the appearances."""
        import cv2

        from .alignment import align_for

        self.index = self.index + 1 if index is None else index
        index, tracker, rec = self.index, self.tracks, self.recognizer
        self.ended = []
        if index % self.detect_every == 0 or not tracker.tracks:
            small = frame if self.scale == 1.0 else cv2.resize(
                frame, (max(1, int(frame.shape[1] * self.scale)), max(1, int(frame.shape[0] * self.scale))),
                interpolation=cv2.INTER_AREA)
            det = rec.detector.detect(small)
            self.ended += tracker.update(index, det.boxes / self.scale, det.landmarks / self.scale)
            due = [t for t in tracker.tracks
                   if t.last_seen == index and index - t.last_embedded >= self.embed_every]
            if due:
                chips = np.stack([align_for(rec.embedder.alignment, frame, t.box, t.landmarks) for t in due])
                vectors = rec.embedder.embed(chips)
                names, probs, _ = rec.classifier.identify(vectors)
                for t, e, name, p in zip(due, vectors, names, probs):
                    if (t.embedding is not None and name != t.name
                            and np.linalg.norm(e - t.embedding) > self.split_distance):
                        # Another person now fills this box (a cut, or one walking past): end
                        # the appearance rather than let the newcomer inherit its votes.
                        self.ended.append(t)
                        t = tracker.restart(t, index)
                    t.embedding = e if t.embedding is None else _unit(t.embedding + e)
                    t.add_vote(name, float(p))
                    t.last_embedded = index
        return tracker.visible(index, self.detect_every)

    def close(self) -> list[Track]:
        """End every open track (the video is over) and return them."""
        ended, self.tracks.tracks = self.tracks.tracks, []
        return ended
