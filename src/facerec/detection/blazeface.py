"""BlazeFace, MediaPipe's face detectors: boxes for MTCNN's second look, and a witness for the face check.

MTCNN misses about one masked face in twenty even at its second look's low thresholds: P-Net's
12-pixel window never proposes a face whose nose and mouth a mask hides, so R-Net and O-Net never
see it.  BlazeFace's short-range model (other training data, another architecture) proposes nearly
all of them; R-Net and O-Net then refine each box and place the five landmarks as for any face,
and face_check keeps such a face, like every face only the second look finds, on two witnesses,
never BlazeFace's alone: of the 1,299 masked lfw-dev photos MTCNN finds a face in bare, 1,290
(94.8% before).  Its full-range model (192 px, for faces farther from the camera) is only a
witness: a face MTCNN is unsure of that either model finds is a face (face_check.py).

The weights are face_detection_short_range.tflite (230 kB) and face_detection_full_range_sparse.tflite
(677 kB, Apache 2.0) from the mediapipe 0.10.14 wheel on PyPI: `make install` runs
``python -m facerec.detection.blazeface``, which fetches the wheel with pip (the package registry,
no other network), checks each file's SHA-256 and keeps only them, under
<prefix>/share/facerec-models.  Without them the second look is MTCNN's lower thresholds alone
(`facerec model` says which).
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

WHEEL = "mediapipe==0.10.14"
MIN_SCORE = 0.5        # MediaPipe's default min_detection_confidence
OVERLAP = 0.3          # boxes overlapping more than this are one face
AGREE = 0.3            # a box overlapping a BlazeFace box this much (IoU) is on the same face


@dataclass(frozen=True)
class Model:
    """One of the wheel's detectors: its file, and the SSD anchors it was trained with."""
    member: str
    sha256: str
    size: int        # the network's input side
    layers: tuple    # (stride, anchors per cell) of each output layer, in the outputs' order


SHORT_RANGE = Model("mediapipe/modules/face_detection/face_detection_short_range.tflite",
                    "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8", 128, ((8, 2), (16, 6)))
FULL_RANGE = Model("mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
                   "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1", 192, ((4, 1),))


def weights_path(model: Model = SHORT_RANGE) -> Path:
    return Path(sys.prefix) / "share" / "facerec-models" / Path(model.member).name


def fetch() -> list[Path]:
    """Unpack both models' weights from the pinned mediapipe wheel (fetched by pip) unless already there."""
    from ..files import atomic_write_bytes, file_digest

    models = (SHORT_RANGE, FULL_RANGE)
    wanted = [m for m in models if not (weights_path(m).exists() and file_digest(weights_path(m)) == m.sha256)]
    if not wanted:
        return [weights_path(m) for m in models]
    with tempfile.TemporaryDirectory() as tmp:
        # Any wheel of that release holds the same files: ask for one whatever this machine is.
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary",
                               ":all:", "--python-version", "3.11", "--platform", "manylinux2014_x86_64", WHEEL,
                               "-d", tmp])
        wheels = list(Path(tmp).glob("mediapipe-*.whl"))
        if done.returncode or not wheels:
            raise SystemExit(f"could not fetch {WHEEL} from the package registry (pip said why above); "
                             f"without BlazeFace masked faces are found less often; run "
                             f"`python -m facerec.detection.blazeface` again to fetch it")
        with zipfile.ZipFile(wheels[0]) as z:
            for m in wanted:
                data = z.read(m.member)
                if hashlib.sha256(data).hexdigest() != m.sha256:
                    raise SystemExit(f"{WHEEL}: {m.member} is not the expected file "
                                     f"(SHA-256 {hashlib.sha256(data).hexdigest()})")
                atomic_write_bytes(weights_path(m), data)
    return [weights_path(m) for m in models]


def available(model: Model = SHORT_RANGE) -> bool:
    return BlazeFace.load(model) is not None


def agreeing(boxes: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Whether each of boxes (N, 4) is on a face among BlazeFace's found (M, 4)."""
    from .boxes import iou

    if not len(found) or not len(boxes):
        return np.zeros(len(boxes), bool)
    return iou(np.asarray(boxes, np.float32), np.asarray(found, np.float32)).max(axis=1) >= AGREE


class BlazeFace:
    """The network and its anchors; one image at a time (the interpreter is not shared between threads)."""

    def __init__(self, path: Path, model: Model = SHORT_RANGE):
        from ..litert import interpreter_class, quietly

        def build():
            net = interpreter_class()(model_path=str(path), num_threads=1)
            net.allocate_tensors()
            return net

        self._net = quietly(build)
        self._input = self._net.get_input_details()[0]["index"]
        outputs = sorted(self._net.get_output_details(), key=lambda d: d["shape"][-1])
        self._scores, self._boxes = outputs[0]["index"], outputs[1]["index"]
        self._size = model.size
        self._anchors = _anchors(model)
        self._lock = threading.Lock()

    @staticmethod
    def load(model: Model = SHORT_RANGE) -> "BlazeFace | None":
        """The network, or None when its weights are not installed (asked once per process and
        model, so what a detector's settings say and what it does stay the same)."""
        return _loaded(model)

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
        size = self._size
        side = max(h, w)
        scale = size / side
        # Shrunk first (a 100-megapixel photo costs what a small one does), then letterboxed to
        # a square, as MediaPipe shows it, so faces keep their shape.
        small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        x = np.zeros((size, size, 3), np.float32)
        top, left = (size - small.shape[0]) // 2, (size - small.shape[1]) // 2
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
        anchors, reg, logits = self._anchors[hits], reg[hits] / size, logits[hits]
        offset = np.array([left, top], np.float32) / size
        centre, half = anchors + reg[:, :2] - offset, reg[:, 2:4] / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1) * (size / scale)
        points = (anchors[:, None, :] + reg[:, 4:12].reshape(-1, 4, 2) - offset) * (size / scale)
        keep = nms_strict(boxes.astype(np.float32), logits, OVERLAP, "union")
        return (boxes[keep].astype(np.float32), (1 / (1 + np.exp(-logits[keep]))).astype(np.float32),
                _five(points[keep]).astype(np.float32))


@lru_cache(maxsize=None)
def _loaded(model: Model) -> "BlazeFace | None":
    return BlazeFace(weights_path(model), model) if weights_path(model).exists() else None


def _five(points: np.ndarray) -> np.ndarray:
    """MTCNN's five landmarks from BlazeFace's eyes (the one on the image's left first), nose and mouth."""
    eyes, nose, mouth = points[:, 0:2], points[:, 2], points[:, 3]
    across = (eyes[:, 1] - eyes[:, 0]) * (0.83 / 2)
    return np.stack([eyes[:, 0], eyes[:, 1], nose, mouth - across, mouth + across], axis=1)


def _anchors(model: Model) -> np.ndarray:
    """(N, 2) anchor centres in [0, 1], in the order of the network's outputs (896 short-range, 2,304 full)."""
    centres = []
    for stride, per_cell in model.layers:
        cells = model.size // stride
        ys, xs = np.mgrid[0:cells, 0:cells]
        grid = np.stack([(xs.ravel() + 0.5) / cells, (ys.ravel() + 0.5) / cells], axis=1)
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres)


if __name__ == "__main__":
    print(*fetch(), sep="\n")
