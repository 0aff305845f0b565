"""Masks drawn from five landmarks (issue 24): on the lower face, following its tilt; and
`facerec mask`, a masked copy of a folder."""
import numpy as np
import pytest

from faces import astronaut


@pytest.fixture(scope="module")
def face():
    from facerec.detection import MTCNN

    image = astronaut()
    found = MTCNN().detect(image)
    return image, found.landmarks[int(np.argmax(found.scores))]


def _changed(a, b):
    return np.abs(a.astype(int) - b.astype(int)).sum(axis=2) > 30


@pytest.mark.parametrize("kind", ["surgical", "cloth", "n95"])
def test_a_mask_covers_mouth_and_nose_tip_and_leaves_the_eyes(face, kind):
    from facerec.masks import draw_mask

    image, lm = face
    masked = draw_mask(image, lm, kind)
    changed = _changed(image, masked)
    at = lambda p: changed[int(round(p[1])), int(round(p[0]))]
    mouth = (lm[3] + lm[4]) / 2
    assert at(mouth) and at(lm[3]) and at(lm[4])
    assert at(lm[2] + (mouth - lm[2]) * 0.3)  # between nose tip and mouth
    assert not at(lm[0]) and not at(lm[1])
    eye_gap = np.linalg.norm(lm[1] - lm[0])
    ys, xs = np.nonzero(changed)
    assert eye_gap < np.ptp(xs) < 3.5 * eye_gap  # about the face's width, not the photo's
    assert not _changed(image, astronaut()).any()  # drawn on a copy: the photo is untouched


def test_the_mask_turns_with_the_face(face):
    """Rotated photo, rotated landmarks: the mask's pixels rotate with them."""
    import cv2

    from facerec.masks import draw_mask

    image, lm = face
    h, w = image.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), 30, 1.0)
    rotated = cv2.warpAffine(image, turn, (w, h))
    rlm = lm @ turn[:, :2].T + turn[:, 2]
    upright = np.argwhere(_changed(image, draw_mask(image, lm)))[:, ::-1].astype(float)
    tilted = np.argwhere(_changed(rotated, draw_mask(rotated, rlm)))[:, ::-1].astype(float)
    expected = upright.mean(0) @ turn[:, :2].T + turn[:, 2]
    assert np.linalg.norm(tilted.mean(0) - expected) < 0.05 * np.linalg.norm(lm[1] - lm[0]) * 10
    # the mask's long axis follows the eyes' line
    def angle(points):
        c = points - points.mean(0)
        v = np.linalg.eigh(c.T @ c)[1][:, -1]
        return np.degrees(np.arctan2(v[1], v[0])) % 180

    assert abs(((angle(tilted) - angle(upright)) % 180) - (180 - 30)) < 8


def test_landmarks_that_are_not_five_points_are_one_error(face):
    from facerec import FacerecError
    from facerec.masks import MaskStyle, draw_mask

    image, lm = face
    with pytest.raises(FacerecError, match="five landmarks"):
        draw_mask(image, lm[:3])
    with pytest.raises(FacerecError, match="unknown mask"):
        MaskStyle.of("balaclava")


def test_mask_command_copies_a_folder_masked(tmp_path, capsys):
    from PIL import Image

    from facerec.cli import main

    people = tmp_path / "people"
    (people / "Eileen").mkdir(parents=True)
    Image.fromarray(astronaut()).save(people / "Eileen" / "a.jpg")
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(people / "Eileen" / "wall.png")
    (people / "Eileen" / "broken.jpg").write_bytes(b"not a photo")
    before = {p: p.read_bytes() for p in people.rglob("*") if p.is_file()}
    assert main(["mask", str(people), str(tmp_path / "masked"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Wrote 1 masked photo (1 face)" in out and "1 without a face found" in out and "broken.jpg" in out
    copy = tmp_path / "masked" / "Eileen" / "a.jpg"
    assert copy.is_file() and not (tmp_path / "masked" / "Eileen" / "wall.png").exists()
    first = copy.read_bytes()
    assert {p: p.read_bytes() for p in people.rglob("*") if p.is_file()} == before
    # a rerun keeps what is there
    assert main(["mask", str(people), str(tmp_path / "masked"), "--quiet"]) == 0
    assert "1 already there" in capsys.readouterr().out and copy.read_bytes() == first
    # the copy may not land in its own photos
    assert main(["mask", str(people), str(people / "masked")]) == 1
    assert "inside" in capsys.readouterr().err and not (people / "masked").exists()
    # and each other wrong folder in one line saying what is wrong
    (tmp_path / "empty").mkdir()
    for argv, says in (([tmp_path / "empty", tmp_path / "m"], "no photos in it"),
                       ([people / "Eileen" / "a.jpg", tmp_path / "m"], "a file, not a folder"),
                       ([people, people], "is the input folder")):
        assert main(["mask", *map(str, argv)]) == 1
        assert says in capsys.readouterr().err and not (tmp_path / "m").exists()
