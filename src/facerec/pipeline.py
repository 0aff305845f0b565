"""The one face pipeline: image -> faces (detect) -> chips (align) -> embeddings (embed), and which
face of a photo to take.

``FacePipeline`` holds a detector and an embedder, and is the one place that goes from an image
to embeddings: the public API, the Recognizer (photos, files, video frames; the service's
requests and cameras), training, enrolment, validation and the batch job embed through it.
Photo files go through ``files``: a crop written by align_dataset is aligned from its landmark
sidecar instead of being searched again, and results are cached by file content and model.

Which face a photo stands for is one parameter, ``FaceChoice``:
- EVERY: every face (collections, video, identify);
- SUBJECT: the photo's subject, FaceNet's rule (training, verification, labelled CLASSIFY);
- CLOSEST: the face closest to the person's other photos, else the subject (enrolment);
- DOMINANT: the only face, or one at least twice the area of any other, else none (a names file
  that does not say which face).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from .alignment import align_for


class FaceChoice(str, enum.Enum):
    EVERY = "every"
    SUBJECT = "subject"
    CLOSEST = "closest"
    DOMINANT = "dominant"


@dataclass
class FileFaces:
    """The faces of one image: boxes (K, 4), landmarks (K, 5, 2), embeddings (K, D)."""

    path: str
    boxes: np.ndarray
    landmarks: np.ndarray
    embeddings: np.ndarray
    flipped: np.ndarray | None = None  # the mirror images' embeddings, when asked for
    error: str | None = None
    image_size: tuple = (0, 0)  # (height, width) of the image the boxes are in
    scores: np.ndarray | None = None  # the detector's confidence per face, where it ran this time
    masked: np.ndarray | None = None  # the chance each face is masked (detection.mask_check)
    masked_embeddings: np.ndarray | None = None  # the faces rendered masked, when asked for (enrolment)
    sharpness: np.ndarray | None = None  # each face's chip sharpness (detection.quality; NaN: not measured)

    def __post_init__(self):
        if self.masked is None:  # faces read back from where it was not kept (a faces file): bare
            self.masked = np.zeros(len(self.embeddings), np.float32)
        if self.sharpness is None:  # nor sharpness: taken as sharp
            self.sharpness = np.full(len(self.embeddings), np.nan, np.float32)

    def __len__(self):
        return len(self.embeddings)

    @classmethod
    def failed(cls, path: str, dim: int, error: str) -> "FileFaces":
        """An image that could not be read (error says why): no faces."""
        return cls(path, np.zeros((0, 4), np.float32), np.zeros((0, 5, 2), np.float32),
                   np.zeros((0, dim), np.float32), error=error)

    def choose(self, rule: FaceChoice = FaceChoice.EVERY, reference: np.ndarray | None = None) -> list[int]:
        """Indices of the faces this image stands for under rule (see FaceChoice)."""
        return choose_faces(self.boxes, self.image_size, rule, self.embeddings, reference)

    def subject(self) -> int | None:
        """Index of the face this image is taken to show when it is a photo of one person."""
        picked = self.choose(FaceChoice.SUBJECT)
        return picked[0] if picked else None


def choose_faces(boxes, image_shape, rule: FaceChoice = FaceChoice.EVERY, embeddings=None,
                 reference: np.ndarray | None = None) -> list[int]:
    """Indices of the faces (boxes (K, 4) in an image of image_shape) a photo stands for under
    rule; CLOSEST compares embeddings (K, D) with reference (D,) (see FaceChoice)."""
    boxes = np.asarray(boxes).reshape(-1, 4)
    if not len(boxes):
        return []
    rule = FaceChoice(rule)
    if rule is FaceChoice.EVERY:
        return list(range(len(boxes)))
    if rule is FaceChoice.DOMINANT:
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        order = np.argsort(-area)
        return [int(order[0])] if len(boxes) == 1 or area[order[0]] >= 2 * area[order[1]] else []
    if rule is FaceChoice.CLOSEST and len(boxes) == 1:
        return [0]
    if rule is FaceChoice.CLOSEST and reference is not None:
        return [int(np.argmin(np.linalg.norm(embeddings - reference, axis=1)))]
    return [subject_face(boxes, image_shape)]


def subject_face(boxes: np.ndarray, image_shape) -> int | None:
    """The face a photo of one person is taken to show, or None when there is none.

    FaceNet's rule (align_dataset_mtcnn.py): box area minus twice its squared offset from the
    image centre, so a large face near the middle wins over a larger one at the edge.  Portraits
    (LFW's among them) centre their subject and often hold a bigger face behind, so this beats
    the largest face (bench/default_model_accuracy.py measures it)."""
    boxes = np.asarray(boxes).reshape(-1, 4)
    if not len(boxes):
        return None
    h, w = image_shape[:2]
    size = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    offsets = (boxes[:, :2] + boxes[:, 2:4]) / 2 - np.array([w / 2, h / 2])
    return int(np.argmax(size - (offsets ** 2).sum(axis=1) * 2.0))


class FacePipeline:
    """A detector and an embedder: the faces of images and image files, embedded.

    >>> pipeline = FacePipeline(load_embedder("default"))          # doctest: +SKIP
    >>> pipeline.faces(load_image("party.jpg")).embeddings.shape    # doctest: +SKIP
    (3, 128)
    """

    def __init__(self, embedder, detector=None, cache: bool = True, batch_size: int = 64):
        self.embedder = embedder
        self._detector = detector
        self.batch_size = batch_size
        self.cache = None
        if cache:
            from .embedding.cache import EmbeddingCache

            self.cache = EmbeddingCache(embedder.key)

    @property
    def detector(self):
        if self._detector is None:
            from .detection import MTCNN

            self._detector = MTCNN()
        return self._detector

    @classmethod
    def of(cls, models) -> "FacePipeline":
        """models itself when it is a FacePipeline, else a new one around that embedder."""
        return models if isinstance(models, cls) else cls(models)


    # --- one image ---------------------------------------------------------------------------

    def detect(self, image: np.ndarray):
        """MTCNN's Detections (boxes, landmarks, scores) of a uint8 RGB image."""
        return self.detector.detect(image)

    def chips(self, image: np.ndarray, boxes, landmarks) -> np.ndarray:
        """The aligned face chips the embedder takes, one per box (N, H, W, 3)."""
        h, w = self.embedder.input_size
        if not len(boxes):
            return np.zeros((0, h, w, 3), np.uint8)
        return np.stack([align_for(self.embedder.alignment, image, np.asarray(b), np.asarray(p))
                         for b, p in zip(boxes, landmarks)])

    def embed_faces(self, image: np.ndarray, boxes, landmarks, flip: bool | None = None) -> np.ndarray:
        """Unit embeddings (N, D) of the faces at these boxes and landmarks of an image."""
        chips = self.chips(image, boxes, landmarks)
        if not len(chips):
            return np.zeros((0, self.embedder.dim), np.float32)
        return self.embedder.embed(chips, flip=flip)

    def embed_and_measure(self, image: np.ndarray, boxes, landmarks) -> tuple[np.ndarray, np.ndarray]:
        """embed_faces, and each face's chip sharpness (N,) (detection.quality: a soft face is
        weighed with other statistics), from one alignment."""
        from .detection.quality import sharpnesses

        chips = self.chips(image, boxes, landmarks)
        return self._embed_chips(chips), sharpnesses(chips)

    def masked_chips(self, image: np.ndarray, boxes, landmarks) -> np.ndarray:
        """Each face's chip rendered in each of masks.RENDERINGS: (N * len(RENDERINGS), H, W, 3)."""
        from .masks import RENDERINGS, around_face, draw_mask

        h, w = self.embedder.input_size
        chips = []
        for box, marks in zip(boxes, landmarks):
            part, box, marks = around_face(image, box, marks)
            chips += [align_for(self.embedder.alignment, draw_mask(part, marks, style), box, marks)
                      for style in RENDERINGS]
        return np.stack(chips) if chips else np.zeros((0, h, w, 3), np.uint8)

    def masked_renderings(self, image: np.ndarray, boxes, landmarks) -> np.ndarray:
        """Unit embeddings (N, D) of the faces rendered masked: the mean over masks.RENDERINGS."""
        return _mean_per_face(self._embed_chips(self.masked_chips(image, boxes, landmarks)))

    def _embed_chips(self, chips: np.ndarray) -> np.ndarray:
        return self.embedder.embed(chips) if len(chips) else np.zeros((0, self.embedder.dim), np.float32)

    def faces(self, image: np.ndarray, path: str = "", masked_renderings: bool = False) -> FileFaces:
        """Every face of a uint8 RGB image: detected, aligned and embedded; whether each is masked;
        with masked_renderings, also the faces' embeddings rendered masked."""
        from .detection.mask_check import masked_chances

        det = self.detect(image)
        embeddings, sharpness = self.embed_and_measure(image, det.boxes, det.landmarks)
        return FileFaces(path, np.asarray(det.boxes, np.float32).reshape(-1, 4),
                         np.asarray(det.landmarks, np.float32).reshape(-1, 5, 2),
                         embeddings, image_size=tuple(image.shape[:2]),
                         scores=np.asarray(det.scores, np.float32), masked=masked_chances(image, det.landmarks),
                         masked_embeddings=self.masked_renderings(image, det.boxes, det.landmarks)
                         if masked_renderings else None, sharpness=sharpness)

    # --- image files -------------------------------------------------------------------------

    def files(self, paths, mirrored: bool = False, progress: bool = True, cache: bool = True,
              batch_size: int | None = None, masked_renderings: bool = False) -> list[FileFaces]:
        """FileFaces for each image file (error set when unreadable); mirrored adds the embeddings
        of the faces' mirror images (``flipped``), masked_renderings those of the faces rendered
        masked (``masked_embeddings``); cache=False neither reads nor writes the cache for this
        call; batch_size: faces per embedding call (default: the pipeline's)."""
        from .progress import progress as progress_bar

        store = (self.cache, self._variant()) if cache and self.cache else None  # the variant once a call
        batch_size = batch_size or self.batch_size
        out: list[FileFaces | None] = [None] * len(paths)
        pending = []  # _Located, waiting for one embedding call
        bar = progress_bar(len(paths), "Faces", enabled=progress)
        for i, path in enumerate(paths):
            bar.update()
            found = self._cached_or_located(str(path), mirrored, store, masked_renderings)
            if isinstance(found, FileFaces):
                out[i] = found
                continue
            pending.append((i, found))
            if sum(len(p.chips) for _, p in pending) >= batch_size:
                self._embed_pending(pending, out, mirrored, store)
                pending = []
        self._embed_pending(pending, out, mirrored, store)
        bar.close()
        return out

    def _variant(self) -> str:
        # v2 stores the image size (which face is a photo's subject needs it), v3 the chance each
        # face is masked (from the mask check's weights: refitted ones give other chances), v4 each
        # face's sharpness (a soft face is named under other statistics); a detector with other
        # settings finds other faces: each is kept apart.
        from .detection import MTCNN
        from .detection.mask_check import weights_id

        settings = self._detector.settings if self._detector is not None else MTCNN.describe()
        return f"faces-v4:{settings}:{weights_id()}"

    def _cached_or_located(self, path: str, mirrored: bool, store, masked_renderings: bool = False):
        """A FileFaces from the cache (store: the cache and this call's variant, or None), or for an
        unreadable file; else the file's located faces."""
        from .embedding.cache import faces_entry_ok
        from .files import file_digest
        from .images import UnreadableImage, load_image

        try:
            digest = file_digest(path)
        except OSError as exc:
            return FileFaces.failed(path, self.embedder.dim, f"cannot open: {exc.strerror or exc}")
        # An entry that is not whole (arrays missing, misshapen, NaN) is a miss: recomputed, overwritten.
        hit = store[0].get(digest, store[1], check=lambda a: faces_entry_ok(a, self.embedder.dim)) \
            if store else None
        if hit is not None and (not mirrored or "flipped" in hit) \
                and (not masked_renderings or "masked_embeddings" in hit):
            return FileFaces(path, hit["boxes"], hit["landmarks"], hit["embeddings"], hit.get("flipped"),
                             image_size=tuple(int(v) for v in hit["image_size"]), masked=hit["masked"],
                             masked_embeddings=hit.get("masked_embeddings"), sharpness=hit["sharpness"])
        try:
            image = load_image(path)
        except UnreadableImage as exc:
            return FileFaces.failed(path, self.embedder.dim, str(exc))
        located = self._locate(path, digest, image)
        if masked_renderings:
            located.mask_chips = self.masked_chips(image, located.boxes, located.landmarks)
        return located

    def _locate(self, path: str, digest: str, image: np.ndarray) -> "_Located":
        """The faces of one image file, from its align_dataset sidecar or by detection, as chips."""
        import cv2

        from .people_folders import read_sidecar

        from .detection.mask_check import masked_chances

        side = read_sidecar(path)
        size = image.shape[:2]
        if side is None:
            det = self.detect(image)
            return _Located(path, digest, det.boxes, det.landmarks, self.chips(image, det.boxes, det.landmarks),
                            size, np.asarray(det.scores, np.float32), masked_chances(image, det.landmarks))
        boxes = np.asarray([np.asarray(side["box"], np.float32).reshape(-1)])
        landmarks = np.asarray([side["landmarks"]], np.float32)
        scores = np.asarray([side.get("score", np.nan)], np.float32)
        masked = masked_chances(image, landmarks)
        if self.embedder.alignment.kind != "crop":
            return _Located(path, digest, boxes, landmarks, self.chips(image, boxes, landmarks), size, scores, masked)
        # FaceNet's classifier feeds align_dataset's crop itself, resized to the model.
        h, w = self.embedder.input_size
        chip = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if image.shape[0] > h else cv2.INTER_LINEAR)
        return _Located(path, digest, boxes, landmarks, chip[None], size, scores, masked)

    def _embed_pending(self, pending, out, mirrored: bool, store) -> None:
        """One embedding call for the chips of every pending file; each file's FileFaces into out."""
        from .detection.quality import sharpnesses

        if not pending:
            return
        dim = self.embedder.dim
        chips = np.concatenate([p.chips for _, p in pending])
        emb = self.embedder.embed(chips) if len(chips) else np.zeros((0, dim), np.float32)
        # A model that averages each face with its mirror gives the mirror image the same vector.
        emb_f = (emb if self.embedder.flip or not len(chips) else self.embedder.embed(chips[:, :, ::-1])) \
            if mirrored else None
        k = 0
        for i, p in pending:
            n = len(p.chips)
            ff = FileFaces(p.path, np.asarray(p.boxes, np.float32).reshape(-1, 4),
                           np.asarray(p.landmarks, np.float32).reshape(-1, 5, 2), emb[k:k + n],
                           emb_f[k:k + n] if mirrored else None, image_size=tuple(p.size), scores=p.scores,
                           masked=p.masked, masked_embeddings=None if p.mask_chips is None
                           else _mean_per_face(self._embed_chips(p.mask_chips)), sharpness=sharpnesses(p.chips))
            k += n
            out[i] = ff
            if store:
                _remember(*store, p.digest, ff)


def _remember(store, variant: str, digest: str, ff: FileFaces) -> None:
    """An image's faces into the embedding cache; float32 as faces_entry_ok wants, whatever an
    embedder returns, so the entry is used."""
    arrays = {"boxes": ff.boxes, "landmarks": ff.landmarks, "embeddings": np.asarray(ff.embeddings, np.float32),
              "image_size": np.asarray(ff.image_size, np.int64)}
    if ff.flipped is not None:
        arrays["flipped"] = np.asarray(ff.flipped, np.float32)
    if ff.masked_embeddings is not None:
        arrays["masked_embeddings"] = np.asarray(ff.masked_embeddings, np.float32)
    arrays["masked"] = np.asarray(ff.masked, np.float32)
    arrays["sharpness"] = np.asarray(ff.sharpness, np.float32)
    store.put(digest, variant, arrays)


def _mean_per_face(embeddings: np.ndarray) -> np.ndarray:
    """Consecutive groups of len(masks.RENDERINGS) embeddings averaged: one unit vector per face."""
    from .masks import RENDERINGS

    if not len(embeddings):
        return embeddings
    mean = embeddings.reshape(-1, len(RENDERINGS), embeddings.shape[1]).mean(axis=1)
    return (mean / np.linalg.norm(mean, axis=1, keepdims=True)).astype(np.float32)


@dataclass
class _Located:
    """One file's faces found and aligned, waiting for the embedding call."""

    path: str
    digest: str
    boxes: np.ndarray
    landmarks: np.ndarray
    chips: np.ndarray
    size: tuple
    scores: np.ndarray
    masked: np.ndarray
    mask_chips: np.ndarray | None = None  # the faces rendered masked, when asked for
