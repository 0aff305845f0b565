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
