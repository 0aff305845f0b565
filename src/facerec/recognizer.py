"""Recognizer: the one object every front end builds.  A face pipeline (detector + embedder) and,
when names are wanted, an identifier (a gallery or a classifier): image -> named faces, files ->
named faces, frame -> named tracks; and the jobs the commands run on them (enrol, cluster,
verify, train, embed)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import FacerecError


@dataclass
class RecognizedFace:
    """One face and who it is: name is a person's name or "Unknown"; probability is the chance
    that answer is right; distance is to the nearest enrolled face."""

    box: np.ndarray
    landmarks: np.ndarray
    name: str
    probability: float
    distance: float
    embedding: np.ndarray = field(repr=False, default=None)
    masked: bool = False  # seen wearing a mask (compared with the enrolled faces rendered masked)
    soft: bool = False  # too blurred to enrol (weighed with the model's soft-face statistics)


@dataclass
class FileResult:
    """The recognised faces of one image file, or why it could not be read."""

    path: str
    faces: list
    error: str | None = None


class Recognizer:
    """Names the faces of images and video frames with a gallery or a classifier.

    >>> rec = Recognizer.load("people.npz")                 # doctest: +SKIP
    >>> [(f.name, f.probability) for f in rec.recognize(load_image("party.jpg"))]   # doctest: +SKIP
    [('Alice', 0.93), ('Unknown', 0.41)]
    >>> Recognizer.for_model("default").verify("a.jpg", "b.jpg").same                # doctest: +SKIP
    True
    """

    def __init__(self, identifier=None, embedder=None, detector=None, source: str = "the classifier"):
        from .identity.loading import embedder_for
        from .pipeline import FacePipeline

        self.identifier = identifier
        self.pipeline = FacePipeline(embedder_for(identifier, embedder, source), detector)
        self._video = None

    @classmethod
    def load(cls, path, model=None, threshold: float | None = None) -> "Recognizer":
        """A Recognizer for a classifier or gallery file; model defaults to the one it was made with;
        threshold: name a face only when the chance the name is right is at least this (None: the
        file's own rule)."""
        from .identity.loading import embedder_for, load_identifier
        from .identity.protocol import check_threshold

        check_threshold(threshold)
        identifier = load_identifier(path)  # a bad file is refused before any model loads
        identifier.use_threshold(threshold)
        return cls(identifier, embedder_for(identifier, model, str(path)), source=str(path))

    @classmethod
    def for_gallery(cls, path, model=None, false_accept: float | None = None) -> "Recognizer":
        """A Recognizer whose identifier is the gallery file at path, or a new empty gallery for
        model when there is none yet (written by gallery.save); false_accept sets its target."""
        from .identity.gallery import Gallery
        from .identity.loading import embedder_for

        path = Path(path)
        gallery = Gallery.load(path) if path.exists() else None  # a bad file is refused before any model loads
        embedder = embedder_for(gallery, model, str(path))
        if gallery is None:
            gallery = Gallery.for_embedder(embedder, 0.01 if false_accept is None else false_accept)
        elif false_accept is not None:
            gallery.false_accept = false_accept
        return cls(gallery, embedder, source=str(path))

    @classmethod
    def for_model(cls, model="default") -> "Recognizer":
        """A Recognizer with no one to name yet: verify, cluster, enrol, train, embed."""
        return cls(None, model if model is not None else "default")

    @property
    def embedder(self):
        return self.pipeline.embedder

    @property
    def detector(self):
        return self.pipeline.detector

    # --- naming -------------------------------------------------------------------------------

    def identify(self, vectors, masked=None, soft=None):
        """Identities (names, probabilities, distances) of embeddings, from the identifier;
        masked (N,): the faces seen masked (bools), or the mask check's chances (a gallery weighs
        a face it is unsure of both ways); soft (N,) bool: those too blurred to enrol."""
        if self.identifier is None:
            raise FacerecError("this Recognizer has no gallery or classifier to name faces with")
        return self.identifier.identify(vectors, masked, soft)

    def _named(self, boxes, landmarks, vectors, masked_chances, sharpness) -> list[RecognizedFace]:
        from .detection.mask_check import MASKED
        from .identity.odds import soft_faces

        masked, soft = np.asarray(masked_chances) >= MASKED, soft_faces(self.embedder.name, sharpness)
        # The chances, not the cut: a gallery weighs a face the mask check is unsure of both ways.
        names, probs, dists = self.identify(vectors, np.asarray(masked_chances, np.float64), soft)
        return [RecognizedFace(boxes[i], landmarks[i], names[i], float(probs[i]), float(dists[i]), vectors[i],
                               bool(masked[i]), bool(soft[i])) for i in range(len(names))]

    def recognize(self, image) -> list[RecognizedFace]:
        """Every face in an image (uint8 RGB array, or a path), named."""
        from .loaded import as_image

        faces = self.pipeline.faces(as_image(image))
        return self._named(faces.boxes, faces.landmarks, faces.embeddings, faces.masked,
                           faces.sharpness) if len(faces) else []

    def faces_of_files(self, paths, mirrored: bool = False, cache: bool = True, batch_size: int = 64,
                       progress: bool = True):
        """FileFaces of each image file (pipeline.FacePipeline.files), embeddings cached by content."""
        return self.pipeline.files([str(p) for p in paths], mirrored, progress, cache=cache, batch_size=batch_size)

    def recognize_files(self, paths, subject_only: bool = False, cache: bool = True, batch_size: int = 64,
                        progress: bool = True) -> list[FileResult]:
        """Every face (or with subject_only, the one face a labelled photo shows) of each image
        file, named; crops from align_dataset.py are aligned from their sidecars."""
        from .pipeline import FaceChoice

        rule = FaceChoice.SUBJECT if subject_only else FaceChoice.EVERY
        results = []
        for ff in self.faces_of_files(paths, cache=cache, batch_size=batch_size, progress=progress):
            if ff.error:
                results.append(FileResult(ff.path, [], ff.error))
                continue
            picks = ff.choose(rule)
            results.append(FileResult(ff.path, self._named(ff.boxes[picks], ff.landmarks[picks], ff.embeddings[picks],
                                                           ff.masked[picks], ff.sharpness[picks]) if picks else []))
        return results

    # --- the commands' jobs ---------------------------------------------------------------------

    def verify(self, a, b, threshold: float | None = None, max_distance: float | None = None):
        """api.verify with this Recognizer's models: are two photos of the same person?"""
        from .verification import verify_with

        return verify_with(self.pipeline, a, b, threshold, max_distance)

    def compare(self, images):
        """FaceNet's compare.py: distances (N, N) between the main faces of N photos
        (verification.distance_matrix), and each photo's faces or why it has none."""
        from .verification import distance_matrix

        return distance_matrix(self.pipeline, images)

    def enrol(self, gallery, people, progress: bool = True, replace: bool = False) -> list[str]:
        """Add each (name, photo paths) to gallery, or with replace make them all each person has
        (enrolment.enrol_people); notes."""
        from .identity.enrolment import enrol_people

        return enrol_people(gallery, self.pipeline, people, progress=progress, replace=replace)

    def cluster(self, photos, gallery=None, pair_rate: float | None = None, cache: bool = True,
                batch_size: int = 64, progress: bool = True) -> list[dict]:
        """Faces of photos grouped by person (collections.cluster_rows); a gallery's people left out."""
        files = self.faces_of_files(photos, cache=cache, batch_size=batch_size, progress=progress)
        return self.cluster_files(files, gallery, pair_rate)

    def cluster_files(self, files, gallery=None, pair_rate: float | None = None) -> list[dict]:
        """cluster() for faces embedded earlier with this model (FileFaces: a faces file's)."""
        from .collections.cluster_rows import cluster_files

        return cluster_files(files, self.embedder.name, gallery, pair_rate)

    def training_set(self, people, mirror: bool = True, cache: bool = True, batch_size: int = 64,
                     progress: bool = True):
        """One embedding per photo of (name, photo paths), mirrored too (identity.training.embed_people).
        No masked renderings: with them, classifier.py TRAIN's classifiers named 0.961 of the LFW
        split's known faces where they name 0.973 (test_lfw_split; likely the bare faces the mask
        check calls masked, which meet the masked side's higher floor), so their masked faces are
        compared bare until that is settled."""
        from .identity.training import embed_people

        return embed_people(self.pipeline, people, mirror=mirror, cache=cache, batch_size=batch_size,
                            progress=progress)

    def train(self, people, **options):
        """A FaceClassifier trained on (name, photo paths) (identity.training.train_classifier)."""
        from .identity.training import train_classifier

        return train_classifier(people, model=self.embedder, pipeline=self.pipeline, **options)

    def embed(self, photos, output, **options):
        """Every face of photos into a Parquet file (batch.embed_photos), with this model."""
        from .batch.embed_photos import embed_photos

        return embed_photos(photos, output, model=self.embedder, **options)

    # --- video ------------------------------------------------------------------------------

    def video(self, detect_every: int = 2, embed_every: int = 5, min_face_size: int = 40):
        """Start following a new video: a FaceTracker that ``track`` then feeds."""
        from .video.tracking import FaceTracker

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
