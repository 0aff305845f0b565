"""Enrolling a person from a camera or a video: follow the one person in view, keep the faces worth
enrolling, as many different from each other as there are.

Frames in, no I/O (the command reads a file or a camera with video.sources, the service gives its
camera's frames): every ``every``-th frame is searched, each face is followed across frames by the
real-time tool's Tracker (a shot cut ends every track) and embedded.  The person is the track
seen most, joined by every other track of the same person (never in view beside it, and by the
model's odds very likely them: someone who left the picture and came back).  Of their faces,
those too small, too blurred or turned too far (detection.quality) are refused; of the rest, the
sharpest frontal one is kept first and then, one at a time, the face farthest (by embedding) from
every face kept so far: other poses, expressions and light, rather than twenty copies of one moment.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..errors import FacerecError
from .cuts import CutDetector
from .tracking import Tracker, split_distance

MAX_CANDIDATES = 600  # faces kept to choose from; past it, frames are looked at half as often
CROWDED = 0.5         # refused when two or more people are in view in more than this share of frames
MARGIN = 0.6          # a kept face's crop: its box grown by this much of its size on each side
SAME = 0.9            # the chance of being the person filmed that joins another track to theirs


@dataclass
class Candidate:
    """One face seen: where (frame, box, landmarks, track), its embedding and quality, and a crop of
    the frame around it (crop_origin: the crop's top-left corner in the frame)."""

    frame: int
    track: int
    box: np.ndarray
    landmarks: np.ndarray
    embedding: np.ndarray
    quality: object
    crop: np.ndarray
    crop_origin: np.ndarray

    def in_crop(self) -> tuple[np.ndarray, np.ndarray]:
        """(box, landmarks) in the crop's coordinates."""
        return self.box - np.tile(self.crop_origin, 2), self.landmarks - self.crop_origin


@dataclass
class Capture:
    """The chosen faces and what was seen: frames searched, frames with a face, frames with two or
    more people, the person's faces refused by reason; diversity: the mean distance between the
    chosen faces' embeddings."""

    chosen: list
    searched: int = 0
    with_face: int = 0
    crowded: int = 0
    refused: Counter = field(default_factory=Counter)
    person_faces: int = 0
    fps: float = 0.0  # the source's, when known: a face's time is its frame / fps

    def at(self, face: Candidate) -> float:
        """When a face was seen, in seconds from the source's start (its frame number without fps)."""
        return face.frame / self.fps if self.fps else float(face.frame)

    @property
    def diversity(self) -> float:
        return mean_distance([c.embedding for c in self.chosen])

    @property
    def sharpness(self) -> float:
        return float(np.mean([c.quality.sharpness for c in self.chosen])) if self.chosen else 0.0


def mean_distance(vectors) -> float:
    """The mean distance between every two of some embeddings (0 for fewer than two)."""
    x = np.asarray(vectors, np.float32)
    if len(x) < 2:
        return 0.0
    d = np.linalg.norm(x[:, None] - x[None], axis=2)
    return float(d[np.triu_indices(len(x), 1)].mean())


class FaceCapture:
    """Frames of one person in (add, with each frame's number), the faces worth enrolling out (result).

    >>> capture = FaceCapture(pipeline)                       # doctest: +SKIP
    >>> for i, frame in enumerate(frames): capture.add(frame, i)
    >>> capture.result(faces=10).chosen                       # doctest: +SKIP
    """

    def __init__(self, pipeline, every: int = 3):
        self.pipeline, self.every = pipeline, max(1, int(every))
        self.tracker = Tracker(max_missed=3 * self.every)
        self.split = split_distance(pipeline.embedder)
        self.candidates: list[Candidate] = []
        self.stride = 1  # of the frames due, every stride-th is looked at (doubled when candidates overflow)
        self.cuts = CutDetector()  # a shot cut ends every track, as in the real-time tool
        self.seen = Capture([])

    def add(self, frame: np.ndarray, index: int) -> int:
        """Look at one uint8 RGB frame (only every ``every``-th is searched); returns the number
        of good faces seen so far, for progress."""
        if self.cuts.is_cut(frame):  # every frame: a cut is a change from the frame before
            self.tracker.end_all()
        if index % (self.every * self.stride):
            return self.good_so_far
        from ..detection.quality import MIN_SIZE, measure

        det = self.pipeline.detect(frame)
        self.seen.searched += 1
        if len(det):
            self.seen.with_face += 1
            widths = det.boxes[:, 2] - det.boxes[:, 0]
            self.seen.crowded += int(np.sum(widths >= max(MIN_SIZE, 0.5 * widths.max())) >= 2)
            self.tracker.update(index, det.boxes, det.landmarks)
            chips = self.pipeline.chips(frame, det.boxes, det.landmarks)
            vectors = self.pipeline.embedder.embed(chips)
            for box, marks, chip, vector in zip(det.boxes, det.landmarks, chips, vectors):
                crop, origin = _crop(frame, box)
                self.candidates.append(Candidate(index, self._track_of(box, index), np.asarray(box, np.float32),
                                                 np.asarray(marks, np.float32), vector, measure(chip, box, marks),
                                                 crop, origin))
        if len(self.candidates) > MAX_CANDIDATES:  # a long recording: the whole of it, more sparsely
            self.stride *= 2
            self.candidates = [c for c in self.candidates if c.frame % (self.every * self.stride) == 0]
        return self.good_so_far

    @property
    def good_so_far(self) -> int:
        return sum(not c.quality.problem for c in self.candidates)

    def _track_of(self, box, index: int) -> int:
        for t in self.tracker.tracks:
            if t.last_seen == index and np.allclose(t.box, box):
                return t.id
        return -1

    def result(self, faces: int = 10, min_faces: int = 3) -> Capture:
        """The chosen faces (at most ``faces``); FacerecError when nobody, or two people most of
        the time, were in view, or fewer than min_faces good faces of the person were seen."""
        from ..wording import counted

        seen = self.seen
        if not seen.with_face:
            raise FacerecError(f"no face seen in {counted(seen.searched, 'frame')} looked at: is anyone in view?")
        if seen.crowded > CROWDED * seen.with_face:
            raise FacerecError(f"two or more people were in view in {seen.crowded} of {seen.with_face} frames with "
                               f"a face: film one person at a time")
        person = self.person()
        good = [c for c in person if not c.quality.problem]
        seen.person_faces = len(person)
        seen.refused = Counter(c.quality.problem.split(" (")[0] for c in person if c.quality.problem)
        if len(good) < min_faces:
            why = ", ".join(f"{n} {reason}" for reason, n in seen.refused.most_common()) or "none refused"
            raise FacerecError(f"only {counted(len(good), 'good face')} seen (need {min_faces}) of "
                               f"{len(person)} of this person ({why}): come closer, hold still, face the camera, "
                               f"or give more light")
        seen.chosen = choose_diverse(good, faces)
        return seen

    def person(self) -> list[Candidate]:
        """The faces of the person seen most: their longest track, and every other track that is
        never in view beside it and is, by the model's odds, very likely the same person (someone who
        left and came back).  Nearness alone is not enough: among a track's many faces a stranger
        finds one near him about as often as a face of the person does."""
        tracks: dict = {}
        for c in self.candidates:
            tracks.setdefault(c.track if c.track >= 0 else -1 - c.frame, []).append(c)
        longest = sorted(tracks.values(), key=len, reverse=True)
        person, joined = list(longest[0]), 1
        for faces in longest[1:]:  # the larger first; each one joined is evidence for the next
            beside = {c.frame for c in person}
            if any(c.frame in beside for c in faces):
                continue
            known = np.asarray([c.embedding for c in person], np.float32)
            mean = _unit(np.mean([c.embedding for c in faces], axis=0))
            # A track's frames are one look at the person, not many: the tracks count as the photos.
            if self._same_person(float(np.linalg.norm(known - mean, axis=1).min()), joined):
                person += faces
                joined += 1
        return sorted(person, key=lambda c: c.frame)

    def _same_person(self, nearest: float, looks: int) -> bool:
        """Whether a track this near the nearest face of the person's looks (their tracks so far) is
        them, with a chance of at least SAME (identity.odds, even odds before looking); for a model
        without measured odds, within its split distance."""
        from ..identity.odds import shipped_odds

        odds = shipped_odds(self.pipeline.embedder.name)
        if odds is None:
            return nearest <= self.split
        person, _ = odds.chances(np.array([[nearest]]), np.array([[looks]]), people=1)
        return float(person[0, 0]) >= SAME


def choose_diverse(good: list, n: int) -> list:
    """The sharpest frontal face, then again and again the face farthest from all those chosen."""
    first = max(good, key=lambda c: c.quality.sharpness * (1 - abs(c.quality.yaw)))
    chosen = [first]
    x = np.asarray([c.embedding for c in good], np.float32)
    nearest = np.linalg.norm(x - first.embedding, axis=1)
    while len(chosen) < min(n, len(good)):
        k = int(np.argmax(nearest))
        if nearest[k] <= 1e-6:
            break  # only copies of faces already chosen are left
        chosen.append(good[k])
        nearest = np.minimum(nearest, np.linalg.norm(x - good[k].embedding, axis=1))
    return sorted(chosen, key=lambda c: c.frame)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def _crop(frame: np.ndarray, box) -> tuple[np.ndarray, np.ndarray]:
    """A copy of the frame around a face (its box grown by MARGIN per side) and the crop's corner."""
    x1, y1, x2, y2 = np.asarray(box, np.float64)
    mx, my = (x2 - x1) * MARGIN, (y2 - y1) * MARGIN
    h, w = frame.shape[:2]
    left, top = int(max(0, x1 - mx)), int(max(0, y1 - my))
    right, bottom = int(min(w, x2 + mx)), int(min(h, y2 + my))
    return frame[top:bottom, left:right].copy(), np.array([left, top], np.float32)


def record(source: str, pipeline, seconds: float | None = None, start: float = 0.0, faces: int = 10,
           on_progress=None) -> Capture:
    """FaceCapture over a camera, stream or video file (video.sources.FrameSource): from start
    seconds in, for seconds (a file: to its end by default); on_progress(seconds_left, good_faces)
    after each frame looked at."""
    from .sources import FrameSource

    src = FrameSource(str(source))
    capture, first, last = FaceCapture(pipeline), int(start * src.fps), None
    if src.frame_count and first >= src.frame_count:
        src.close()
        raise FacerecError(f"--start {start:g}: {source} is only {src.frame_count / src.fps:.1f} s long")
    if seconds is not None:
        last = first + max(1, int(seconds * src.fps))
    recorded = False  # the seconds asked for were all seen
    try:
        for index, frame in src:
            if last is not None and index >= last:
                recorded = True
                break
            if index >= first:
                good = capture.add(np.ascontiguousarray(frame[:, :, ::-1]), index)
                if on_progress is not None and (index - first) % capture.every == 0:
                    on_progress(None if last is None else (last - index) / src.fps, good)
    finally:
        src.close()
    if src.live and not recorded:  # a camera that stopped before the time was up
        raise FacerecError(src.stopped_early() or f"{source}: stopped delivering frames")
    result = capture.result(faces)
    result.fps = src.fps
    return result


def save_faces(chosen: list, folder, name: str):
    """Write the chosen faces' crops into folder as NAME_01.png, NAME_02.png ... (numbers already
    taken are skipped: nothing there is replaced); returns the folder."""
    from pathlib import Path

    from ..images import atomic_save_image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for c in chosen:
        n += 1
        while (folder / f"{name}_{n:02d}.png").exists():
            n += 1
        atomic_save_image(folder / f"{name}_{n:02d}.png", c.crop)
    return folder
