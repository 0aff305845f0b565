"""Which face of a photo is its subject, where one person per photo is expected."""
from __future__ import annotations

import numpy as np


def subject_face(boxes: np.ndarray, image_shape) -> int | None:
    """The face a photo of one person (training, verification, labelled CLASSIFY, aligning one
    face per photo) is taken to show, or None when there is none.

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
