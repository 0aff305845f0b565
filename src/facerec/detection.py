"""MTCNN face detection in TensorFlow: P-Net, R-Net, O-Net with the `mtcnn` package's weights.

The three networks and their weights are those the ``mtcnn`` package installs (read from its
package files, no download).  What makes this fast is the pipeline around them: each network is
built once in tf.keras and compiled to a TensorFlow Lite graph (cached on disk), run through an
interpreter kept per input shape, so a call costs ~40 us of overhead instead of the ~700 us of
an eager or tf.function call (MTCNN makes ~10 small calls per image, so overhead dominates).
The graphs themselves are the package's layers rearranged for the CPU (see _build_nets).
Images of the same size go through the pyramid as one batch, a helper thread takes half of the
P-Net work on a second core, R-Net/O-Net crops are cut for all boxes at once, and NMS compares
only the pairs that can suppress each other.
"""
from __future__ import annotations

import collections
import hashlib
import importlib.util
import os
import threading
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import FacerecError
from .paths import atomic_write_bytes, cache_dir

LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


@dataclass
class Detections:
    """Faces found in one image: boxes (N, 4) x1,y1,x2,y2; scores (N,); landmarks (N, 5, 2) x,y."""

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)

    @classmethod
    def empty(cls) -> "Detections":
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), np.zeros((0, 5, 2), np.float32))

    def largest(self) -> int | None:
        """Index of the face with the largest box area, or None when there is none."""
        if not len(self):
            return None
        wh = self.boxes[:, 2:] - self.boxes[:, :2]
        return int(np.argmax(wh[:, 0] * wh[:, 1]))

    def scaled(self, factor: float) -> "Detections":
        return Detections(self.boxes * factor, self.scores, self.landmarks * factor)


def _weights_path(name: str) -> str:
    spec = importlib.util.find_spec("mtcnn")
    if spec is None or not spec.submodule_search_locations:
        raise FacerecError("face detection needs the mtcnn package: pip install mtcnn")
    path = os.path.join(spec.submodule_search_locations[0], "assets", "weights", f"{name}.lz4")
    if not os.path.exists(path):
        raise FacerecError(f"{path}: MTCNN weights missing from the mtcnn package; reinstall it")
    return path


def _weights(name: str) -> list:
    import joblib

    # joblib (pickle) is acceptable here only because this is the installed package's own file.
    return joblib.load(_weights_path(name))


def _pad_out(kernel, bias, alpha, to: int):
    """Zero output channels up to `to` for a conv and its PReLU: they stay 0 through the PReLU."""
    n = to - kernel.shape[-1]
    return (np.concatenate([kernel, np.zeros(kernel.shape[:-1] + (n,), kernel.dtype)], -1),
            np.concatenate([bias, np.zeros(n, bias.dtype)]),
            np.concatenate([alpha, np.zeros(alpha.shape[:-1] + (n,), alpha.dtype)], -1))


def _fold_normalisation(kernel, bias):
    """MTCNN's pixel normalisation, (x - 127.5) / 128, folded into the first convolution: exact
    for a 'valid' convolution, and R-/O-Net crops are filled with 127.5 outside the image, which
    the folded weights still map to 0."""
    return kernel / 128, bias - 127.5 / 128 * kernel.sum(axis=(0, 1, 2))


def _caffe_flatten_rows(h: int, w: int, c: int) -> np.ndarray:
    """Row order for a dense layer fed a plain (H, W, C) flatten instead of Caffe's (C, W, H) one
    (which needs a transpose in the graph): row of each (h, w, c) element in the weights' order."""
    return np.arange(h * w * c).reshape(w, h, c).transpose(1, 0, 2).reshape(-1)


def _heads(kernels, biases, classes):
    """One output layer for all heads: the regression heads as they are, and in place of the
    two-way softmax the logit difference z_face - z_not, whose sigmoid is the softmax's face
    probability (a 2-way softmax over a whole P-Net map costs more than the last convolution)."""
    k, b = classes
    return (np.concatenate(list(kernels) + [k[..., 1:2] - k[..., 0:1]], -1),
            np.concatenate(list(biases) + [b[1:2] - b[0:1]]))


def _build_nets():
    """P-Net, R-Net and O-Net as tf.keras models with the mtcnn package's weights, each with one
    output: [box regression (4), (O-Net: landmarks (10)), face logit (1)].

    The weights are rearranged, never changed in effect (outputs agree with the package's layout
    to ~1e-6): normalisation folded into the first convolution, the 10/28-channel first layers
    zero-padded to 16/32 channels through their PReLU and pooling (SIMD kernels run those ~1.5x
    faster) and sliced back before the next convolution (which would otherwise multiply the
    zeros), Caffe's flatten order moved into the dense weights, the softmax replaced by a logit."""
    import keras
    from keras import layers as L

    def prelu(x, shared=True):
        return L.PReLU(shared_axes=[1, 2] if shared else None)(x)

    w = _weights("pnet")
    x = inp = keras.Input((None, None, 3))
    x = L.MaxPooling2D(2, 2, padding="same")(prelu(L.Conv2D(16, 3)(x)))[..., :10]
    x = prelu(L.Conv2D(16, 3)(x))
    x = prelu(L.Conv2D(32, 3)(x))
    pnet = keras.Model(inp, L.Conv2D(5, 1)(x))
    k1, b1, a1 = _pad_out(*_fold_normalisation(w[0], w[1]), w[2], 16)
    pnet.set_weights([k1, b1, a1, w[3], *w[4:9], *_heads([w[9]], [w[10]], w[11:13])])

    w = _weights("rnet")
    x = inp = keras.Input((24, 24, 3))
    x = L.MaxPooling2D(3, 2, padding="same")(prelu(L.Conv2D(32, 3)(x)))[..., :28]
    x = L.MaxPooling2D(3, 2, padding="valid")(prelu(L.Conv2D(48, 3)(x)))
    x = prelu(L.Conv2D(64, 2)(x))
    x = prelu(L.Dense(128)(L.Flatten()(x)), shared=False)
    rnet = keras.Model(inp, L.Dense(5)(x))
    k1, b1, a1 = _pad_out(*_fold_normalisation(w[0], w[1]), w[2], 32)
    rnet.set_weights([k1, b1, a1, w[3], *w[4:9], w[9][_caffe_flatten_rows(3, 3, 64)],
                      w[10], w[11], *_heads([w[12]], [w[13]], w[14:16])])

    w = _weights("onet")
    x = inp = keras.Input((48, 48, 3))
    x = L.MaxPooling2D(3, 2, padding="same")(prelu(L.Conv2D(32, 3)(x)))
    x = L.MaxPooling2D(3, 2, padding="valid")(prelu(L.Conv2D(64, 3)(x)))
    x = L.MaxPooling2D(2, 2, padding="same")(prelu(L.Conv2D(64, 3)(x)))
    x = prelu(L.Conv2D(128, 2)(x))
    x = prelu(L.Dense(256)(L.Flatten()(x)), shared=False)
    onet = keras.Model(inp, L.Dense(15)(x))
    onet.set_weights([*_fold_normalisation(w[0], w[1]), *w[2:12], w[12][_caffe_flatten_rows(3, 3, 128)],
                      w[13], w[14], *_heads([w[15], w[17]], [w[16], w[18]], w[19:21])])
    return pnet, rnet, onet


def _logit(p: float) -> float:
    """The face-logit threshold equivalent to probability p."""
    if p <= 0:
        return -np.inf
    if p >= 1:
        return np.inf
    return float(np.log(p / (1 - p)))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return (1 / (1 + np.exp(-np.clip(z.astype(np.float64), -80, 80)))).astype(np.float32)


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, method: str = "union") -> np.ndarray:
    """Greedy non-maximum suppression; returns kept indices, best first. method 'union' or 'min'."""
    if len(boxes) == 0:
        return np.zeros((0,), np.int64)
    x1, y1, x2, y2 = boxes.T
    area = (x2 - x1) * (y2 - y1)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        if method == "min":
            overlap = inter / np.maximum(np.minimum(area[i], area[rest]), 1e-9)
        else:
            overlap = inter / np.maximum(area[i] + area[rest] - inter, 1e-9)
        order = rest[overlap <= threshold]
    return np.asarray(keep, np.int64)


def _square(boxes: np.ndarray) -> np.ndarray:
    """Grow each box to a square around its centre (MTCNN's rerec)."""
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    out[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    out[:, 2:4] = out[:, 0:2] + side[:, None]
    return out


def _regress(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    return boxes + offsets * np.stack([w, h, w, h], axis=1)


def nms_strict(boxes: np.ndarray, scores: np.ndarray, threshold: float, method: str = "union") -> np.ndarray:
    """Suppression as the mtcnn package does it: a box goes when any higher-scoring box overlaps it
    by more than threshold, whether or not that box was itself suppressed. Kept indices, best first.

    All pairs at once, in blocks of rows that stay in cache; only the pairs above the diagonal
    (higher score against lower) are formed, in place, and overlap > t is tested as
    intersection > t * denominator so there is no division (this runs ~10 times per image)."""
    n = len(boxes)
    if n == 0:
        return np.zeros((0,), np.int64)
    order = np.argsort(-scores, kind="stable")
    b = boxes[order]
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    area = (x2 - x1) * (y2 - y1)
    dropped = np.zeros(n, bool)
    step = 512
    for s0 in range(0, n - 1, step):
        e, c = min(n, s0 + step), slice(s0 + 1, n)  # rows s0..e-1 against every later column
        inter = np.minimum(x2[s0:e, None], x2[None, c])
        inter -= np.maximum(x1[s0:e, None], x1[None, c])
        h = np.minimum(y2[s0:e, None], y2[None, c])
        h -= np.maximum(y1[s0:e, None], y1[None, c])
        np.maximum(inter, 0, out=inter)
        np.maximum(h, 0, out=h)
        inter *= h
        if method == "min":
            denom = np.minimum(area[s0:e, None], area[None, c])
        else:
            denom = area[s0:e, None] + area[None, c]
            denom -= inter
        np.maximum(denom, 1e-9, out=denom)
        denom *= threshold
        over = inter > denom
        over &= np.arange(s0, e)[:, None] < np.arange(s0 + 1, n)[None]
        dropped[s0 + 1:] |= over.any(axis=0)
    return order[~dropped]


def _per_image_nms(img_idx, boxes, scores, threshold, method):
    if len(img_idx) == 0 or img_idx.min() == img_idx.max():  # one image: no grouping needed
        return nms_strict(boxes, scores, threshold, method)
    keep = []
    for i in np.unique(img_idx):
        sel = np.flatnonzero(img_idx == i)
        keep.append(sel[nms_strict(boxes[sel], scores[sel], threshold, method)])
    return np.concatenate(keep) if keep else np.zeros((0,), np.int64)


# Bump when the networks or their conversion change, so cached graphs are rebuilt.
_GRAPH_VERSION = 4


def _tflite_graphs() -> dict:
    """{'pnet','rnet','onet'}: TFLite flatbuffers of the three networks, built once and cached."""
    h = hashlib.sha256(str(_GRAPH_VERSION).encode())
    for name in ("pnet", "rnet", "onet"):
        with open(_weights_path(name), "rb") as f:
            h.update(f.read())
    paths = {n: cache_dir() / f"mtcnn-{n}-{h.hexdigest()[:16]}.tflite" for n in ("pnet", "rnet", "onet")}
    if all(p.is_file() and p.stat().st_size > 0 for p in paths.values()):
        return {n: p.read_bytes() for n, p in paths.items()}
    from .tfutil import import_tensorflow

    tf = import_tensorflow()
    out = {}
    for name, net in zip(("pnet", "rnet", "onet"), _build_nets()):
        conv = tf.lite.TFLiteConverter.from_keras_model(net)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[name] = conv.convert()
        try:
            atomic_write_bytes(paths[name], out[name])
        except OSError:
            pass  # an unwritable cache only costs the conversion next time
    return out


def _interpreter_class():
    try:  # the maintained TFLite runtime
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # TensorFlow's own copy, deprecated but present up to 2.21
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    return Interpreter


class _LiteNet:
    """One network behind TFLite interpreters.

    per_shape=True keeps an interpreter per input shape (P-Net: one per pyramid level of each
    image size, reused for every later image of that size).  per_shape=False keeps one
    interpreter and resizes it to each exact batch (R-Net, O-Net): shrinking within the arena
    already allocated is free, so no padding work is wasted on a rounded-up batch.
    """

    def __init__(self, model: bytes, threads: int, per_shape: bool = True):
        self.model, self.threads, self.per_shape = model, threads, per_shape
        self._cls = _interpreter_class()
        self._by_shape = {}
        self._single = None
        self._single_shape = None

    def _make(self, shape):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            interp = self._cls(model_content=self.model, num_threads=self.threads)
        inp = interp.get_input_details()[0]["index"]
        interp.resize_tensor_input(inp, list(shape), strict=False)
        interp.allocate_tensors()
        return interp, inp, interp.get_output_details()[0]["index"]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.per_shape:
            it = self._by_shape.get(x.shape)
            if it is None:
                if len(self._by_shape) > 64:  # many odd sizes (a folder of mixed photos): stay bounded
                    self._by_shape.clear()
                it = self._by_shape[x.shape] = self._make(x.shape)
        else:
            if self._single is None:
                self._single = self._make(x.shape)
            elif self._single_shape != x.shape:
                interp, inp, _ = self._single
                interp.resize_tensor_input(inp, list(x.shape), strict=False)
                interp.allocate_tensors()
            self._single_shape = x.shape
            it = self._single
        interp, inp, out = it
        interp.set_tensor(inp, np.ascontiguousarray(x, np.float32))
        interp.invoke()
        return interp.get_tensor(out)


def crop_resize(images: np.ndarray, boxes: np.ndarray, idx: np.ndarray, size: int) -> np.ndarray:
    """Bilinear crops (N, size, size, 3) of float images, sampled as tf.image.crop_and_resize does.

    boxes are x1, y1, x2, y2 in pixels, normalised by the image size the way the mtcnn package
    does; samples outside the image are mid grey, 127.5 (0 after MTCNN's normalisation, which
    is where crop_and_resize puts them in the package).  The sample grid of
    every box is built at once and cut with one cv2.remap per image, which costs less than
    either a NumPy gather or one warpAffine call per box.
    """
    import cv2

    n = len(boxes)
    _, h, w, _ = images.shape
    out = np.empty((n, size, size, 3), np.float32)
    t = np.arange(size, dtype=np.float32) / (size - 1)
    y1, x1 = boxes[:, 1] / h * (h - 1), boxes[:, 0] / w * (w - 1)
    y2, x2 = boxes[:, 3] / h * (h - 1), boxes[:, 2] / w * (w - 1)
    ys = (y1[:, None] + t[None] * (y2 - y1)[:, None]).astype(np.float32)  # (N, size)
    xs = (x1[:, None] + t[None] * (x2 - x1)[:, None]).astype(np.float32)
    for i in np.unique(idx):
        sel = np.flatnonzero(idx == i)
        k = len(sel)
        map_y = np.broadcast_to(ys[sel][:, :, None], (k, size, size)).reshape(k * size, size)
        map_x = np.broadcast_to(xs[sel][:, None, :], (k, size, size)).reshape(k * size, size)
        crops = cv2.remap(images[i], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=(127.5, 127.5, 127.5))
        out[sel] = crops.reshape(k, size, size, 3)
    return out


class MTCNN:
    """Detects faces with five landmarks. FaceNet's aligner defaults: 20 px, 0.6/0.7/0.7, 0.709.

    ``detect(image)`` for one uint8 RGB image, ``detect_batch(images)`` for many of any sizes.
    Images whose longer side exceeds ``max_side`` are detected on a downscaled copy and the
    results mapped back, so a 100-megapixel photo costs what a 1600 px one does.
    One object holds its own interpreters: use one per thread (align_dataset gives each worker
    process its own).
    """

    def __init__(self, min_face_size: int = 20, thresholds=(0.6, 0.7, 0.7), scale_factor: float = 0.709,
                 max_side: int | None = 1600, threads: int | None = None):
        self.min_face_size = min_face_size
        self.thresholds = tuple(thresholds)
        self.scale_factor = scale_factor
        self.max_side = max_side
        graphs = _tflite_graphs()
        threads = threads or os.cpu_count() or 1
        self._helper = None
        if threads >= 2:
            from concurrent.futures import ThreadPoolExecutor

            # one helper thread with its own single-threaded P-Net: see _detect_same_size
            self._helper = ThreadPoolExecutor(1, thread_name_prefix="mtcnn-pnet")
            self._helper_pnet = _LiteNet(graphs["pnet"], 1)
        self._pnet = _LiteNet(graphs["pnet"], 1 if self._helper else threads)
        self._rnet = _LiteNet(graphs["rnet"], threads, per_shape=False)
        self._onet = _LiteNet(graphs["onet"], threads, per_shape=False)

    def _run_boxes(self, net, images, boxes, idx, size):
        """Run R-Net or O-Net on the crops of the boxes."""
        return net(crop_resize(images, boxes, idx, size))

    # --- public API ------------------------------------------------------------------------

    def detect(self, image: np.ndarray) -> Detections:
        """Faces in one uint8 RGB image (H, W, 3)."""
        return self.detect_batch([image])[0]

    def detect_batch(self, images) -> list[Detections]:
        """Faces in each of a list of uint8 RGB images of any sizes (same-size ones run batched)."""
        images = [self._check(im) for im in images]
        results: list[Detections | None] = [None] * len(images)
        work, factors = [], []
        for im in images:
            f = 1.0
            if self.max_side and max(im.shape[:2]) > self.max_side:
                import cv2

                f = self.max_side / max(im.shape[:2])
                im = cv2.resize(im, (max(1, round(im.shape[1] * f)), max(1, round(im.shape[0] * f))),
                                interpolation=cv2.INTER_AREA)
            work.append(im)
            factors.append(f)
        groups: dict = {}
        for i, im in enumerate(work):
            groups.setdefault(im.shape, []).append(i)
        for shape, idx in groups.items():
            batch = np.stack([work[i] for i in idx])
            for i, det in zip(idx, self._detect_same_size(batch)):
                results[i] = det.scaled(1.0 / factors[i]) if factors[i] != 1.0 else det
        return results

    # --- the three stages -------------------------------------------------------------------

    @staticmethod
    def _check(im) -> np.ndarray:
        im = np.asarray(im)
        if im.ndim != 3 or im.shape[2] != 3 or im.dtype != np.uint8:
            raise FacerecError(f"detection takes uint8 RGB images (H, W, 3), got {im.dtype} {im.shape}")
        return im

    def _scales(self, h: int, w: int) -> list[float]:
        m = 12.0 / self.min_face_size
        side = min(h, w) * m
        scales = []
        while side >= 12:
            scales.append(m * self.scale_factor ** len(scales))
            side *= self.scale_factor
        return scales

    def _detect_same_size(self, raw: np.ndarray) -> list[Detections]:
        """Faces in each image of a uint8 batch (N, H, W, 3)."""
        import cv2

        n, h, w, _ = raw.shape
        batch = raw.astype(np.float32)
        t2, t3 = self.thresholds[1:]
        z1 = _logit(self.thresholds[0])
        scales = self._scales(h, w)
        if not scales:
            return [Detections.empty() for _ in range(n)]
        # Truncated like the mtcnn package (tf.image.resize of a float shape), not ceil'd as in
        # FaceNet: boxes are mapped back with the nominal scale, so matching sizes matters for
        # agreeing with it.
        sizes = [(int(h * sc), int(w * sc)) for sc in scales]

        def resized(src, k):
            return np.stack([cv2.resize(b, sizes[k][::-1], interpolation=cv2.INTER_AREA) for b in src])

        def candidates(k: int, out: np.ndarray):
            """Boxes, scores and image indices of level k's P-Net map, after the level's NMS."""
            img, yy, xx = np.nonzero(out[..., 4] > z1)
            if not len(img):
                return None
            score = _sigmoid(out[img, yy, xx, 4])
            sc = scales[k]
            # Each P-Net cell sees a 12x12 window at stride 2 of the scaled image.
            x1, y1 = (2 * xx + 1) / sc, (2 * yy + 1) / sc
            x2, y2 = (2 * xx + 12) / sc, (2 * yy + 12) / sc
            boxes = np.stack([x1, y1, x2, y2], axis=1)
            off = out[img, yy, xx, :4]
            boxes = boxes + off * np.stack([x2 - x1, y2 - y1, x2 - x1, y2 - y1], axis=1)
            keep = _per_image_nms(img, boxes, score, 0.5, "union")
            return boxes[keep], score[keep], img[keep]

        # Levels 0 and 1 are cut from the photo, as the mtcnn package cuts every level.  Area
        # resizing costs in proportion to its source, so the smaller levels are cut from level
        # 0 instead (measured: the same agreement with the package on LFW photos).
        small = list(range(2, len(scales)))
        if self._helper is None or len(scales) < 2:
            first = resized(batch, 0)
            results = [candidates(k, self._pnet(first if k == 0 else resized(first if k > 1 else batch, k)))
                       for k in range(len(scales))]
        else:
            # Two cores.  The helper thread cuts level 0 and runs P-Net on it (about half of
            # the work), then takes the remaining levels largest first while this thread takes
            # them smallest first (it also has every level's NumPy to do); they meet in the
            # middle.  The helper only resizes and runs P-Net, long calls that release the GIL:
            # two threads both running Python hand the GIL back and forth every few hundred
            # microseconds and stall each other (the waiting one sleeps, and waking a sleeping
            # core is slow on a virtual machine).
            first_box, first_ready, helper_outs = [], threading.Event(), {}
            todo = collections.deque(small)  # pops from either end are atomic

            def take(pop):
                try:
                    return pop()
                except IndexError:
                    return None

            def helper():
                try:
                    first_box.append(resized(batch, 0))
                finally:  # on failure the error surfaces from job.result(); nobody waits forever
                    first_ready.set()
                helper_outs[0] = self._helper_pnet(first_box[0])
                while (k := take(todo.popleft)) is not None:
                    helper_outs[k] = self._helper_pnet(resized(first_box[0], k))

            job = self._helper.submit(helper)
            results = [None] * len(scales)
            results[1] = candidates(1, self._pnet(resized(batch, 1)))
            first_ready.wait()
            while first_box and (k := take(todo.pop)) is not None:
                results[k] = candidates(k, self._pnet(resized(first_box[0], k)))
            job.result()
            for k, out in helper_outs.items():
                results[k] = candidates(k, out)
        results = [r for r in results if r is not None]
        all_boxes = [r[0] for r in results]
        all_scores = [r[1] for r in results]
        all_img = [r[2] for r in results]
        if not all_boxes:
            return [Detections.empty() for _ in range(n)]
        boxes = np.concatenate(all_boxes).astype(np.float32)
        scores = np.concatenate(all_scores)
        img = np.concatenate(all_img).astype(np.int32)
        keep = _per_image_nms(img, boxes, scores, 0.7, "union")
        boxes, img = _square(boxes[keep]), img[keep]

        # R-Net refines and rejects.
        out = self._run_boxes(self._rnet, batch, boxes, img, 24)
        reg, prob = out[:, :4], _sigmoid(out[:, 4])
        ok = prob > t2
        boxes, scores, img = _regress(boxes[ok], reg[ok]), prob[ok], img[ok]
        keep = _per_image_nms(img, boxes, scores, 0.7, "union")
        boxes, img = _square(boxes[keep]).astype(np.float32), img[keep]
        if not len(boxes):
            return [Detections.empty() for _ in range(n)]

        # O-Net: final boxes, scores and the five landmarks.
        out = self._run_boxes(self._onet, batch, boxes, img, 48)
        reg, lm, prob = out[:, :4], out[:, 4:14], _sigmoid(out[:, 14])
        bw = boxes[:, 2] - boxes[:, 0] + 1
        bh = boxes[:, 3] - boxes[:, 1] + 1
        lx = bw[:, None] * lm[:, 0:5] + boxes[:, 0:1] - 1
        ly = bh[:, None] * lm[:, 5:10] + boxes[:, 1:2] - 1
        ok = prob > t3
        boxes, scores, img = _regress(boxes[ok], reg[ok]), prob[ok], img[ok]
        marks = np.stack([lx[ok], ly[ok]], axis=2)
        keep = _per_image_nms(img, boxes, scores, 0.7, "min")
        boxes, scores, img, marks = boxes[keep], scores[keep], img[keep], marks[keep]
        out = []
        for i in range(n):
            sel = img == i
            b = boxes[sel].copy()
            b[:, [0, 2]] = np.clip(b[:, [0, 2]], 0, w - 1)  # as the mtcnn package reports them
            b[:, [1, 3]] = np.clip(b[:, [1, 3]], 0, h - 1)
            out.append(Detections(b.astype(np.float32), scores[sel].astype(np.float32),
                                  marks[sel].astype(np.float32)))
        return out
