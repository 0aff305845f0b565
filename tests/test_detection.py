"""facerec.detection: the MTCNN pipeline, its agreement with the mtcnn package, bad input."""
import glob

import numpy as np
import pytest

from conftest import shared
from faces import astronaut, face_crop_of_astronaut
from facerec import FacerecError
from facerec.detection import MTCNN
from facerec.detection.boxes import nms_strict


@pytest.fixture(scope="module")
def detector():
    return MTCNN()


def test_finds_the_astronaut_with_sensible_landmarks(detector):
    det = detector.detect(astronaut())
    assert len(det) == 1 and det.scores[0] > 0.99
    x1, y1, x2, y2 = det.boxes[0]
    le, re, nose, ml, mr = det.landmarks[0]
    assert 150 < x1 < x2 < 320 and 20 < y1 < y2 < 230       # her face, upper middle of the photo
    assert le[0] < re[0] and ml[0] < mr[0]                    # left/right as seen in the image
    assert max(le[1], re[1]) < nose[1] < min(ml[1], mr[1])    # eyes above nose above mouth
    for p in det.landmarks[0]:
        assert x1 <= p[0] <= x2 and y1 <= p[1] <= y2


def test_batch_of_mixed_sizes_equals_one_by_one(detector):
    imgs = [astronaut(), face_crop_of_astronaut(), astronaut()[::2, ::2].copy(), face_crop_of_astronaut()]
    batch = detector.detect_batch(imgs)
    for im, got in zip(imgs, batch):
        one = detector.detect(im)
        assert len(one) == len(got)
        np.testing.assert_allclose(got.boxes, one.boxes, atol=1e-3)
        np.testing.assert_allclose(got.landmarks, one.landmarks, atol=1e-3)


def test_large_photo_is_detected_on_a_downscaled_copy(detector):
    big = np.kron(face_crop_of_astronaut(), np.ones((12, 12, 1), np.uint8))  # 3120x3120
    small = detector.detect(face_crop_of_astronaut())
    det = detector.detect(big)
    assert len(det) == 1
    # coordinates come back in the big photo's pixels (detected at another resolution: close, not equal)
    assert _iou(det.boxes[0] / 12, small.boxes[:1])[0] > 0.85


def test_no_face_and_tiny_images(detector):
    assert len(detector.detect(np.full((200, 300, 3), 127, np.uint8))) == 0
    assert len(detector.detect(np.zeros((8, 8, 3), np.uint8))) == 0


def test_wrong_input_is_a_clear_error(detector):
    with pytest.raises(FacerecError, match="uint8 RGB"):
        detector.detect(np.zeros((100, 100), np.uint8))
    with pytest.raises(FacerecError, match="uint8 RGB"):
        detector.detect(np.zeros((100, 100, 3), np.float32))


def test_rearranged_networks_compute_what_the_packages_networks_compute():
    """The graphs fold, pad and merge the package's layers (detection.networks.build_nets); on random
    pixels their outputs must match the package's own P-, R- and O-Net to float precision."""
    from mtcnn.stages import StageONet, StagePNet, StageRNet

    from facerec.detection.boxes import sigmoid
    from facerec.litert import LiteNet
    from facerec.detection.networks import tflite_graphs

    graphs = tflite_graphs()
    rng = np.random.default_rng(0)
    for name, stage, shape, widths in (("pnet", StagePNet, (2, 57, 83, 3), (4,)),
                                       ("rnet", StageRNet, (9, 24, 24, 3), (4,)),
                                       ("onet", StageONet, (5, 48, 48, 3), (4, 10))):
        x = rng.uniform(0, 255, shape).astype(np.float32)
        ours = LiteNet(graphs[name], 1)(x)
        theirs = [np.asarray(t) for t in stage().model((x - 127.5) / 128)]
        at = 0
        for t, width in zip(theirs, widths):
            np.testing.assert_allclose(ours[..., at:at + width], t, atol=2e-5, err_msg=name)
            at += width
        np.testing.assert_allclose(sigmoid(ours[..., at]), theirs[-1][..., 1], atol=2e-5, err_msg=name)


def test_strict_nms_drops_every_box_a_better_one_overlaps():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [2, 2, 12, 12], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    # as the mtcnn package does it: box 2 goes although box 1, which overlaps it, went too
    assert nms_strict(boxes, scores, 0.6).tolist() == [0, 3]
    assert nms_strict(boxes[:0], scores[:0], 0.5).size == 0


def _iou(a, b):
    x1 = np.maximum(a[0], b[:, 0]); y1 = np.maximum(a[1], b[:, 1])
    x2 = np.minimum(a[2], b[:, 2]); y2 = np.minimum(a[3], b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter)


@pytest.mark.slow
def test_agrees_with_the_mtcnn_package_on_500_lfw_photos():
    """The port against the package: both without facerec's face check (which drops what the
    package also reports: hands, hair, background; bench/ghost_faces.py)."""
    from facerec import load_image
    from facerec.detection import MTCNN
    from mtcnn import MTCNN as PackageMTCNN

    detector = MTCNN(check_faces=False)

    files = sorted(glob.glob(str(shared("lfw-dev") / "*" / "*.jpg")))[::2][:500]
    assert len(files) == 500
    theirs = PackageMTCNN()
    total = found = 0
    dists = []
    for f in files:
        im = load_image(f)
        ours = detector.detect(im)
        for face in theirs.detect_faces(im, threshold_onet=0.7):  # FaceNet's thresholds for both
            x, y, w, h = face["box"]
            box = np.array([x, y, x + w, y + h], float)
            total += 1
            if not len(ours):
                continue
            ious = _iou(box, ours.boxes)
            j = int(ious.argmax())
            if ious[j] >= 0.8:
                found += 1
                k = face["keypoints"]
                ref = np.array([k[n] for n in ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")], float)
                dists.append(np.linalg.norm(ours.landmarks[j] - ref, axis=1).mean())
    rate, mean = found / total, float(np.mean(dists))
    print(f"\nmtcnn package found {total} faces in 500 LFW photos; facerec found {rate:.2%} of them "
          f"(IoU >= 0.8), mean landmark distance {mean:.2f} px")
    assert rate >= 0.99 and mean <= 3.0


def _strict_reference(boxes, scores, threshold, method):
    """The mtcnn package's rule, one pair at a time."""
    order = sorted(range(len(boxes)), key=lambda i: -scores[i])
    kept = []
    for rank, j in enumerate(order):
        bj = boxes[j]
        for i in order[:rank]:
            bi = boxes[i]
            w = max(0.0, min(bi[2], bj[2]) - max(bi[0], bj[0]))
            h = max(0.0, min(bi[3], bj[3]) - max(bi[1], bj[1]))
            ai, aj = (bi[2] - bi[0]) * (bi[3] - bi[1]), (bj[2] - bj[0]) * (bj[3] - bj[1])
            denom = min(ai, aj) if method == "min" else ai + aj - w * h
            if w * h / max(denom, 1e-9) > threshold:
                break
        else:
            kept.append(j)
    return kept


def test_strict_nms_matches_a_pair_by_pair_reference():
    rng = np.random.default_rng(3)
    for trial in range(40):
        n = int(rng.integers(0, 120))
        xy = rng.uniform(0, 200, (n, 2))
        boxes = np.concatenate([xy, xy + rng.uniform(2, 60, (n, 2))], 1)
        scores = rng.permutation(n) / max(n, 1)  # distinct scores: one right order
        for threshold, method in ((0.5, "union"), (0.7, "union"), (0.7, "min")):
            assert nms_strict(boxes, scores, threshold, method).tolist() == \
                _strict_reference(boxes, scores, threshold, method)


@pytest.mark.parametrize("h, w", [(171, 97), (200, 64), (331, 120), (150, 150), (12, 40)])
def test_pnet_in_strips_equals_pnet_on_the_whole_image(h, w):
    """Tall P-Net inputs run in strips (bounded memory); the stitched output must be the whole
    image's output exactly, for odd and even heights."""
    from facerec.detection.mtcnn import _Strips
    from facerec.detection.networks import tflite_graphs
    from facerec.litert import LiteNet

    net = LiteNet(tflite_graphs()["pnet"], 1)
    x = np.random.default_rng(h).uniform(0, 255, (2, h, w, 3)).astype(np.float32)
    whole, strips = net(x), _Strips(net, rows=40)(x)
    assert strips.shape == whole.shape
    np.testing.assert_allclose(strips, whole, atol=1e-5)
