"""facerec.alignment: FaceNet's crop and the warp to dlib's chip."""
import json

import numpy as np
import pytest

from conftest import shared
from facerec import FacerecError
from facerec.alignment import (DLIB_5POINT_TEMPLATE, crop_with_margin, margin_box, similarity_transform,
                               template_points, warp_to_template)


def test_similarity_transform_recovers_a_known_one(rng):
    src = rng.uniform(0, 100, (5, 2))
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -4.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = scale * src @ rot.T + shift
    m = similarity_transform(src, dst)
    np.testing.assert_allclose(m[:, :2], scale * rot, atol=1e-9)
    np.testing.assert_allclose(m[:, 2], shift, atol=1e-9)
    with pytest.raises(FacerecError, match="degenerate"):
        similarity_transform(np.ones((5, 2)), dst)


def test_facenet_crop_is_box_plus_margin_clipped_and_resized():
    img = np.zeros((100, 200, 3), np.uint8)
    img[20:60, 50:90] = 255  # the "face"
    assert margin_box([50, 20, 90, 60], 32, img.shape).tolist() == [34, 4, 106, 76]
    assert margin_box([5, 5, 40, 40], 32, img.shape).tolist() == [0, 0, 56, 56]  # clipped at the edge
    crop = crop_with_margin(img, np.array([50, 20, 90, 60]), margin=32, image_size=160)
    assert crop.shape == (160, 160, 3)
    # the face fills the middle 40/72 of the crop
    assert crop[80, 80].min() == 255 and crop[5, 5].max() == 0


def test_warp_puts_landmarks_on_the_template():
    """Bright dots drawn at the landmarks must land on the template's points in the chip."""
    from facerec.alignment import DLIB_CHIP_TEMPLATE

    lm = np.array([[100, 100], [150, 98], [126, 130], [104, 160], [148, 158]], float)
    m = similarity_transform(template_points(DLIB_CHIP_TEMPLATE, 150, 0.25), lm)
    image_to_chip = np.linalg.inv(np.vstack([m, [0, 0, 1]]))[:2]
    mapped = lm @ image_to_chip[:, :2].T + image_to_chip[:, 2]
    for k in range(5):
        img = np.zeros((260, 260, 3), np.uint8)
        x, y = np.round(lm[k]).astype(int)
        img[y - 1:y + 2, x - 1:x + 2] = 255
        chip = warp_to_template(img, lm, 150, 0.25)
        assert chip.shape == (150, 150, 3) and chip.dtype == np.uint8
        w = chip[:, :, 0].astype(float)
        ys, xs = np.mgrid[0:150, 0:150]
        found = np.array([(xs * w).sum() / w.sum(), (ys * w).sum() / w.sum()])
        # exactly where the fitted similarity sends it (dlib's chip convention shifts by < 1 px) ...
        assert np.linalg.norm(found - mapped[k]) < 1.0, (k, found, mapped[k])
        # ... which, the fit being least-squares, is near (not on) the template point
        assert np.linalg.norm(found - template_points(DLIB_CHIP_TEMPLATE, 150, 0.25)[k]) < 6


def test_warp_reproduces_dlibs_own_chips():
    """With dlib's landmarks and dlib's template, our warp cuts dlib's chip (to JPEG-decoder noise)."""
    from facerec import load_image

    root = shared("dlib-reference")
    refs = json.loads((root / "reference.json").read_text())
    diffs = []
    for r in refs:
        image = load_image(root / r["image"])
        chip = load_image(root / r["chip"]).astype(float)
        ours = warp_to_template(image, np.asarray(r["dlib_landmarks5"], float), 150, 0.25, DLIB_5POINT_TEMPLATE)
        diffs.append(np.abs(ours - chip).mean())
    print(f"\nmean |pixel difference| from dlib's chips: {np.mean(diffs):.2f} (max {np.max(diffs):.2f}) grey levels")
    assert np.mean(diffs) < 1.0


def test_mtcnn_chips_give_dlib_descriptors(default_embedder):
    """The default embedder on chips warped from MTCNN landmarks vs dlib's descriptors of dlib's chips."""
    from facerec import load_image
    from facerec.detection import MTCNN
    from facerec.pipeline import subject_face

    root = shared("dlib-reference")
    refs = json.loads((root / "reference.json").read_text())
    det = MTCNN()
    chips, want = [], []
    for r in refs:
        image = load_image(root / r["image"])
        faces = det.detect(image)
        assert len(faces), r["image"]
        j = subject_face(faces.boxes, image.shape)
        chips.append(warp_to_template(image, faces.landmarks[j], 150, 0.25))
        want.append(r["descriptor"])
    got = default_embedder.descriptors(np.stack(chips))
    dist = np.linalg.norm(got - np.asarray(want, np.float32), axis=1)
    print(f"\ndescriptor distance, MTCNN-warped chip vs dlib's chip: mean {dist.mean():.3f}, "
          f"max {dist.max():.3f} (dlib's same-person threshold is 0.6)")
    assert dist.mean() < 0.25 and dist.max() < 0.5


def test_template_points_scale_with_padding():
    p = template_points(np.array([[0.0, 0.0], [1.0, 1.0]]), 150, 0.25)
    np.testing.assert_allclose(p, [[25, 25], [125, 125]])
