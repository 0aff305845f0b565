"""dlib's 5-point shape predictor read and run in NumPy: dlib's own landmarks on dlib's boxes.

The predictor is research code (bench/dlib_landmarks.py: it fitted the default chip template)."""
import json
import sys

import numpy as np
import pytest

from conftest import REPO, shared

sys.path.insert(0, str(REPO / "bench"))


@pytest.fixture(scope="module")
def predictor():
    from dlib_landmarks import ShapePredictor

    return ShapePredictor()


def test_reproduces_dlibs_landmarks_on_dlibs_boxes(predictor):
    from facerec import load_image

    root = shared("dlib-reference")
    refs = json.loads((root / "reference.json").read_text())
    worst = np.array([np.abs(predictor(load_image(root / r["image"]), r["box_ltrb"])
                             - np.asarray(r["dlib_landmarks5"], float)).max() for r in refs])
    print(f"\n{(worst == 0).sum()} of {len(refs)} faces to the pixel, the rest within {worst.max():.0f} px")
    assert worst.max() <= 1 and (worst == 0).mean() >= 0.8


def test_from_an_mtcnn_box(predictor):
    """Run on the box dlib's detector would draw around MTCNN's face (landmarks.dlib_box)."""
    from facerec import load_image
    from facerec.detection import MTCNN
    from dlib_landmarks import dlib_box
    from facerec.pipeline import subject_face

    root = shared("dlib-reference")
    refs = json.loads((root / "reference.json").read_text())
    det, err = MTCNN(), []
    for r in refs:
        image = load_image(root / r["image"])
        d = det.detect(image)
        pts = predictor(image, dlib_box(d.boxes[subject_face(d.boxes, image.shape)]))
        err.append(np.linalg.norm(pts - np.asarray(r["dlib_landmarks5"], float), axis=1).mean())
    print(f"\nfrom MTCNN boxes: {np.mean(err):.2f} px from dlib's landmarks on average, worst face {np.max(err):.2f} px")
    assert np.mean(err) < 1.0 and np.max(err) < 4.0


def test_not_a_predictor_file(tmp_path):
    from facerec import FacerecError
    from dlib_landmarks import load_model

    bad = tmp_path / "sp.dat"
    bad.write_bytes(b"\x01\x01" + b"\xff" * 100)
    with pytest.raises(FacerecError, match="shape predictor"):
        load_model(bad)
