"""Face crops for the embedders: FaceNet's box + margin crop, and a 5-point similarity warp.

``crop_with_margin`` is FaceNet's aligner (align_dataset_mtcnn.py): the detector box grown by
margin/2 on each side, clipped to the image, resized to image_size.  ``warp_to_template`` maps
MTCNN's five landmarks onto a template with a similarity transform, which is what the default
embedder needs: on 1,200 LFW pairs dlib's network scores 99.0% on such warps but 83.9% on
FaceNet's crops resized to 150 px.
"""
from __future__ import annotations

import numpy as np

from .errors import FacerecError

# MTCNN's five landmarks (left eye, right eye, nose, mouth left, mouth right) in the unit frame
# of dlib's face chip (padding 0): where they fall, on average, in the chips dlib cuts with its
# own landmarks.  Fitted on ../shared/data/dlib-reference by bench/fit_dlib_template.py.
DLIB_CHIP_TEMPLATE = np.array([
    [0.226816, 0.202769],
    [0.761182, 0.200636],
    [0.484259, 0.529400],
    [0.256019, 0.778807],
    [0.725266, 0.779645],
], np.float64)

# dlib's own 5-point template (dlib/image_transforms/interpolation.h, get_face_chip_details):
# outer and inner corner of the right eye, outer and inner corner of the left eye, nose base,
# in the order its 5-point shape predictor returns them.
DLIB_5POINT_TEMPLATE = np.array([
    [0.8595674595992, 0.2134981538014],
    [0.6460604764104, 0.2289674387677],
    [0.1205750620789, 0.2137274526848],
    [0.3340850613712, 0.2290642403242],
    [0.4901123135679, 0.6277975316475],
], np.float64)


def template_points(template: np.ndarray, size: int, padding: float) -> np.ndarray:
    """Template (unit frame, padding 0) -> pixel positions in a size x size chip with padding."""
    return (padding + np.asarray(template, np.float64)) / (2 * padding + 1) * size


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, shift) taking src points to dst: 2x3."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    var = (s ** 2).sum() / len(src)
    if var <= 1e-12:
        raise FacerecError("landmarks are degenerate (all in one place): cannot align this face")
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1
    rot = u @ sign @ vt
    scale = np.trace(np.diag(sig) @ sign) / var
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - scale * rot @ mu_s
    return m


def warp_to_template(image: np.ndarray, landmarks: np.ndarray, size: int, padding: float,
                     template: np.ndarray = DLIB_CHIP_TEMPLATE) -> np.ndarray:
    """A size x size chip whose landmarks sit on the template (bilinear, edges replicated)."""
    import cv2

    m = similarity_transform(template_points(template, size, padding), landmarks)
    # dlib cuts its chip from a rectangle of side size*scale - 1 centred on the transformed chip
    # centre, with corners on the corner pixel centres (chip_details, centered_drect). Follow it
    # exactly rather than using the raw similarity, so chips match dlib's pixel for pixel.
    centre = m[:, :2] @ np.array([size / 2, size / 2]) + m[:, 2]
    scale = np.sqrt(abs(np.linalg.det(m[:, :2])))
    a = m[:, :2] / scale * ((size * scale - 1) / (size - 1))
    chip_to_image = np.hstack([a, (centre - a @ np.array([(size - 1) / 2, (size - 1) / 2]))[:, None]])
    scale = np.sqrt(abs(np.linalg.det(chip_to_image[:, :2])))
    src = image
    if scale > 2.0:
        # A face much larger than the chip: shrink first (as dlib does with its pyramid), so
        # bilinear sampling does not alias.
        f = 1.0 / (scale / 1.5)
        src = cv2.resize(image, (max(1, int(image.shape[1] * f)), max(1, int(image.shape[0] * f))),
                         interpolation=cv2.INTER_AREA)
        chip_to_image = chip_to_image * np.array([[f], [f]])
    return cv2.warpAffine(src, chip_to_image, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def margin_box(box: np.ndarray, margin: float, shape) -> np.ndarray:
    """FaceNet's crop box: the detector box grown by margin/2 per side, clipped, integer pixels."""
    h, w = shape[:2]
    x1, y1, x2, y2 = np.asarray(box, np.float64)[:4]
    return np.array([max(int(x1 - margin / 2), 0), max(int(y1 - margin / 2), 0),
                     min(int(x2 + margin / 2), w), min(int(y2 + margin / 2), h)], np.int64)


def crop_with_margin(image: np.ndarray, box: np.ndarray, margin: float = 32, image_size: int = 160) -> np.ndarray:
    """FaceNet's aligned crop: box + margin, clipped to the image, resized (bilinear) to image_size."""
    import cv2

    x1, y1, x2, y2 = margin_box(box, margin, image.shape)
    if x2 <= x1 or y2 <= y1:
        raise FacerecError(f"face box {np.round(box, 1).tolist()} lies outside the image")
    crop = image[y1:y2, x1:x2]
    return cv2.resize(crop, (image_size, image_size), interpolation=cv2.INTER_LINEAR)


def align_for(embedder_alignment, image: np.ndarray, box: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The chip an embedder expects (its ``alignment``) for one detected face."""
    a = embedder_alignment
    if a.kind == "similarity":
        return warp_to_template(image, landmarks, a.size, a.padding)
    if a.kind == "crop":
        return crop_with_margin(image, box, a.margin, a.size)
    raise FacerecError(f"unknown alignment kind '{a.kind}'")
