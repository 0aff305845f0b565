"""Faces only: a second opinion on the detections MTCNN is unsure of.

MTCNN reports hands, hair, microphones, ties and blurred chairs as faces, with scores of 0.63 to
0.99, where nearly every real face scores 0.99 or more.  So a detection under SURE is checked.
First BlazeFace is asked (blazeface.py: a second architecture and training set, in two models,
short and full range): an unsure detection either model finds too is a face.  Otherwise it is
shown to dlib's CNN face detector (mmod.py: a third): a crop around it, the face scaled to a few
sizes about dlib's 80 px window, and the best score near the crop's centre.  Under MIN_SCORE it
is not a face and is dropped before anything is named, unless it is plainly masked
(mask_check.py): dlib's detector was not shown masks.  A face only MTCNN's second look found (its
lower thresholds, and BlazeFace's boxes, for masked faces) needs two witnesses: both BlazeFace
models; or plainly masked and still somewhat face-like to dlib (SECOND_LOOK_MIN_SCORE); or found
by the short-range model and either dlib agreeing or likely masked.

Measured on 4,162 detections labelled by eye (bench/ghost_faces.py): of MTCNN's 79 non-faces at
its default settings 93.7% are dropped, and 91.7% of the 24 in the real-time tool's frames, while
99.30% of the real faces are kept (the rest: faces in profile, in the dark or cut by the photo's
edge, whose embeddings are too generic to name anyone).
"""
from __future__ import annotations

import numpy as np

from .blazeface import FULL_RANGE, SHORT_RANGE, Model

SURE = 0.995       # MTCNN scores from which a detection is not checked
MIN_SCORE = -1.0   # dlib's best score near the centre under which a checked detection is dropped
# ... and under which a masked face only the second look found is dropped: masked faces score
# lower (the 5% lowest of lfw-dev's -1.42), lamps and blank signs in the Hamilton clip -1.35 to -1.46
SECOND_LOOK_MIN_SCORE = -1.3
# ... or, for one BlazeFace finds too, the chance it is masked from which it counts as a face: of
# the second look's finds BlazeFace agrees with, the non-faces (hands, logos, a colour wheel, a
# row of windows) are at most 0.44 masked where dlib scores them under MIN_SCORE
MASKED_LIKELY = 0.5
OVERLAP = 0.3  # an unsure detection that overlaps a likelier one this much is the same face again
FACE_SIZES = (72, 88, 108)  # the face's size (px) in the crops dlib is shown
CROP = 176         # the crop's side (px): the face and its surroundings
VERSION = "check-v5"  # in MTCNN.settings: cached faces found before this check are not reused


def dlib_scores(image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """dlib's best score near the centre of each box (N, 4) of a uint8 RGB image, over FACE_SIZES."""
    from .mmod import MMOD

    net = MMOD.load()
    return np.array([max(_score(net, image, box, size) for size in FACE_SIZES) for box in boxes])


def _score(net, image: np.ndarray, box, face_size: int) -> float:
    scores = net.score_map(_crop(image, box, face_size, tuple(float(v) for v in net.mean)))
    h, w = scores.shape
    r = max(1, h // 4)
    return float(scores[h // 2 - r:h // 2 + r + 1, w // 2 - r:w // 2 + r + 1].max())


def _crop(image: np.ndarray, box, face_size: int, fill) -> np.ndarray:
    """CROP x CROP pixels around the box, its face face_size pixels across; outside the image the
    network's mean colour, which reads as nothing (a smeared edge would read as texture)."""
    import cv2

    x1, y1, x2, y2 = (float(v) for v in box)
    zoom = face_size / max(x2 - x1, y2 - y1, 1.0)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    if zoom < 1:
        # Shrunk by area averaging first (warpAffine has none: a large face would be aliased).
        half = CROP / zoom / 2 + 2
        x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
        xe, ye = min(image.shape[1], int(cx + half) + 1), min(image.shape[0], int(cy + half) + 1)
        region = image[y0:ye, x0:xe]
        small = cv2.resize(region, (max(1, round(region.shape[1] * zoom)), max(1, round(region.shape[0] * zoom))),
                           interpolation=cv2.INTER_AREA)
        zx, zy = small.shape[1] / region.shape[1], small.shape[0] / region.shape[0]
        image, cx, cy, move = small, (cx - x0) * zx, (cy - y0) * zy, np.eye(2, 3)
    else:
        move = np.array([[zoom, 0, 0], [0, zoom, 0]], np.float64)
        cx, cy = cx * zoom, cy * zoom
    move[:, 2] = (CROP / 2 - cx, CROP / 2 - cy)
    return cv2.warpAffine(image, move, (CROP, CROP), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=fill)


def faces_only(image: np.ndarray, detections):
    """The detections that are faces: sure ones; unsure first-look ones BlazeFace also finds, dlib's
    detector agrees with, or that are plainly masked (dlib's detector was not shown masks); and
    second-look ones with two witnesses (_face_like, or both BlazeFace models)."""
    boxes, scores = np.asarray(detections.boxes), np.asarray(detections.scores)
    second = np.asarray(detections.second_look, bool)
    checked = np.flatnonzero(second | (scores < SURE))
    keep = np.ones(len(scores), bool)
    if len(checked):
        agreed = detections.blazeface
        if agreed is None:  # detections made elsewhere: ask BlazeFace now
            agreed = _blazeface_agrees(image, boxes)
        agreed = np.array(agreed, bool)
        # BlazeFace's word alone is taken for first-look faces only: of the 103 non-faces MTCNN
        # is unsure of in bench/ghost_faces.py's set neither model finds any (the short-range
        # one finds 594 of its 994 faces), but what only the second look finds includes the
        # short-range model's own false finds (a row of windows).  The full-range model, which
        # sees smaller faces, is asked about the first-look faces the short-range one missed and,
        # for two witnesses, the second-look finds it saw: on the ghost set's photos and frames
        # the latter adds no find; it keeps 3 more of the 1,299 masked lfw-dev faces.
        unsettled = checked[~agreed[checked] & ~second[checked]]
        seen = checked[agreed[checked] & second[checked]]
        both = np.zeros(len(scores), bool)
        if len(unsettled) or len(seen):
            full = _blazeface_agrees(image, boxes, FULL_RANGE)
            agreed[unsettled], both[seen] = full[unsettled], full[seen]
        keep[checked] = (agreed[checked] & ~second[checked]) | both[checked]
        doubtful = checked[~keep[checked]]
        keep[doubtful] = _face_like(image, detections, doubtful, second[doubtful], agreed[doubtful])
        keep[checked] &= ~_beside_a_likelier(boxes, scores, keep, checked)
    return detections if keep.all() else detections.subset(keep)


def _blazeface_agrees(image: np.ndarray, boxes: np.ndarray, model: Model = SHORT_RANGE) -> np.ndarray:
    """Whether BlazeFace's model (blazeface.py) finds a face on each box."""
    from .blazeface import BlazeFace, agreeing

    net = BlazeFace.load(model)
    return agreeing(boxes, net.boxes(image)) if net is not None else np.zeros(len(boxes), bool)


def _face_like(image: np.ndarray, detections, which: np.ndarray, second: np.ndarray,
               agreed: np.ndarray) -> np.ndarray:
    """For the detections BlazeFace's word does not settle: an unsure first-look one is a face when
    dlib's detector agrees or it is plainly masked.  A second-look one needs two witnesses:
    plainly masked and still somewhat face-like to dlib (a lamp or a blank sign looks "masked",
    no mouth, too), or found by BlazeFace and either dlib's detector agreeing or likely masked."""
    from .mask_check import MASKED_SURE, masked_chances

    if not len(which):
        return np.zeros(0, bool)
    masked = masked_chances(image, np.asarray(detections.landmarks)[which])
    sure = masked >= MASKED_SURE
    # dlib's detector costs ~20 mask checks: asked only where its answer can change the outcome
    # (the second look's weak finds on a bare photo are many, and most have no other witness).
    asked = np.where(second, sure | agreed, ~sure)
    dlib = np.full(len(which), -np.inf)
    if asked.any():
        dlib[asked] = dlib_scores(image, np.asarray(detections.boxes)[which[asked]])
    seconded = (sure & (dlib >= SECOND_LOOK_MIN_SCORE)) | (agreed & ((dlib >= MIN_SCORE) | (masked >= MASKED_LIKELY)))
    return np.where(second, seconded, sure | (dlib >= MIN_SCORE))


def _beside_a_likelier(boxes: np.ndarray, scores: np.ndarray, keep: np.ndarray, which: np.ndarray) -> np.ndarray:
    """For each of which: whether it overlaps (IoU over OVERLAP) a kept detection MTCNN scores
    higher.  An unsure detection is often a second, shifted box on a face already found (MTCNN's
    last NMS lets boxes through until one holds 70% of the other; masked faces, on which O-Net's
    landmarks wander, give many): it would become a second track, and a second name, on one face."""
    from .boxes import iou

    likelier = keep[None, :] & (scores[None, :] > scores[which, None])
    return ((iou(boxes[which], boxes) > OVERLAP) & likelier).any(axis=1)
