"""Real-time recognition: frames -> faces -> names, tracked, voted, drawn, logged."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .errors import FacerecError


@dataclass
class RunStats:
    frames: int
    seconds: float
    events: list
    dropped: int = 0

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def recognise_video(source: str, classifier_path, model: str = "default", output=None, log=None,
                    display: bool = True, detect_every: int = 2, embed_every: int = 5,
                    min_face_size: int = 40, max_frames: int | None = None) -> RunStats:
    """Name the faces of a camera, file or stream; optionally write the annotated video and a log.

    Detection runs every ``detect_every`` frames on a copy scaled so ``min_face_size`` pixels
    become MTCNN's 20; tracks carry faces between detections; a track is embedded again only
    every ``embed_every`` frames (all faces of a frame in one embedding call) and its name is
    the vote of its recent predictions, so names do not flicker.
    """
    import cv2

    from . import load_embedder
    from .alignment import align_for
    from .classifier import FaceClassifier
    from .detection import MTCNN
    from .faces import model_key
    from .video import EventLog, FrameSource, Tracker, draw

    if detect_every < 1 or embed_every < 1:
        raise FacerecError("--detect-every and the embedding interval must be at least 1")
    if min_face_size < 12:
        raise FacerecError(f"--min-face-size {min_face_size} is below what MTCNN can see (12 px)")
    clf = FaceClassifier.load(classifier_path)
    embedder = load_embedder(model)
    if clf.embedder_info.get("key") and clf.embedder_info["key"] != model_key(embedder):
        raise FacerecError(f"{classifier_path} was trained with model '{clf.embedder_info.get('spec')}' "
                           f"({clf.embedder_info.get('name')}); run with --model set to it, or train again")
    scale = min(1.0, 20.0 / min_face_size)
    # A track is split when its face gets another name *and* is farther than the model's
    # same-person distance from the face it had: a cut or someone walking past, not a pose change.
    split_distance = embedder.same_person_distance or 0.45
    detector = MTCNN(min_face_size=20)
    src = FrameSource(str(source))
    writer = None
    events = EventLog(log)
    tracker = Tracker(max_missed=max(10, 3 * detect_every))
    window = "facerec" if display else None
    n = 0
    t0 = time.perf_counter()
    recent = []
    try:
        if output:
            fourcc = cv2.VideoWriter_fourcc(*"mp4v")
            writer = cv2.VideoWriter(str(output), fourcc, src.fps, src.size)
            if not writer.isOpened():
                raise FacerecError(f"{output}: cannot write a video there")
        for index, frame in src:
            rgb = np.ascontiguousarray(frame[:, :, ::-1])
            if index % detect_every == 0 or not tracker.tracks:
                small = rgb if scale == 1.0 else cv2.resize(
                    rgb, (max(1, int(rgb.shape[1] * scale)), max(1, int(rgb.shape[0] * scale))),
                    interpolation=cv2.INTER_AREA)
                det = detector.detect(small)
                for t in tracker.update(index, det.boxes / scale, det.landmarks / scale):
                    events.write(t, src.fps)
                due = [t for t in tracker.tracks
                       if t.last_seen == index and index - t.last_embedded >= embed_every]
                if due:
                    chips = np.stack([align_for(embedder.alignment, rgb, t.box, t.landmarks) for t in due])
                    vectors = embedder.embed(chips)
                    names, probs = clf.predict(vectors)
                    for t, e, name, p in zip(due, vectors, names, probs):
                        if (t.embedding is not None and name != t.name
                                and np.linalg.norm(e - t.embedding) > split_distance):
                            # Another person now fills this box (a cut, or one walking past): end
                            # the appearance rather than let the newcomer inherit its votes.
                            events.write(t, src.fps)
                            t = tracker.restart(t, index)
                        t.embedding = e if t.embedding is None else _unit(t.embedding + e)
                        t.add_vote(name, float(p))
                        t.last_embedded = index
            now = time.perf_counter()
            recent.append(now)
            recent = recent[-30:]
            fps = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 1 else None
            if writer is not None or window:
                draw(frame, tracker.visible(index, detect_every), fps)
            if writer is not None:
                writer.write(frame)
            if window:
                cv2.imshow(window, frame)
                if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                    break
            n += 1
            if max_frames and n >= max_frames:
                break
    finally:
        seconds = time.perf_counter() - t0
        for t in tracker.tracks:
            events.write(t, src.fps)
        events.close()
        if writer is not None:
            writer.release()
        src.close()
        if window:
            cv2.destroyAllWindows()
    return RunStats(n, seconds, events.events, src.dropped)
