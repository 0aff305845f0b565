"""Face masks drawn on faces from their five landmarks: for enrolment, tests and the bench.

A mask is painted once in the unit frame of dlib's face chip (where the face's outline is known:
the jaw runs from about (0, 0.2) down to the chin at (0.5, 1.0), the nose bridge down the middle)
and carried onto the face by the affine map that takes the chip's five landmarks to the face's.
Affine, not similarity: a face turned aside is narrower on one side, and the mask follows it,
as it follows the face's tilt and size.  Three shapes (surgical, cloth, N95) in several colours,
each shaded from top to bottom and darker at the sides, with pleats, seams and ear loops.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .alignment import DLIB_CHIP_TEMPLATE
from .errors import FacerecError

# The texture's window onto the chip's unit frame: room for the ear loops beside the face.
_LEFT, _TOP, _SPAN = -0.35, -0.1, 1.7
_PX = 400  # the texture's side in pixels: finer than the largest face the bench draws on

# Outlines in the unit frame, clockwise from the left end of the top edge.  The sides follow
# dlib's mean jaw line a little outside it, and the bottom passes just under the chin.
_OUTLINES = {
    "surgical": [(-0.02, 0.40), (0.25, 0.36), (0.49, 0.33), (0.73, 0.36), (1.02, 0.40), (1.02, 0.60),
                 (0.96, 0.78), (0.84, 0.92), (0.68, 1.02), (0.49, 1.06), (0.30, 1.02), (0.14, 0.92),
                 (0.02, 0.78)],
    "cloth": [(0.00, 0.42), (0.20, 0.35), (0.49, 0.30), (0.78, 0.35), (1.00, 0.42), (1.01, 0.62),
              (0.94, 0.80), (0.80, 0.95), (0.62, 1.05), (0.49, 1.07), (0.36, 1.05), (0.18, 0.95),
              (0.04, 0.80), (-0.01, 0.62)],
    "n95": [(0.05, 0.47), (0.22, 0.36), (0.49, 0.27), (0.76, 0.36), (0.93, 0.47), (0.95, 0.66),
            (0.86, 0.86), (0.68, 1.00), (0.49, 1.05), (0.30, 1.00), (0.12, 0.86), (0.03, 0.66)],
}
KINDS = tuple(_OUTLINES)
COLOURS = {  # RGB; the first is each kind's usual one
    "surgical": [(168, 200, 226), (236, 238, 240), (176, 214, 198), (236, 196, 208), (40, 44, 52)],
    "cloth": [(32, 32, 36), (44, 56, 96), (128, 128, 132), (150, 40, 44), (212, 196, 164)],
    "n95": [(232, 232, 226), (200, 200, 196), (70, 72, 76)],
}


@dataclasses.dataclass(frozen=True)
class MaskStyle:
    kind: str = "surgical"
    colour: tuple = COLOURS["surgical"][0]

    @classmethod
    def of(cls, kind: str, colour: int = 0) -> "MaskStyle":
        if kind not in _OUTLINES:
            raise FacerecError(f"unknown mask '{kind}': choose from {', '.join(KINDS)}")
        return cls(kind, COLOURS[kind][colour % len(COLOURS[kind])])


def every_style() -> list[MaskStyle]:
    return [MaskStyle(kind, colour) for kind in KINDS for colour in COLOURS[kind]]


def pick_style(rng: np.random.Generator, kind: str | None = None) -> MaskStyle:
    """A style drawn at random (of one kind, if given): surgical masks half the time, as on the street."""
    if kind is None:
        kind = KINDS[rng.choice(len(KINDS), p=[0.5, 0.3, 0.2])]
    return MaskStyle.of(kind, int(rng.integers(len(COLOURS[kind]))))


def draw_mask(image: np.ndarray, landmarks, style: MaskStyle | str = "surgical") -> np.ndarray:
    """A copy of the uint8 RGB image with a mask on the face whose five landmarks are given
    (left eye, right eye, nose, left and right mouth corner, in pixels)."""
    import cv2

    style = MaskStyle.of(style) if isinstance(style, str) else style
    texture, alpha = _texture(style)
    to_face = _unit_to_face(np.asarray(landmarks, np.float64))
    # texture pixel -> unit frame -> image
    to_unit = np.array([[_SPAN / _PX, 0, _LEFT], [0, _SPAN / _PX, _TOP], [0, 0, 1]])
    warp = (np.vstack([to_face, [0, 0, 1]]) @ to_unit)[:2]
    h, w = image.shape[:2]
    paint = cv2.warpAffine(texture, warp, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
    cover = cv2.warpAffine(alpha, warp, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)[..., None]
    out = image.astype(np.float32) * (1 - cover) + paint * cover
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _unit_to_face(landmarks: np.ndarray) -> np.ndarray:
    """The least-squares affine map (2x3) taking the chip template's landmarks to these."""
    if landmarks.shape != (5, 2) or not np.isfinite(landmarks).all():
        raise FacerecError("a mask needs the face's five landmarks")
    src = np.hstack([DLIB_CHIP_TEMPLATE, np.ones((5, 1))])
    m, *_ = np.linalg.lstsq(src, landmarks, rcond=None)
    return m.T


def _texture(style: MaskStyle) -> tuple[np.ndarray, np.ndarray]:
    """The mask painted in the texture's window: (float RGB 0-255, alpha 0-1)."""
    import cv2

    def px(points):
        return np.round((np.asarray(points) - (_LEFT, _TOP)) / _SPAN * _PX * 8).astype(np.int32)  # 3 fraction bits

    outline = _OUTLINES[style.kind]
    alpha = np.zeros((_PX, _PX), np.float32)
    cv2.fillPoly(alpha, [px(outline)], 1.0, cv2.LINE_AA, shift=3)
    yy, xx = np.mgrid[0:_PX, 0:_PX].astype(np.float32) * (_SPAN / _PX)
    yy, xx = yy + _TOP, xx + _LEFT
    # Light from above, the cheeks turned away: brighter on top and in the middle.
    shade = 1.08 - 0.22 * np.clip(yy - 0.3, 0, 0.8) - 0.35 * (xx - 0.49) ** 2
    paint = np.float32(style.colour)[None, None, :] * shade[..., None]
    line = tuple(float(c) * 0.72 for c in style.colour)
    if style.kind == "surgical":  # three pleats across
        for y in (0.55, 0.70, 0.85):
            cv2.line(paint, tuple(px([(0.04, y)])[0]), tuple(px([(0.94, y + 0.02)])[0]), line, 2, cv2.LINE_AA, 3)
    else:  # a seam down the middle
        cv2.line(paint, tuple(px([(0.49, 0.30)])[0]), tuple(px([(0.49, 1.06)])[0]), line, 2, cv2.LINE_AA, 3)
    loops = [[outline[0], (-0.07, 0.32)], [outline[-1], (-0.07, 0.60)]]  # towards the ears, which hide them
    loops += [[(1 - a, b) for a, b in loop] for loop in loops]
    for a, b in loops:
        cv2.line(alpha, tuple(px([a])[0]), tuple(px([b])[0]), 1.0, 3, cv2.LINE_AA, 3)
        cv2.line(paint, tuple(px([a])[0]), tuple(px([b])[0]), line, 3, cv2.LINE_AA, 3)
    return paint, np.clip(alpha, 0, 1)


# The masks enrolled faces are rendered in, to be compared with masked faces: the three shapes in
# their usual colours.  Their embeddings are averaged, so no one mask's look decides a match.
RENDERINGS = (MaskStyle.of("surgical"), MaskStyle.of("cloth"), MaskStyle.of("n95"))


def around_face(image: np.ndarray, box, landmarks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The part of the image a face's chip is cut from (the box grown by 1.5 boxes each side),
    with the box and landmarks moved into it: drawing a mask there costs what the face does, not
    what the photo does."""
    box = np.asarray(box, np.float64)
    side = max(box[2] - box[0], box[3] - box[1], 1.0) * 1.5
    h, w = image.shape[:2]
    x0, y0 = max(0, int(box[0] - side)), max(0, int(box[1] - side))
    x1, y1 = min(w, int(box[2] + side) + 1), min(h, int(box[3] + side) + 1)
    shift = np.array([x0, y0], np.float64)
    return image[y0:y1, x0:x1], box - np.r_[shift, shift], np.asarray(landmarks, np.float64) - shift
