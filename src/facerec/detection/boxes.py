"""Box arithmetic for MTCNN: scores, non-maximum suppression, squaring, regression, crops."""
from __future__ import annotations

import numpy as np


def logit(p: float) -> float:
    """The face-logit threshold equivalent to probability p."""
    if p <= 0:
        return -np.inf
    if p >= 1:
        return np.inf
    return float(np.log(p / (1 - p)))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return (1 / (1 + np.exp(-np.clip(z.astype(np.float64), -80, 80)))).astype(np.float32)

def square(boxes: np.ndarray) -> np.ndarray:
    """Grow each box to a square around its centre (MTCNN's rerec)."""
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    out[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    out[:, 2:4] = out[:, 0:2] + side[:, None]
    return out


def regress(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    return boxes + offsets * np.stack([w, h, w, h], axis=1)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of each box in a (N, 4) with each in b (M, 4): (N, M)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x1 = np.maximum(a[:, None, 0], b[None, :, 0]); y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2]); y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda z: (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])
    return inter / np.maximum(area(a)[:, None] + area(b)[None] - inter, 1e-9)


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


def per_image_nms(img_idx, boxes, scores, threshold, method):
    if len(img_idx) == 0 or img_idx.min() == img_idx.max():  # one image: no grouping needed
        return nms_strict(boxes, scores, threshold, method)
    keep = []
    for i in np.unique(img_idx):
        sel = np.flatnonzero(img_idx == i)
        keep.append(sel[nms_strict(boxes[sel], scores[sel], threshold, method)])
    return np.concatenate(keep) if keep else np.zeros((0,), np.int64)


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

