"""Which face of a photo is its subject, where one person per photo is expected."""
from __future__ import annotations

import numpy as np


def largest_face(boxes: np.ndarray) -> int | None:
    """Index of the box (N, 4) with the largest area, or None when there is none."""
    boxes = np.asarray(boxes).reshape(-1, 4)
    if not len(boxes):
        return None
    wh = boxes[:, 2:] - boxes[:, :2]
    return int(np.argmax(wh[:, 0] * wh[:, 1]))


def central_face(boxes: np.ndarray, image_shape) -> int | None:
    """FaceNet's choice (align_dataset_mtcnn.py): box area minus twice its squared offset from the
    image centre, so a large face near the middle wins over a larger one at the edge."""
    boxes = np.asarray(boxes).reshape(-1, 4)
    if not len(boxes):
        return None
    h, w = image_shape[:2]
    size = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    offsets = (boxes[:, :2] + boxes[:, 2:4]) / 2 - np.array([w / 2, h / 2])
    return int(np.argmax(size - (offsets ** 2).sum(axis=1) * 2.0))


def subject_face(boxes: np.ndarray) -> int | None:
    """The face a labelled photo (training, verification, labelled CLASSIFY) is taken to show."""
    return largest_face(boxes)
