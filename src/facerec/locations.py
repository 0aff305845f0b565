"""face_recognition's functions for where faces are: boxes as (top, right, bottom, left), landmarks
as dicts of named points, and the images they come from.

Faces are found by facerec's detector (MTCNN with its face check) whatever ``model`` says, and each
box is the one dlib's detector draws around the same face (shape_predictor.dlib_box), so code
written for face_recognition crops and draws what it expects.  Landmarks come from dlib's own 5-
and 68-point predictors (face_recognition_models' files, run in NumPy).  A box passed back to
face_encodings is matched to the face it came from; a box from elsewhere is aligned from dlib's
5-point landmarks, as face_recognition aligns every face.
"""
from __future__ import annotations

import os

import numpy as np

from .errors import FacerecError

# face_recognition's 68-point groups (iBUG 300-W numbering; the lips run round the mouth).
LANDMARK_GROUPS = {"chin": range(0, 17), "left_eyebrow": range(17, 22), "right_eyebrow": range(22, 27),
          "nose_bridge": range(27, 31), "nose_tip": range(31, 36), "left_eye": range(36, 42),
          "right_eye": range(42, 48), "top_lip": [*range(48, 55), 64, 63, 62, 61, 60],
          "bottom_lip": [*range(54, 60), 48, 60, 67, 66, 65, 64]}
# dlib's 5 points: the right eye's outer and inner corners, the left eye's, then the nose's base.
SMALL_GROUPS = {"nose_tip": [4], "left_eye": [2, 3], "right_eye": [0, 1]}
_MODELS = {"large": (68, LANDMARK_GROUPS), "small": (5, SMALL_GROUPS)}


def load_image_file(file, mode: str = "RGB") -> np.ndarray:
    """An image file (a path or an open binary file) as uint8 array: (H, W, 3) for mode 'RGB',
    (H, W) for 'L'.  Turned upright by its EXIF orientation.

    >>> load_image_file("obama.jpg").shape      # doctest: +SKIP
    (1200, 900, 3)
    """
    from .loaded import load_image

    if mode not in ("RGB", "L"):
        raise FacerecError(f"mode must be 'RGB' or 'L', not {mode!r}")
    if isinstance(file, (str, os.PathLike)):
        rgb = load_image(file)
    else:
        from PIL import Image, ImageOps

        from .images import pil_to_rgb

        try:
            with Image.open(file) as im:
                rgb = pil_to_rgb(ImageOps.exif_transpose(im))
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise FacerecError(f"not a readable image: {exc}") from exc
    if mode == "L":
        from PIL import Image

        return np.asarray(Image.fromarray(rgb).convert("L"))
    return rgb


def _min_face_size(number_of_times_to_upsample: int) -> int:
    # dlib's HOG finds faces from about 80 px, 40 px after one upsampling (face_recognition's
    # default), and so on; facerec's detector is asked for the same sizes (20 px at the default:
    # it finds smaller faces than HOG, never fewer), and not under 12 px, its network's input.
    n = int(number_of_times_to_upsample)
    if n < 0:
        raise FacerecError(f"number_of_times_to_upsample must be 0 or more, not {n}")
    return max(12, round(40 / 2 ** n))


def _check_model(model: str) -> None:
    if model not in ("hog", "cnn"):
        raise FacerecError(f"model must be 'hog' or 'cnn' (both use facerec's detector), not {model!r}")


def to_css(box, shape) -> tuple:
    """A detector box (x1, y1, x2, y2) as face_recognition's (top, right, bottom, left): the box dlib
    draws around that face, whole pixels, inside the image."""
    from .detection.shape_predictor import dlib_box

    left, top, right, bottom = np.round(dlib_box(box)).astype(int).tolist()
    return max(top, 0), min(right, shape[1]), min(bottom, shape[0]), max(left, 0)


def face_locations(img, number_of_times_to_upsample: int = 1, model: str = "hog") -> list:
    """The faces in an image as (top, right, bottom, left) boxes, likeliest first.

    >>> face_locations(load_image_file("obama.jpg"))    # doctest: +SKIP
    [(142, 617, 409, 349)]
    """
    from .loaded import as_image, detections

    _check_model(model)
    image = as_image(img)
    return [to_css(b, image.shape) for b in detections(image, _min_face_size(number_of_times_to_upsample)).boxes]


def batch_face_locations(images, number_of_times_to_upsample: int = 1, batch_size: int = 128) -> list:
    """face_locations for each of a list of images (same-size images are detected together)."""
    from .loaded import as_image, remembered, thread_detector

    size = _min_face_size(number_of_times_to_upsample)
    pixels = [as_image(im) for im in images]
    out = []
    for s in range(0, len(pixels), max(1, int(batch_size))):
        part = pixels[s:s + max(1, int(batch_size))]
        found = thread_detector(size).detect_batch(part)
        for im, det in zip(part, found):  # remembered, so face_encodings matches these boxes to their faces
            remembered(("faces", size), im, lambda det=det: det)
            out.append([to_css(b, im.shape) for b in det.boxes])
    return out


def _rect(css) -> tuple:
    """face_recognition's (top, right, bottom, left) as dlib's rectangle (left, top, right, bottom)."""
    try:
        top, right, bottom, left = (float(v) for v in css)
    except (TypeError, ValueError):
        raise FacerecError(f"a face location is (top, right, bottom, left), not {css!r}") from None
    if not (bottom > top and right > left):
        raise FacerecError(f"a face location is (top, right, bottom, left) with bottom below top and right of "
                           f"left, not {tuple(css)!r}")
    return left, top, right, bottom


def face_landmarks(face_image, face_locations=None, model: str = "large") -> list:
    """For each face, a dict of named lists of (x, y) points: chin, left_eyebrow, right_eyebrow,
    nose_bridge, nose_tip, left_eye, right_eye, top_lip, bottom_lip (model 'large', dlib's 68
    points), or nose_tip, left_eye, right_eye (model 'small', its 5).  Faces are found here when
    face_locations is None.  The 68-point model is converted once (about 20 s) and cached.

    >>> face_landmarks(image)[0]["nose_tip"]     # doctest: +SKIP
    [(476, 288), (486, 291), (497, 293), (507, 290), (516, 287)]
    """
    from .loaded import as_image
    from .detection.shape_predictor import ShapePredictor

    if model not in _MODELS:
        raise FacerecError(f"model must be 'large' or 'small', not {model!r}")
    points, groups = _MODELS[model]
    image = as_image(face_image)
    boxes = globals()["face_locations"](image) if face_locations is None else face_locations
    predictor = ShapePredictor.shared(points)
    out = []
    for css in boxes:
        pts = [tuple(int(v) for v in p) for p in predictor(image, _rect(css))]
        out.append({name: [pts[i] for i in idx] for name, idx in groups.items()})
    return out


def boxes_and_landmarks(image: np.ndarray, given) -> tuple[np.ndarray, np.ndarray]:
    """Detector-style boxes (N, 4) and the five landmarks (N, 5, 2) the embedders align with, for
    the faces given to face_encodings: None (found here), Face objects, or (top, right, bottom,
    left) boxes, each matched to the face face_locations reported it for, else aligned from dlib's
    5-point landmarks."""
    from .loaded import detections

    if given is None:
        det = detections(image)
        return det.boxes, det.landmarks
    boxes, marks = [], []
    for item in given:
        if hasattr(item, "landmarks") and hasattr(item, "box"):
            boxes.append(np.asarray(item.box, np.float32)[:4])
            marks.append(np.asarray(item.landmarks, np.float32))
        else:
            rect = _rect(item)
            if rect[2] <= 0 or rect[3] <= 0 or rect[0] >= image.shape[1] or rect[1] >= image.shape[0]:
                raise FacerecError(f"face location {tuple(item)!r} lies outside the image "
                                   f"({image.shape[1]}x{image.shape[0]})")
            box, landmarks = _located(image, rect)
            boxes.append(box)
            marks.append(landmarks)
    return np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(marks, np.float32).reshape(-1, 5, 2)


def _located(image: np.ndarray, rect) -> tuple[np.ndarray, np.ndarray]:
    """(box, landmarks) for a dlib-style rectangle: the detected face it was reported for, when
    the detector has seen this image, or the rectangle's own dlib 5-point landmarks carried onto
    the detector's (the chip then matches the one dlib cuts from them)."""
    from .alignment import DLIB_5POINT_TEMPLATE, DLIB_CHIP_TEMPLATE, similarity_transform
    from .loaded import remembered
    from .detection.shape_predictor import ShapePredictor, mtcnn_box

    css = (rect[1], rect[2], rect[3], rect[0])
    det = remembered(("faces", 20), image)  # face_locations on this image, if it ran
    for box, landmarks in zip(det.boxes, det.landmarks) if det is not None else ():
        if to_css(box, image.shape) == tuple(int(v) for v in css):
            return box, landmarks
    dlib5 = ShapePredictor.shared(5)(image, rect)
    m = similarity_transform(DLIB_5POINT_TEMPLATE, dlib5)
    return mtcnn_box(rect), (DLIB_CHIP_TEMPLATE @ m[:, :2].T + m[:, 2]).astype(np.float32)


def jittered(landmarks: np.ndarray, n: int) -> list:
    """n versions of each face's landmarks (N, 5, 2): the first as given, the rest moved, turned
    and scaled a little about the face's centre (up to 3% of its size, 4 degrees, 5%), the same
    ones every call so an embedding does not change between runs."""
    rng = np.random.default_rng(0)
    out = [landmarks]
    centre = landmarks.mean(axis=1, keepdims=True)
    size = np.linalg.norm(landmarks[:, 1] - landmarks[:, 0], axis=1)[:, None, None] * 2
    for _ in range(n - 1):
        angle, scale = np.deg2rad(rng.uniform(-4, 4)), rng.uniform(0.95, 1.05)
        shift = rng.uniform(-0.03, 0.03, size=2) * size
        rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        out.append(((landmarks - centre) @ rot.T + centre + shift).astype(np.float32))
    return out
