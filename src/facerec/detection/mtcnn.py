"""MTCNN, the detection pipeline: image pyramid -> P-Net -> R-Net -> O-Net, boxes and five landmarks.

The networks (networks.py) run as TFLite graphs (litert.py), so a call costs ~40 us of overhead
instead of the ~700 us of an eager or tf.function call (MTCNN makes ~10 small calls per image).
Images of the same size go through the pyramid as one batch, a helper thread takes half of the
P-Net work on a second core, R-Net/O-Net crops are cut for all boxes at once, and NMS compares
only the pairs that can suppress each other (boxes.py).
"""
from __future__ import annotations

import collections
import os
import threading
from dataclasses import dataclass

import numpy as np

from ..errors import FacerecError
from .boxes import crop_resize, iou, logit, per_image_nms, regress, sigmoid, square
from ..litert import LiteNet
from .networks import tflite_graphs

LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")
# R-Net's and O-Net's thresholds for the second look: a mask hides what they look for, so one
# masked face in ten scores under FaceNet's 0.7 / 0.7 (bench/masked_pairs.py).
SECOND_LOOK = (0.3, 0.1)


@dataclass
class Face:
    """One detected face: box (x1, y1, x2, y2) in pixels, detector score, landmarks (5, 2) x,y in
    LANDMARK_NAMES order."""

    box: np.ndarray
    score: float
    landmarks: np.ndarray

    def __repr__(self) -> str:
        return f"Face(box=({', '.join(f'{v:.1f}' for v in self.box)}), score={self.score:.3f})"


@dataclass
class Detections:
    """Faces found in one image: boxes (N, 4) x1,y1,x2,y2; scores (N,); landmarks (N, 5, 2) x,y.
    second_look (N,): found only at the second look's lower thresholds or from BlazeFace's boxes.
    blazeface (N,) or None: whether BlazeFace finds each face too (None: not asked)."""

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray
    second_look: np.ndarray | None = None
    blazeface: np.ndarray | None = None

    def __post_init__(self):
        if self.second_look is None:
            self.second_look = np.zeros(len(self.scores), bool)

    def __len__(self) -> int:
        return len(self.scores)

    @classmethod
    def empty(cls) -> "Detections":
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), np.zeros((0, 5, 2), np.float32))

    def faces(self) -> list[Face]:
        """One Face per detection."""
        return [Face(self.boxes[i], float(self.scores[i]), self.landmarks[i]) for i in range(len(self))]

    def subset(self, keep: np.ndarray) -> "Detections":
        """The detections where keep (N,) is true."""
        return Detections(self.boxes[keep], self.scores[keep], self.landmarks[keep], self.second_look[keep],
                          None if self.blazeface is None else self.blazeface[keep])

    def scaled(self, factor: float) -> "Detections":
        return Detections(self.boxes * factor, self.scores, self.landmarks * factor, self.second_look,
                          self.blazeface)



class _Strips:
    """P-Net over an image in horizontal strips, with the same output as over the whole image.

    A P-Net interpreter's arena grows with its input (about 90 MB for the first pyramid level of
    a 2-megapixel photo, and one interpreter is kept per shape), so tall inputs are cut into strips
    of ``rows`` rows that overlap by P-Net's 12-row window less its stride.  Strips start on even
    rows and have an even height, so every 2x2 pooling window falls where it does in the whole
    image and the stitched output is exactly the whole image's."""

    def __init__(self, net, rows: int = 160):
        self.net, self.rows = net, rows

    def __call__(self, x: np.ndarray) -> np.ndarray:
        h = x.shape[1]
        if h <= self.rows + 10:
            return self.net(x)
        step = self.rows - 10  # each strip's output: step / 2 rows, the next strip's start
        parts = []
        for top in range(0, h, step):
            out = self.net(x[:, top:top + self.rows])
            last = top + self.rows >= h
            parts.append(out if last else out[:, : step // 2])
            if last:
                break
        return np.concatenate(parts, axis=1)


class MTCNN:
    """Detects faces with five landmarks. FaceNet's aligner defaults: 20 px, 0.6/0.7/0.7, 0.709.

    ``detect(image)`` for one uint8 RGB image, ``detect_batch(images)`` for many of any sizes.
    Images whose longer side exceeds ``max_side`` are detected on a downscaled copy and the
    results mapped back, so a 100-megapixel photo costs what a 1600 px one does.  With
    ``check_faces`` (the default) a detection MTCNN is unsure of is kept only when dlib's CNN face
    detector or BlazeFace agrees it is a face, or it is plainly masked (face_check.py): hands, hair
    and fabric are not reported.  With it R-Net and O-Net also take a second look at SECOND_LOOK's
    lower thresholds, where masked faces score, on P-Net's boxes and on BlazeFace's (blazeface.py:
    the masked faces P-Net never proposes): what only that look finds is kept if BlazeFace finds
    it too, or it looks masked.
    One object holds its own interpreters: use one per thread (align_dataset gives each worker
    process its own).
    """

    def __init__(self, min_face_size: int = 20, thresholds=(0.6, 0.7, 0.7), scale_factor: float = 0.709,
                 max_side: int | None = 1600, threads: int | None = None, check_faces: bool = True):
        if not min_face_size >= 1:
            raise FacerecError(f"min_face_size {min_face_size} must be at least 1 pixel")
        self.min_face_size = min_face_size
        self.thresholds = tuple(thresholds)
        self.scale_factor = scale_factor
        self.max_side = max_side
        self.check_faces = check_faces
        graphs = tflite_graphs()
        threads = threads or os.cpu_count() or 1
        self._helper = self._helper_pnet = None
        if threads >= 2:
            from concurrent.futures import ThreadPoolExecutor

            # one helper thread with its own single-threaded P-Net: see _detect_same_size
            self._helper = ThreadPoolExecutor(1, thread_name_prefix="mtcnn-pnet")
            self._helper_pnet = _Strips(LiteNet(graphs["pnet"], 1))
        self._pnet = _Strips(LiteNet(graphs["pnet"], 1 if self._helper else threads))
        self._last_size = None
        self._rnet = LiteNet(graphs["rnet"], threads, per_shape=False)
        self._onet = LiteNet(graphs["onet"], threads, per_shape=False)

    # --- public API ------------------------------------------------------------------------

    @property
    def settings(self) -> str:
        """What decides which faces are found (cached results are keyed by it)."""
        return self.describe(self.min_face_size, self.thresholds, self.scale_factor, self.max_side, self.check_faces)

    @staticmethod
    def describe(min_face_size=20, thresholds=(0.6, 0.7, 0.7), scale_factor=0.709, max_side=1600,
                 check_faces=True) -> str:
        """The settings string of a detector made with these arguments (the defaults: FaceNet's)."""
        from .blazeface import FULL_RANGE, available
        from .face_check import VERSION

        witnesses = ("+blazeface" if available() else "") + ("+full-range" if available(FULL_RANGE) else "")
        checked = f"/{VERSION}{witnesses}" if check_faces else ""
        return f"{min_face_size}/{tuple(thresholds)}/{scale_factor}/{max_side}" + checked

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
        if self.check_faces:
            from .face_check import faces_only

            results = [faces_only(im, det) for im, det in zip(images, results)]
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
        """Faces in each image of a uint8 batch (N, H, W, 3): P-Net over the scales, R-Net, O-Net."""
        n, h, w, _ = raw.shape
        self._reuse_interpreters_for(h, w)
        batch = raw.astype(np.float32)
        scales = self._scales(h, w)
        found = self._proposals(batch, scales) if scales else None
        if found is not None:
            found = self._refined(batch, *found)
        looks = [self._final(batch, *found)] if found is not None else []
        blaze = self._blazeface(batch) if self.check_faces else None
        if blaze is not None:
            looks += self._proposed_look(batch, looks[0] if looks else None, blaze)
        if not looks:
            return [Detections.empty() for _ in range(n)]
        faces = _per_image(n, h, w, *_first_look_first(looks))
        if blaze is not None:
            from .blazeface import agreeing

            for det, (boxes, _, _) in zip(faces, blaze):
                det.blazeface = agreeing(det.boxes, boxes)
        return faces

    def _blazeface(self, batch: np.ndarray) -> list | None:
        """BlazeFace's (boxes, scores, landmarks) in each image, faces under min_face_size left out;
        None without its weights."""
        from .blazeface import BlazeFace

        net = BlazeFace.load()
        if net is None:
            return None
        found = []
        for image in batch:
            boxes, scores, marks = net.detect(image)
            big = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) >= self.min_face_size
            found.append((boxes[big], scores[big], marks[big]))
        return found

    def _proposed_look(self, batch: np.ndarray, first: tuple | None, blaze: list) -> list:
        """BlazeFace's faces (blazeface.py: masked faces P-Net never proposes) as second-look
        faces: each box through R-Net and O-Net at the second look's thresholds, and where they
        find nothing on it, BlazeFace's own box and landmarks.  A box on a face the first look
        found is left out: that face is kept, BlazeFace agreeing (face_check)."""
        boxes, scores, marks = (np.concatenate(part) for part in zip(*blaze))
        img = np.concatenate([np.full(len(f[0]), i, np.int32) for i, f in enumerate(blaze)])
        if first is not None:
            new = ~_on_one_of(boxes, img, first[0], first[2])
            boxes, scores, marks, img = boxes[new], scores[new], marks[new], img[new]
        if not len(img):
            return []
        looks = []
        refined = self._refined(batch, square(boxes).astype(np.float32), img)
        if refined is not None:
            r_boxes, r_scores, r_img, r_marks, _ = self._final(batch, *refined)
            looks.append((r_boxes, r_scores, r_img, r_marks, np.ones(len(r_boxes), bool)))
            alone = ~_on_one_of(boxes, img, r_boxes, r_img)
            boxes, scores, img, marks = boxes[alone], scores[alone], img[alone], marks[alone]
        if len(boxes):
            looks.append((boxes, scores, img, marks, np.ones(len(boxes), bool)))
        return looks

    def _lowest(self, stage: int) -> float:
        """A stage's threshold, lowered to the second look's when faces are checked."""
        t = self.thresholds[stage]
        return min(t, SECOND_LOOK[stage - 1]) if self.check_faces else t

    def _reuse_interpreters_for(self, h: int, w: int) -> None:
        if (h, w) != self._last_size:
            # Interpreters are kept per P-Net input shape so that frames of one video reuse them;
            # a photo of another size would only add more (tens of MB each), so start afresh.
            for lane in (self._pnet, self._helper_pnet):
                if lane is not None:
                    lane.net.forget_shapes()
            self._last_size = (h, w)

    def _proposals(self, batch: np.ndarray, scales: list) -> tuple | None:
        """P-Net's candidate boxes over every scale, merged: (square boxes, image indices)."""
        h, w = batch.shape[1:3]
        # Truncated like the mtcnn package (tf.image.resize of a float shape), not ceil'd as in
        # FaceNet: boxes are mapped back with the nominal scale, so matching sizes matters for
        # agreeing with it.
        sizes = [(int(h * sc), int(w * sc)) for sc in scales]
        z1 = logit(self.thresholds[0])
        outs = self._pnet_maps(batch, sizes)
        results = [r for r in (_candidates(k, out, scales[k], z1) for k, out in sorted(outs.items()))
                   if r is not None]
        if not results:
            return None
        boxes = np.concatenate([r[0] for r in results]).astype(np.float32)
        scores = np.concatenate([r[1] for r in results])
        img = np.concatenate([r[2] for r in results]).astype(np.int32)
        keep = per_image_nms(img, boxes, scores, 0.7, "union")
        return square(boxes[keep]), img[keep]

    def _pnet_maps(self, batch: np.ndarray, sizes: list) -> dict:
        """{level: P-Net's output map} for each scaled size of the batch.

        Levels 0 and 1 are cut from the photo, as the mtcnn package cuts every level.  Area
        resizing costs in proportion to its source, so the smaller levels are cut from level 0
        instead (measured: the same agreement with the package on LFW photos)."""
        if self._helper is None or len(sizes) < 2:
            first = _resized(batch, sizes[0])
            return {k: self._pnet(first if k == 0 else _resized(first if k > 1 else batch, sizes[k]))
                    for k in range(len(sizes))}
        # Two cores.  The helper thread cuts level 0 and runs P-Net on it (about half of the
        # work), then takes the remaining levels largest first while this thread takes them
        # smallest first (it also has every level's NumPy to do); they meet in the middle.  The
        # helper only resizes and runs P-Net, long calls that release the GIL: two threads both
        # running Python hand the GIL back and forth every few hundred microseconds and stall
        # each other (the waiting one sleeps, and waking a sleeping core is slow on a virtual machine).
        first_box, first_ready, outs = [], threading.Event(), {}
        todo = collections.deque(range(2, len(sizes)))  # pops from either end are atomic

        def take(pop):
            try:
                return pop()
            except IndexError:
                return None

        def helper():
            try:
                first_box.append(_resized(batch, sizes[0]))
            finally:  # on failure the error surfaces from job.result(); nobody waits forever
                first_ready.set()
            outs[0] = self._helper_pnet(first_box[0])
            while (k := take(todo.popleft)) is not None:
                outs[k] = self._helper_pnet(_resized(first_box[0], sizes[k]))

        job = self._helper.submit(helper)
        outs[1] = self._pnet(_resized(batch, sizes[1]))
        first_ready.wait()
        while first_box and (k := take(todo.pop)) is not None:
            outs[k] = self._pnet(_resized(first_box[0], sizes[k]))
        job.result()
        return outs

    def _refined(self, batch: np.ndarray, boxes: np.ndarray, img: np.ndarray) -> tuple | None:
        """R-Net refines and rejects: (square boxes, image indices, R-Net scores), None when none is left."""
        out = self._rnet(crop_resize(batch, boxes, img, 24))
        reg, prob = out[:, :4], sigmoid(out[:, 4])
        ok = prob > self._lowest(1)
        boxes, scores, img = regress(boxes[ok], reg[ok]), prob[ok], img[ok]
        keep = per_image_nms(img, boxes, scores, 0.7, "union")
        boxes, img = square(boxes[keep]).astype(np.float32), img[keep]
        return (boxes, img, scores[keep]) if len(boxes) else None

    def _final(self, batch: np.ndarray, boxes: np.ndarray, img: np.ndarray, rnet: np.ndarray) -> tuple:
        """O-Net: final (boxes, scores, image indices, five landmarks, second look only)."""
        out = self._onet(crop_resize(batch, boxes, img, 48))
        reg, lm, prob = out[:, :4], out[:, 4:14], sigmoid(out[:, 14])
        bw = boxes[:, 2] - boxes[:, 0] + 1
        bh = boxes[:, 3] - boxes[:, 1] + 1
        lx = bw[:, None] * lm[:, 0:5] + boxes[:, 0:1] - 1
        ly = bh[:, None] * lm[:, 5:10] + boxes[:, 1:2] - 1
        ok = prob > self._lowest(2)
        second = ~((rnet > self.thresholds[1]) & (prob > self.thresholds[2]))[ok]
        boxes, scores, img = regress(boxes[ok], reg[ok]), prob[ok], img[ok]
        marks = np.stack([lx[ok], ly[ok]], axis=2)
        # What the first look finds comes first: a second-look box never suppresses one of its
        # faces, so the first look's faces are exactly what FaceNet's thresholds alone give.
        keep = per_image_nms(img, boxes, scores + 2.0 * ~second, 0.7, "min")
        return boxes[keep], scores[keep], img[keep], marks[keep], second[keep]


def _on_one_of(boxes: np.ndarray, img: np.ndarray, others: np.ndarray, others_img: np.ndarray) -> np.ndarray:
    """Whether each box is on the same face as one of others in its image (blazeface.AGREE)."""
    from .blazeface import AGREE

    overlap = iou(boxes, others) if len(boxes) and len(others) else np.zeros((len(boxes), len(others)))
    return ((overlap >= AGREE) & (img[:, None] == others_img[None, :])).any(axis=1)


def _first_look_first(looks: list) -> tuple:
    """The faces of several looks as one: a box that overlaps a face already found goes, and the
    first look's faces rank first, so they stay exactly what FaceNet's thresholds alone give."""
    if len(looks) == 1:
        return looks[0]
    boxes, scores, img, marks, second = (np.concatenate(part) for part in zip(*looks))
    keep = per_image_nms(img, boxes, scores + 2.0 * ~second, 0.7, "min")
    return boxes[keep], scores[keep], img[keep], marks[keep], second[keep]


def _resized(src: np.ndarray, size) -> np.ndarray:
    """Each image of a batch resized to size (h, w) by area."""
    import cv2

    return np.stack([cv2.resize(b, size[::-1], interpolation=cv2.INTER_AREA) for b in src])


def _candidates(k: int, out: np.ndarray, scale: float, z1: float):
    """Boxes, scores and image indices of one level's P-Net map, after the level's NMS."""
    img, yy, xx = np.nonzero(out[..., 4] > z1)
    if not len(img):
        return None
    score = sigmoid(out[img, yy, xx, 4])
    # Each P-Net cell sees a 12x12 window at stride 2 of the scaled image.
    x1, y1 = (2 * xx + 1) / scale, (2 * yy + 1) / scale
    x2, y2 = (2 * xx + 12) / scale, (2 * yy + 12) / scale
    boxes = np.stack([x1, y1, x2, y2], axis=1)
    off = out[img, yy, xx, :4]
    boxes = boxes + off * np.stack([x2 - x1, y2 - y1, x2 - x1, y2 - y1], axis=1)
    keep = per_image_nms(img, boxes, score, 0.5, "union")
    return boxes[keep], score[keep], img[keep]


def _per_image(n: int, h: int, w: int, boxes, scores, img, marks, second) -> list[Detections]:
    """The batch's detections split by image, boxes clipped to it."""
    out = []
    for i in range(n):
        sel = img == i
        b = boxes[sel].copy()
        b[:, [0, 2]] = np.clip(b[:, [0, 2]], 0, w - 1)  # as the mtcnn package reports them
        b[:, [1, 3]] = np.clip(b[:, [1, 3]], 0, h - 1)
        out.append(Detections(b.astype(np.float32), scores[sel].astype(np.float32), marks[sel].astype(np.float32),
                              second[sel]))
    return out
