"""Fit MTCNN's output onto dlib's, from ../shared/data/dlib-reference; prints both, ready to paste.

1. Where MTCNN's five landmarks fall in dlib's face chip: for each reference photo, dlib's chip
   transform is rebuilt from dlib's own landmarks and template (the same least-squares
   similarity dlib computes); MTCNN's landmarks on the same photo are mapped into that chip's
   unit frame, and the mean over all photos is ``facerec.alignment.DLIB_CHIP_TEMPLATE``.
2. Where dlib's HOG detector puts its box, relative to MTCNN's box for the same face (the
   shape predictor is run on a box like dlib's): the mean offset of each side, in units of the
   MTCNN box's width and height, is ``facerec.detection.shape_predictor.MTCNN_TO_DLIB_BOX``.

    python bench/fit_dlib_template.py [path/to/dlib-reference]
"""
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from facerec.alignment import DLIB_5POINT_TEMPLATE, similarity_transform, template_points
from facerec.detection import MTCNN

SIZE, PADDING = 150, 0.25


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "shared" / "data" / "dlib-reference"
    refs = json.loads((root / "reference.json").read_text())
    det = MTCNN()
    unit, sides = [], []
    for r in refs:
        image = np.asarray(Image.open(root / r["image"]).convert("RGB"))
        chip_to_image = similarity_transform(template_points(DLIB_5POINT_TEMPLATE, SIZE, PADDING),
                                             np.asarray(r["dlib_landmarks5"], np.float64))
        faces = det.detect(image)
        if not len(faces):
            continue
        box = np.asarray(r["box_ltrb"], np.float64)
        centres = (faces.boxes[:, :2] + faces.boxes[:, 2:]) / 2
        j = int(np.argmin(np.linalg.norm(centres - (box[:2] + box[2:]) / 2, axis=1)))
        a = np.vstack([chip_to_image, [0, 0, 1]])
        image_to_chip = np.linalg.inv(a)[:2]
        pts = faces.landmarks[j] @ image_to_chip[:, :2].T + image_to_chip[:, 2]
        unit.append(pts / SIZE * (2 * PADDING + 1) - PADDING)
        x1, y1, x2, y2 = faces.boxes[j].astype(np.float64)
        sides.append((box - [x1, y1, x2, y2]) / [x2 - x1, y2 - y1, x2 - x1, y2 - y1])
    unit = np.stack(unit)
    mean = unit.mean(0)
    print(f"# fitted on {len(unit)} photos; spread (std, unit frame) {unit.std(0).mean():.4f}")
    print("DLIB_CHIP_TEMPLATE = np.array([")
    for x, y in mean:
        print(f"    [{x:.6f}, {y:.6f}],")
    print("], np.float64)")
    sides = np.stack(sides)
    print(f"# fitted on {len(sides)} photos; spread (std, box units) {sides.std(0).round(4).tolist()}")
    print(f"MTCNN_TO_DLIB_BOX = np.array([{', '.join(f'{v:.4f}' for v in sides.mean(0))}], np.float64)")
    return mean, sides.mean(0)


if __name__ == "__main__":
    main()
