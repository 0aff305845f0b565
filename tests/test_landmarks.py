"""dlib's 5- and 68-point shape predictors read and run in NumPy: dlib's own landmarks on dlib's boxes."""
import json

import numpy as np
import pytest

from conftest import shared


@pytest.fixture(scope="module")
def predictor():
    from facerec.detection.shape_predictor import ShapePredictor

    return ShapePredictor()


def test_reproduces_dlibs_landmarks_on_dlibs_boxes(predictor):
    from facerec import load_image

    root = shared("dlib-reference")
    refs = json.loads((root / "reference.json").read_text())
    worst = np.array([np.abs(predictor(load_image(root / r["image"]), r["box_ltrb"])
                             - np.asarray(r["dlib_landmarks5"], float)).max() for r in refs])
    print(f"\n{(worst == 0).sum()} of {len(refs)} faces to the pixel, the rest within {worst.max():.0f} px")
    assert worst.max() <= 1 and (worst == 0).mean() >= 0.8


def test_68_points_as_dlib_finds_them():
    """face_landmarks' 68 points against dlib's on its own boxes (dlib_landmarks68)."""
    from facerec import face_landmarks, load_image
    from facerec.locations import LANDMARK_GROUPS

    root = shared("dlib-reference")
    refs = json.loads((root / "reference.json").read_text())
    err = []
    for r in refs:
        left, top, right, bottom = r["box_ltrb"]
        found = face_landmarks(load_image(root / r["image"]), [(top, right, bottom, left)])[0]
        pts = np.zeros((68, 2))
        for name, idx in LANDMARK_GROUPS.items():
            pts[list(idx)] = found[name]
        err.append(np.linalg.norm(pts - np.asarray(r["dlib_landmarks68"], float), axis=1))
    err = np.array(err)
    print(f"\n68 points: {err.mean():.3f} px from dlib's on average, worst {err.max():.2f} px, "
          f"{(err.max(1) == 0).sum()} of {len(refs)} faces to the pixel")
    assert err.mean() < 0.1 and err.max() < 3 and (err.max(1) == 0).mean() >= 0.7


def test_from_an_mtcnn_box(predictor):
    """Run on the box dlib's detector would draw around MTCNN's face (landmarks.dlib_box)."""
    from facerec import load_image
    from facerec.detection import MTCNN
    from facerec.detection.shape_predictor import dlib_box
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
    from facerec.detection.shape_predictor import load_model

    bad = tmp_path / "sp.dat"
    bad.write_bytes(b"\x01\x01" + b"\xff" * 100)
    with pytest.raises(FacerecError, match="shape predictor"):
        load_model(bad)
