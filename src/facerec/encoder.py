"""Image files to face embeddings: crops from their sidecars, raw photos by detection, cached."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .alignment import align_for


@dataclass
class FileFaces:
    """The faces of one file: boxes (K, 4), landmarks (K, 5, 2), embeddings (K, D)."""

    path: str
    boxes: np.ndarray
    landmarks: np.ndarray
    embeddings: np.ndarray
    flipped: np.ndarray | None = None
    error: str | None = None
    image_size: tuple = (0, 0)  # (height, width) of the image the boxes are in
    scores: np.ndarray | None = None  # the detector's confidence per face, where it ran this time

    def __len__(self):
        return len(self.embeddings)

    def subject(self) -> int | None:
        """Index of the face this file is taken to show when it is a photo of one person."""
        from .subject import subject_face

        return subject_face(self.boxes, self.image_size)


class FaceEncoder:
    """Embeds the faces of image files with one embedder, detecting only where it must.

    A crop written by align_dataset (with its landmark sidecar) is aligned from the sidecar; any
    other image is searched with MTCNN. Results are cached by file content and model.
    """

    def __init__(self, embedder, detector=None, cache: bool = True, batch_size: int = 64):
        self.embedder = embedder
        self._detector = detector
        self.batch_size = batch_size
        self.cache = None
        if cache:
            from .embedding_cache import EmbeddingCache

            self.cache = EmbeddingCache(embedder.key)

    @property
    def detector(self):
        if self._detector is None:
            from .detection import MTCNN

            self._detector = MTCNN()
        return self._detector

    def _faces_of(self, path: str, image: np.ndarray):
        """(boxes, landmarks, chips, scores) for one image, from its sidecar or by detection."""
        import cv2

        from .datasets import read_sidecar

        side = read_sidecar(path)
        a = self.embedder.alignment
        if side is not None:
            boxes = np.asarray([np.asarray(side["box"], np.float32).reshape(-1)])
            landmarks = np.asarray([side["landmarks"]], np.float32)
            if a.kind == "crop":
                # FaceNet's classifier feeds align_dataset's crop itself, resized to the model.
                h, w = self.embedder.input_size
                chips = [cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if image.shape[0] > h
                                    else cv2.INTER_LINEAR)]
            else:
                chips = [align_for(a, image, boxes[0], landmarks[0])]
            return boxes, landmarks, chips, np.asarray([side.get("score", np.nan)], np.float32)
        det = self.detector.detect(image)
        chips = [align_for(a, image, det.boxes[i], det.landmarks[i]) for i in range(len(det))]
        return det.boxes, det.landmarks, chips, np.asarray(det.scores, np.float32)

    def encode(self, paths, mirrored: bool = False, progress: bool = True) -> list[FileFaces]:
        """FileFaces for each path (error set when unreadable); mirrored adds the embeddings of
        the faces' mirror images (``flipped``)."""
        from .embedding_cache import faces_entry_ok, file_digest
        from .images import UnreadableImage, load_image
        from .progress import progress as progress_bar

        # v2 stores the image size (which face is a photo's subject needs it); a detector with other
        # settings finds other faces, so its results are kept apart.
        from .detection import MTCNN

        variant = f"faces-v2:{self._detector.settings if self._detector is not None else MTCNN.describe()}"
        # An entry that is not whole (arrays missing, misshapen, NaN) is a miss: recomputed, overwritten.
        whole = lambda arrays: faces_entry_ok(arrays, self.embedder.dim)  # noqa: E731
        out: list[FileFaces | None] = [None] * len(paths)
        pending = []  # (index, path, digest, boxes, landmarks, chips, image size)
        bar = progress_bar(len(paths), "Faces", enabled=progress)
        for i, path in enumerate(paths):
            bar.update()
            path = str(path)
            try:
                digest = file_digest(path)
            except OSError as exc:
                out[i] = FileFaces(path, *_empty(self.embedder.dim), error=f"cannot open: {exc.strerror or exc}")
                continue
            hit = self.cache.get(digest, variant, check=whole) if self.cache else None
            if hit is not None and (not mirrored or "flipped" in hit):
                out[i] = FileFaces(path, hit["boxes"], hit["landmarks"], hit["embeddings"], hit.get("flipped"),
                                   image_size=tuple(int(v) for v in hit["image_size"]))
                continue
            try:
                image = load_image(path)
            except UnreadableImage as exc:
                out[i] = FileFaces(path, *_empty(self.embedder.dim), error=str(exc))
                continue
            boxes, landmarks, chips, scores = self._faces_of(path, image)
            pending.append((i, path, digest, boxes, landmarks, chips, image.shape[:2], scores))
            if sum(len(p[5]) for p in pending) >= self.batch_size:
                self._flush(pending, out, mirrored, variant)
                pending = []
        self._flush(pending, out, mirrored, variant)
        bar.close()
        return out

    def _flush(self, pending, out, mirrored, variant):
        if not pending:
            return
        chips = [c for p in pending for c in p[5]]
        dim = self.embedder.dim
        if chips:
            stack = np.stack(chips)
            emb = self.embedder.embed(stack)
            # A model that averages each face with its mirror gives the mirror image the same vector.
            emb_f = (emb if self.embedder.flip else self.embedder.embed(stack[:, :, ::-1])) if mirrored else None
        k = 0
        for i, path, digest, boxes, landmarks, c, size, scores in pending:
            n = len(c)
            e = emb[k:k + n] if n else np.zeros((0, dim), np.float32)
            ef = (emb_f[k:k + n] if n else np.zeros((0, dim), np.float32)) if mirrored else None
            k += n
            ff = FileFaces(path, np.asarray(boxes, np.float32).reshape(-1, 4),
                           np.asarray(landmarks, np.float32).reshape(-1, 5, 2), e, ef, image_size=tuple(size),
                           scores=scores)
            out[i] = ff
            if self.cache:
                # float32 as faces_entry_ok wants, whatever an embedder returns, so the entry is used.
                arrays = {"boxes": ff.boxes, "landmarks": ff.landmarks,
                          "embeddings": np.asarray(ff.embeddings, np.float32), "image_size": np.asarray(size, np.int64)}
                if ef is not None:
                    arrays["flipped"] = np.asarray(ef, np.float32)
                self.cache.put(digest, variant, arrays)


def _empty(dim):
    return np.zeros((0, 4), np.float32), np.zeros((0, 5, 2), np.float32), np.zeros((0, dim), np.float32)
