"""Drawing on video frames: boxes with names, the frame rate, and face thumbnails."""
from __future__ import annotations

import numpy as np

from ..identity.protocol import is_named


def draw(frame: np.ndarray, tracks, fps: float | None = None) -> None:
    """Boxes with name and probability (green known, red Unknown), and frames/s, in place (BGR)."""
    import cv2

    for t in tracks:
        x1, y1, x2, y2 = (int(round(v)) for v in t.box)
        known = is_named(t.name)
        color = (0, 200, 0) if known else (0, 0, 255)
        cv2.rectangle(frame, (x1, y1), (x2, y2), color, 2)
        # An Unknown's probability is that of the name it was refused, which only confuses a viewer.
        label = f"{t.name} {t.probability:.2f}" if known else t.name
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        # Keep the label inside the frame: above the box, or inside it at the top edge.
        lx = min(max(0, x1), max(0, frame.shape[1] - tw - 4))
        top = y1 - th - 6 if y1 - th - 6 >= 0 else max(0, y1)
        cv2.rectangle(frame, (lx, top), (lx + tw + 4, top + th + 6), color, -1)
        cv2.putText(frame, label, (lx + 2, top + th + 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1,
                    cv2.LINE_AA)
    if fps is not None:  # bottom left, where names rarely are
        cv2.putText(frame, f"{fps:.1f} fps", (8, frame.shape[0] - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                    (255, 255, 0), 2, cv2.LINE_AA)


def thumbnail_jpeg(frame_bgr: np.ndarray, box, height: int = 96) -> bytes | None:
    """A small JPEG of the face in box (x1, y1, x2, y2), with some of its surroundings."""
    import cv2

    x1, y1, x2, y2 = (float(v) for v in box)
    m = 0.2 * max(x2 - x1, y2 - y1)
    h, w = frame_bgr.shape[:2]
    x1, y1 = int(max(0, x1 - m)), int(max(0, y1 - m))
    x2, y2 = int(min(w, x2 + m)), int(min(h, y2 + m))
    if x2 - x1 < 2 or y2 - y1 < 2:
        return None
    crop = frame_bgr[y1:y2, x1:x2]
    crop = cv2.resize(crop, (max(1, round(crop.shape[1] * height / crop.shape[0])), height),
                      interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return buf.tobytes() if ok else None
