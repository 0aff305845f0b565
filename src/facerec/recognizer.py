"""Recognizer: a detector, an embedder and a classifier composed; image -> named faces, frame -> named tracks."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import FacerecError


@dataclass
class RecognizedFace:
    """One face and who it is: name is a person's name or "Unknown"; probability is the
    classifier's for the name it picked; distance is to the nearest enrolled face."""

    box: np.ndarray
    landmarks: np.ndarray
    name: str
    probability: float
    distance: float
    embedding: np.ndarray = field(repr=False, default=None)


@dataclass
class FileResult:
    """The recognised faces of one image file, or why it could not be read."""

    path: str
    faces: list
    error: str | None = None


def load_recognition_file(path):
    """A gallery (facerec enrol) or a classifier (classifier.py TRAIN) from its file: both answer
    identify(embeddings) with names, confidences and distances."""
    from .classifier import FaceClassifier
    from .gallery import Gallery, is_gallery_file

    if not Path(path).exists():  # before it is taken for either kind
        raise FacerecError(f"{path}: file not found (a gallery from facerec enrol, or a classifier "
                           f"from classifier.py TRAIN)")
    return Gallery.load(path) if is_gallery_file(path) else FaceClassifier.load(path)


class Recognizer:
    """Names the faces of images and video frames with a trained classifier.

    >>> rec = Recognizer.load("people.npz")                 # doctest: +SKIP
    >>> [(f.name, f.probability) for f in rec.recognize(load_image("party.jpg"))]   # doctest: +SKIP
    [('Alice', 0.93), ('Unknown', 0.41)]
    """

    def __init__(self, classifier, embedder=None, detector=None, source: str = "the classifier"):
        from .embedding import load_embedder

        self.classifier = classifier
        self.embedder = embedder if embedder is not None else load_embedder(classifier.model_spec)
        classifier.check_model(self.embedder, source)
        self._detector = detector
        self._encoder = None
        self._video = None

    @classmethod
    def load(cls, path, model=None) -> "Recognizer":
        """A Recognizer for a classifier or gallery file; model defaults to the one it was made with."""
        from .embedding import load_embedder

        clf = load_recognition_file(path)  # a bad file is refused before any model loads
        return cls(clf, load_embedder(model or clf.model_spec), source=str(path))

    @property
    def detector(self):
        if self._detector is None:
            from .detection import MTCNN

            self._detector = MTCNN()
        return self._detector

    def _named(self, boxes, landmarks, vectors) -> list[RecognizedFace]:
        names, probs, dists = self.classifier.identify(vectors)
        return [RecognizedFace(boxes[i], landmarks[i], names[i], float(probs[i]), float(dists[i]), vectors[i])
                for i in range(len(names))]

    def recognize(self, image) -> list[RecognizedFace]:
        """Every face in an image (uint8 RGB array, or a path), named."""
        from .alignment import align_for
        from .api import _image

        image = _image(image)  # a path, or anything NumPy takes for an array (a PIL image)
        det = self.detector.detect(image)
        if not len(det):
            return []
        chips = np.stack([align_for(self.embedder.alignment, image, det.boxes[i], det.landmarks[i])
                          for i in range(len(det))])
        return self._named(det.boxes, det.landmarks, self.embedder.embed(chips))

    def recognize_files(self, paths, subject_only: bool = False, cache: bool = True, batch_size: int = 64,
                        progress: bool = True) -> list[FileResult]:
        """Every face (or with subject_only, the one face a labelled photo shows) of each image
        file, named; crops from align_dataset.py are aligned from their sidecars; embeddings are
        cached by file content."""
        from .encoder import FaceEncoder

        if self._encoder is None or (self._encoder.cache is not None) != cache:
            self._encoder = FaceEncoder(self.embedder, detector=self.detector, cache=cache)
        self._encoder.batch_size = batch_size
        results = []
        for ff in self._encoder.encode([str(p) for p in paths], progress=progress):
            if ff.error:
                results.append(FileResult(ff.path, [], ff.error))
                continue
            picks = [ff.subject()] if subject_only and len(ff) else list(range(len(ff)))
            results.append(FileResult(ff.path, self._named(ff.boxes[picks], ff.landmarks[picks],
                                                           ff.embeddings[picks]) if picks else []))
        return results

    def video(self, detect_every: int = 2, embed_every: int = 5, min_face_size: int = 40):
        """Start following a new video: a FaceTracker that ``track`` then feeds."""
        from .tracking import FaceTracker

        self._video = FaceTracker(self, detect_every, embed_every, min_face_size)
        return self._video

    def track(self, frame: np.ndarray, index: int | None = None) -> list:
        """The named tracks (``.id``, ``.box``, ``.name``, ``.probability``) in this uint8 RGB
        video frame; appearances that just ended are in ``rec.video_tracker.ended``."""
        if self._video is None:
            self.video()
        return self._video.step(frame, index)

    @property
    def video_tracker(self):
        """The FaceTracker that ``track`` feeds (None before the first frame)."""
        return self._video
