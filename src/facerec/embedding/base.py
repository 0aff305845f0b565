"""The embedder interface every face embedding network implements."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from ..errors import FacerecError
from . import standardization as _std


@dataclass(frozen=True)
class Alignment:
    """The face crop a network was trained on, so the alignment stage can cut the same one.

    kind "similarity": a 5-point similarity warp to a landmark template, ``size`` pixels square,
    with ``padding`` as a fraction of the template (dlib's chip: size 150, padding 0.25).
    kind "crop": FaceNet's detector box grown by ``margin`` pixels and resized to ``size``.
    """

    kind: str
    size: int
    padding: float = 0.0
    margin: int = 0


def _unit(d: np.ndarray) -> np.ndarray:
    return (d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)).astype(np.float32)


class Embedder:
    """Turns aligned uint8 RGB faces (N, H, W, 3) into L2-normalised float32 embeddings (N, D).

    Subclasses set ``name``, ``input_size`` (H, W), ``dim``, ``standardization`` (a name from
    ``facerec.embedding.standardization``) and ``alignment``, and implement ``_forward`` on a
    standardised float32 batch.
    """

    name: str = "embedder"
    input_size: tuple = (160, 160)
    dim: int = 128
    standardization: str = "prewhiten"
    alignment: Alignment = Alignment("crop", 160, margin=32)
    default_batch_size: int = 32
    # Distance between unit embeddings under which two faces are taken for the same person,
    # when the model has a measured one (used when a gallery is too small to calibrate its own).
    same_person_distance: float | None = None
    # Average each face's embedding with its mirror image's (twice the network time; on for a
    # model where it measures better: bench/default_model_accuracy.py).
    flip: bool = False
    # How the user named the model ('default' or a path): what a classifier records so the same
    # model can be loaded again to use it.
    spec: str = "default"

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _check_faces(self, faces) -> np.ndarray:
        faces = np.asarray(faces)
        if faces.ndim == 3:
            faces = faces[None]
        h, w = self.input_size
        if faces.ndim != 4 or faces.shape[-1] != 3:
            raise FacerecError(f"{self.name}: expected RGB faces shaped (N, {h}, {w}, 3), got {faces.shape}")
        if faces.shape[1:3] != (h, w):
            raise FacerecError(
                f"{self.name} takes {h}x{w} faces, got {faces.shape[1]}x{faces.shape[2]}: "
                f"align them with this model's alignment ({self.alignment.kind}, {self.alignment.size} px)")
        return faces

    def descriptors(self, faces, batch_size: int | None = None) -> np.ndarray:
        """Raw network outputs (N, D) float32 for uint8 RGB faces, before L2 normalisation."""
        faces = self._check_faces(faces)
        batch_size = batch_size or self.default_batch_size
        if len(faces) == 0:
            return np.zeros((0, self.dim), np.float32)
        out = []
        for start in range(0, len(faces), batch_size):
            chunk = _std.standardize(faces[start:start + batch_size], self.standardization, self)
            out.append(np.asarray(self._forward(chunk), dtype=np.float32))
        return np.concatenate(out, axis=0)

    def embed(self, faces, batch_size: int | None = None, flip: bool | None = None) -> np.ndarray:
        """L2-normalised embeddings (N, D) float32 for uint8 RGB faces (N, H, W, 3); with flip
        (default: the model's ``flip``) each is the mean of the face's and its mirror image's."""
        e = _unit(self.descriptors(faces, batch_size))
        if self.flip if flip is None else flip:
            e = _unit(e + _unit(self.descriptors(self._check_faces(faces)[:, :, ::-1], batch_size)))
        return e

    def _weights_identity(self) -> list[str]:
        """Strings that change when the weights do (file names, sizes, times)."""
        return []

    @property
    def key(self) -> str:
        """This model's identity: the embedding cache and classifier files are keyed by it, so
        embeddings of one model are never mixed with another's."""
        parts = [type(self).__name__, self.name, self.standardization, repr(self.alignment)]
        parts += ["flip"] if self.flip else []
        return hashlib.sha1("|".join(parts + self._weights_identity()).encode()).hexdigest()[:20]

    def __repr__(self) -> str:
        h, w = self.input_size
        return f"<{type(self).__name__} {self.name}: {h}x{w} -> {self.dim}-d, {self.standardization}>"
