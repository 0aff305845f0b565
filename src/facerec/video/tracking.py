"""Faces followed across video frames: IoU tracks named from their accumulated embedding."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import FacerecError
from ..identity.protocol import PENDING
from ..detection.boxes import iou
from .cuts import BOX_COLOURS, BOX_PICTURE, CutDetector, face_patch


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


@dataclass
class Track:
    """One face followed across frames. Its name is what the identifier says of the track's
    accumulated embedding (the mean of every face embedded so far), so one appearance gets one
    verdict under the Unknown rule rather than a vote of frames that each might slip past it."""

    id: int
    box: np.ndarray
    landmarks: np.ndarray
    start_frame: int
    last_seen: int
    last_embedded: int = -10**9
    name: str = PENDING
    probability: float = 0.0
    distance: float = float("inf")
    total: np.ndarray | None = None  # sum of the unit embeddings seen
    count: int = 0
    recent: list = field(default_factory=list)  # the last RECENT unit embeddings, oldest first
    look: CutDetector = field(default_factory=lambda: CutDetector(BOX_PICTURE, BOX_COLOURS), repr=False)
    velocity: np.ndarray | None = None  # box change per frame, for where to look next
    masked_total: float = 0.0  # the sum of its faces' chances of being masked
    soft_count: int = 0  # how many of its faces were too blurred to enrol
    confirmed: bool = True  # shown, named and reported: see Tracker.update

    def predicted_box(self, frame_index: int) -> np.ndarray:
        if self.velocity is None:
            return self.box
        return self.box + self.velocity * (frame_index - self.last_seen)

    def move(self, box: np.ndarray, landmarks: np.ndarray, frame_index: int) -> None:
        step = (box - self.box) / max(1, frame_index - self.last_seen)
        self.velocity = step if self.velocity is None else 0.5 * (self.velocity + step)
        self.box, self.landmarks, self.last_seen = box, landmarks, frame_index

    @property
    def embedding(self) -> np.ndarray | None:
        """The accumulated embedding (unit length), None before the first."""
        return None if self.total is None else _unit(self.total)

    @property
    def masked(self) -> bool:
        """Whether the track's faces are, on the whole, masked (compared then as masked faces)."""
        from ..detection.mask_check import MASKED

        return self.count > 0 and self.masked_chance >= MASKED

    @property
    def masked_chance(self) -> float:
        """The mean of its faces' chances of being masked (what it is named with: mask_state)."""
        return self.masked_total / self.count if self.count else 0.0

    @property
    def soft(self) -> bool:
        """Whether most of the track's faces were too blurred to enrol (then weighed
        with the model's soft-face statistics)."""
        return self.count > 0 and self.soft_count * 2 > self.count

    def add(self, vector: np.ndarray, masked: float = 0.0, soft: bool = False) -> None:
        self.total = vector.astype(np.float32) if self.total is None else self.total + vector
        self.masked_total += float(masked)
        self.soft_count += bool(soft)
        self.count += 1
        self.recent = (self.recent + [vector])[-RECENT:]

    def nearest_recent(self, vector: np.ndarray) -> float:
        """Distance from vector to the closest of the track's recent faces (inf before the first)."""
        return min((float(np.linalg.norm(vector - r)) for r in self.recent), default=float("inf"))


class Tracker:
    """Greedy IoU matching of detections to tracks; a track ends after max_missed frames unseen."""

    def __init__(self, iou_threshold: float = 0.3, max_missed: int = 10):
        self.iou_threshold, self.max_missed = iou_threshold, max_missed
        self.tracks: list[Track] = []
        self.next_id = 0

    def update(self, frame_index: int, boxes: np.ndarray, landmarks: np.ndarray,
               scores: np.ndarray | None = None) -> list[Track]:
        """Match this frame's detections; returns the tracks that ended.  With the detector's
        scores, a new track whose face it was unsure of (under face_check.SURE: the face check's
        second opinion kept it) is confirmed only when a later detection finds it again: a hand
        or a patch of fabric that passes the check once does not become an appearance."""
        from ..detection.face_check import SURE

        # Where each track's face should be now: a small face crossing the frame moves more than
        # its own width between detections, and its last box alone would lose it.
        current = np.array([t.predicted_box(frame_index) for t in self.tracks]).reshape(-1, 4)
        m = iou(current, boxes)
        ages = np.array([frame_index - t.last_seen for t in self.tracks])
        matched_t, matched_d = set(), set()
        # Tracks seen most recently choose first (a matching cascade by age): a face moving
        # across a stale track's last box stays on its own track instead of jumping to the stale one.
        for age in sorted(set(ages.tolist())):
            for flat in np.argsort(-np.where(ages[:, None] == age, m, -1), axis=None):
                ti, di = np.unravel_index(flat, m.shape)
                if ages[ti] != age or m[ti, di] < self.iou_threshold:
                    break
                if ti in matched_t or di in matched_d:
                    continue
                matched_t.add(ti); matched_d.add(di)
                self.tracks[ti].move(boxes[di], landmarks[di], frame_index)
                self.tracks[ti].confirmed = True
        for di in range(len(boxes)):
            if di not in matched_d:
                sure = scores is None or scores[di] >= SURE
                self.tracks.append(Track(self.next_id, boxes[di], landmarks[di], frame_index, frame_index,
                                         confirmed=sure))
                self.next_id += 1
        ended = [t for t in self.tracks if frame_index - t.last_seen > self.max_missed]
        self.tracks = [t for t in self.tracks if frame_index - t.last_seen <= self.max_missed]
        return ended

    def end_all(self) -> list[Track]:
        """End every track (a cut, or the end of the video) and return them."""
        ended, self.tracks = self.tracks, []
        return ended

    def restart(self, track: Track, frame_index: int) -> Track:
        """Replace a track whose face turned out to be someone else (a cut): same box, new id."""
        new = Track(self.next_id, track.box, track.landmarks, frame_index, frame_index)
        self.next_id += 1
        self.tracks[self.tracks.index(track)] = new
        return new

    def visible(self, frame_index: int, within: int) -> list[Track]:
        return [t for t in self.tracks if t.confirmed and frame_index - t.last_seen <= within]


RECENT = 5  # faces of a track its newest face is compared with
LOOK_AGAIN = 0.5  # of the box-change thresholds: a face changed this much is embedded at once
SAME_PERSON_SHARE = 0.99  # of two photos of one person, the share split_distance keeps together


def split_distance(embedder) -> float:
    """The distance beyond which a track's new face is someone else: the one that 99% of pairs of
    photos of one person stay under (the model's shipped statistics; its same-person distance, or
    0.45, for a model without them).  Faces of one video stay far closer than two photos do."""
    from ..identity.openset import GRID, shipped

    stats = shipped(embedder.name)
    if stats is None:
        return embedder.same_person_distance or 0.45
    return float(GRID[min(np.searchsorted(stats.genuine_cdf, SAME_PERSON_SHARE), len(GRID) - 1)])


class FaceTracker:
    """Frame in, named tracks out, for one video: no I/O, so any camera loop can drive it.

    Detection runs every ``detect_every`` frames on a copy scaled so ``min_face_size`` pixels
    become MTCNN's 20; tracks carry faces between detections; a track is embedded again only
    every ``embed_every`` frames (all due faces of a frame in one embedding call) and named from
    the mean of all its embeddings, so a name does not flicker and a stranger's appearance is
    judged once, on all the evidence, under the identifier's Unknown rule.  No appearance spans
    two people: a shot cut (video.cuts) ends every track at once; a track whose box shows another
    face, or whose new face is farther from its recent faces than split_distance, ends there.
    """

    def __init__(self, recognizer, detect_every: int = 2, embed_every: int = 5, min_face_size: int = 40):
        if detect_every < 1 or embed_every < 1:
            raise FacerecError("detect_every (--detect-every) and embed_every (--embed-every) must be at least 1")
        if min_face_size < 12:
            raise FacerecError(f"--min-face-size {min_face_size} is below what MTCNN can see (12 px)")
        self.recognizer = recognizer
        self.detect_every, self.embed_every = detect_every, embed_every
        self.scale = min(1.0, 20.0 / min_face_size)
        # Beyond it a track's new face is someone else (see split_distance), not a pose change.
        self.split_distance = split_distance(recognizer.embedder)
        self.tracks = Tracker(max_missed=max(10, 3 * detect_every))
        self.index = -1
        self._undetected = 0  # frames stepped since the last detection
        self.cuts = CutDetector()
        self.ended: list[Track] = []  # appearances that ended at the last step

    def step(self, frame: np.ndarray, index: int | None = None) -> list[Track]:
        """The named tracks visible in this uint8 RGB frame; index: its number in the video
        (default: one after the last).  A source whose frames come with gaps (a live source read
        faster than it is named) still gets a detection every detect_every frames it gives."""
        self.index = self.index + 1 if index is None else index
        index, tracker = self.index, self.tracks
        self.ended = []
        self._undetected += 1
        if self.cuts.is_cut(frame):
            # A new shot: whoever was in view has left it, and faces are looked for at once.
            self.ended += tracker.end_all()
            self._undetected = self.detect_every
        if index % self.detect_every == 0 or not tracker.tracks or self._undetected >= self.detect_every:
            self._undetected = 0
            det = self.recognizer.pipeline.detect(self._scaled(frame))
            self.ended += tracker.update(index, det.boxes / self.scale, det.landmarks / self.scale, det.scores)
            self._split_changed_faces(frame, index)
            due = [t for t in tracker.tracks
                   if t.confirmed and t.last_seen == index and index - t.last_embedded >= self.embed_every]
            if due:
                self._embed(frame, due, index)
        return tracker.visible(index, self.detect_every)

    def _split_changed_faces(self, frame: np.ndarray, index: int) -> None:
        """A track whose box now shows another face (the face's own picture and colours jumped
        since its last detection: a cut at the same place, someone passing in front) ends there,
        and its box starts a new track at once, before any embedding could mix the two.  One whose
        picture changed by half as much is embedded again now, for the embedding to decide."""
        for t in list(self.tracks.tracks):
            patch = face_patch(frame, t.box) if t.last_seen == index else None
            change = t.look.scores(patch) if patch is not None else None
            if change is None:
                continue
            if change[0] >= BOX_PICTURE and change[1] >= BOX_COLOURS:
                self.ended.append(t)
                self.tracks.restart(t, index).look.scores(patch)
            elif change[0] >= BOX_PICTURE * LOOK_AGAIN and change[1] >= BOX_COLOURS * LOOK_AGAIN:
                t.last_embedded = -10**9

    def _scaled(self, frame: np.ndarray) -> np.ndarray:
        """The frame scaled so min_face_size pixels become MTCNN's smallest face."""
        if self.scale == 1.0:
            return frame
        import cv2

        size = (max(1, int(frame.shape[1] * self.scale)), max(1, int(frame.shape[0] * self.scale)))
        return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)

    def _embed(self, frame: np.ndarray, due: list, index: int) -> None:
        """Embed the due tracks' faces (one call), split off newcomers, name every track embedded now."""
        from ..detection.mask_check import masked_chances
        from ..identity.odds import soft_faces

        rec = self.recognizer
        vectors, sharpness = rec.pipeline.embed_and_measure(frame, [t.box for t in due], [t.landmarks for t in due])
        masked = masked_chances(frame, np.asarray([t.landmarks for t in due]))
        for t, e, m, soft in zip(due, vectors, masked, soft_faces(rec.embedder.name, sharpness)):
            # A face farther from every one of its track's recent faces than two photos of one
            # person come (the model's measured statistics) is someone else, whatever its name.
            if t.recent and t.nearest_recent(e) > self.split_distance:
                # Another person now fills this box (a cut, or one walking past): end the
                # appearance rather than let the newcomer inherit its embedding.
                self.ended.append(t)
                t = self.tracks.restart(t, index)
            t.add(e, m, soft)
            t.last_embedded = index
        fresh = [t for t in self.tracks.tracks if t.last_embedded == index]
        names, probs, dists = rec.identify(np.stack([t.embedding for t in fresh]),
                                           np.array([t.masked_chance for t in fresh]), [t.soft for t in fresh])
        for t, name, p, d in zip(fresh, names, probs, dists):
            t.name, t.probability, t.distance = name, float(p), float(d)

    def close(self) -> list[Track]:
        """End every open track (the video is over) and return them."""
        return self.tracks.end_all()
