"""Faces only: dlib's CNN face detector, read from face_recognition_models and run in NumPy, gives
a second opinion on what MTCNN is unsure of (facerec.detection.face_check)."""
import numpy as np

from faces import astronaut, sample


def test_dlibs_face_detector_is_read_and_scores_a_face_above_background():
    from facerec.detection.mmod import MMOD

    net = MMOD.load()
    assert net.window == (80, 80) and len(net.layers) == 19
    import cv2

    face = cv2.resize(astronaut()[20:240, 130:350], (176, 176), interpolation=cv2.INTER_AREA)
    wall = np.full((176, 176, 3), 128, np.uint8)
    assert net.score_map(face).max() > 0 > -1 > net.score_map(wall).max()


def test_an_unsure_detection_dlib_does_not_see_as_a_face_is_dropped():
    """obama.jpg: MTCNN scores a blurred chair behind him 0.79; it is checked and dropped, he is kept."""
    from facerec.detection import MTCNN

    photo = sample("obama.jpg")
    everything = MTCNN(check_faces=False).detect(photo)
    checked = MTCNN().detect(photo)
    assert len(everything) == 2 and len(checked) == 1
    assert checked.scores[0] == everything.scores.max()
    assert MTCNN().settings != MTCNN(check_faces=False).settings  # cached faces are kept apart


def test_sure_detections_are_not_checked(monkeypatch):
    from facerec.detection import face_check
    from facerec.detection.mtcnn import Detections

    def no_check(image, boxes):
        raise AssertionError("a sure detection was checked")

    monkeypatch.setattr(face_check, "dlib_scores", no_check)
    det = Detections(np.array([[0, 0, 50, 50]], np.float32), np.array([0.999], np.float32),
                     np.zeros((1, 5, 2), np.float32))
    assert len(face_check.faces_only(np.zeros((60, 60, 3), np.uint8), det)) == 1


def test_blazeface_is_installed_and_finds_a_face_with_its_landmarks_in_mtcnns_order():
    """make install unpacks BlazeFace's weights from the mediapipe wheel (facerec.detection.blazeface)."""
    from facerec.detection import MTCNN
    from facerec.detection.blazeface import BlazeFace
    from facerec.detection.boxes import iou

    net = BlazeFace.load()
    assert net is not None, "run `make install` (python -m facerec.detection.blazeface)"
    boxes, scores, marks = net.detect(astronaut())
    assert len(boxes) == 1 and scores[0] > 0.8
    assert iou(boxes, MTCNN().detect(astronaut()).boxes)[0, 0] > 0.5
    (lx, ly), (rx, ry), (nx, ny), (mlx, mly), (mrx, mry) = marks[0]
    assert lx < nx < rx and mlx < mrx and max(ly, ry) < ny < min(mly, mry)  # eyes, nose, mouth, top down
    assert not len(net.boxes(np.full((300, 400, 3), 128, np.uint8)))


def test_a_face_p_net_never_proposes_is_found_by_the_second_look_from_blazeface(monkeypatch):
    """A mask hides what P-Net looks for (one masked LFW face in twenty was never proposed): with
    P-Net proposing nothing, BlazeFace's box still reaches R-Net and O-Net, and the face is kept
    as a second-look face on a second witness (masked, dlib's detector agreeing, or BlazeFace's
    full-range model finding it too), never on the short-range model's word alone; without
    BlazeFace nothing is found."""
    from facerec.detection import MTCNN, face_check
    from facerec.detection.blazeface import FULL_RANGE, BlazeFace
    from facerec.masks import draw_mask

    bare = MTCNN().detect(astronaut())
    masked = draw_mask(astronaut(), bare.landmarks[0], "surgical")
    monkeypatch.setattr(MTCNN, "_proposals", lambda self, batch, scales: None)
    for image in (masked, astronaut()):
        again = MTCNN().detect(image)
        assert len(again) == 1 and again.second_look[0]
        assert np.abs(again.boxes[0] - bare.boxes[0]).max() < 0.15 * (bare.boxes[0, 2] - bare.boxes[0, 0])
    monkeypatch.setattr(face_check, "dlib_scores", lambda image, boxes: np.full(len(boxes), -5.0))
    assert len(MTCNN().detect(astronaut())) == 1  # both BlazeFace models find it: two witnesses
    real = BlazeFace.load
    monkeypatch.setattr(BlazeFace, "load", staticmethod(lambda model=None: None if model is FULL_RANGE else real()))
    assert not len(MTCNN().detect(astronaut()))  # the short-range model alone: not enough
    monkeypatch.setattr(BlazeFace, "load", staticmethod(lambda model=None: None))
    assert not len(MTCNN().detect(masked))


def test_blazeface_agreeing_keeps_an_unsure_face_without_asking_dlib(monkeypatch):
    from facerec.detection import MTCNN, face_check
    from facerec.detection.mtcnn import Detections

    def no_dlib(image, boxes):
        raise AssertionError("dlib was asked about a face BlazeFace finds")

    found = MTCNN().detect(astronaut())
    monkeypatch.setattr(face_check, "dlib_scores", no_dlib)
    unsure = Detections(found.boxes, np.array([0.9], np.float32), found.landmarks)
    assert len(face_check.faces_only(astronaut(), unsure)) == 1


def test_the_full_range_model_is_asked_about_an_unsure_face_the_short_range_one_missed(monkeypatch):
    """BlazeFace's full-range model (smaller faces, farther away) is a witness too: an unsure
    first-look face the short-range model did not find is kept when it finds it, without asking
    dlib; without its weights dlib decides, as before."""
    from facerec.detection import MTCNN, face_check
    from facerec.detection.blazeface import FULL_RANGE, BlazeFace
    from facerec.detection.mtcnn import Detections

    assert BlazeFace.load(FULL_RANGE) is not None, "run `make install` (python -m facerec.detection.blazeface)"
    short = BlazeFace.load()
    assert BlazeFace.load(model=FULL_RANGE) is BlazeFace.load(FULL_RANGE) and BlazeFace.load() is short  # built once each
    asked = []
    monkeypatch.setattr(face_check, "dlib_scores", lambda image, boxes: asked.append(len(boxes)) or np.full(len(boxes), -5.0))
    found = MTCNN().detect(astronaut())
    unsure = Detections(found.boxes, np.array([0.9], np.float32), found.landmarks, blazeface=np.array([False]))
    assert len(face_check.faces_only(astronaut(), unsure)) == 1 and not asked
    real = BlazeFace.load
    monkeypatch.setattr(BlazeFace, "load", staticmethod(lambda model=None: None if model is FULL_RANGE else real()))
    assert len(face_check.faces_only(astronaut(), unsure)) == 0 and asked == [1]
