"""Ghost faces: what the face check (facerec.detection.face_check) drops, and what it keeps.

Every detection MTCNN makes at its default settings on: face_recognition's sample photos, the
demo's rendered clip, scikit-image's sample images, every frame of the Hamilton clip (also as the
real-time tool detects it: the frame at half size), all 2,499 LFW photos and the personal photos.
Each was labelled by eye (a face, any pose; or not: hands, hair, fabric, background): the
non-faces and the doubtful ones are listed in ghost_labels.json by detection (source, file,
frame, box, settings); every other detection is a face.  Prints, for each set, the non-faces
dropped and the faces kept (as MTCNN's face check decides: dlib's detector agrees, or the face is
plainly masked), and lists what only the second look (MTCNN's lower thresholds for masked faces)
finds and keeps, to be looked at by eye: those detections are not in the labelled set.
Usage: python bench/ghost_faces.py
"""
from __future__ import annotations

import glob
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"
SKIMAGE = ("astronaut", "camera", "cat", "coffee", "coins", "hubble_deep_field", "immunohistochemistry",
           "page", "text", "rocket", "brick", "grass", "gravel",
           "retina", "horse", "clock", "moon", "logo", "colorwheel", "cell", "checkerboard",
           "binary_blobs", "microaneurysms", "shepp_logan_phantom", "chelsea")


def _id(source, file, frame, box, settings):
    return (f"{source}|{Path(file).name}|{'' if frame is None else frame}|"
            + ",".join(f"{v:.0f}" for v in box) + f"|{settings}")


def _rgb(image):
    """A scikit-image sample as uint8 RGB (grey and float ones stretched to 0-255)."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    image = image[..., :3]
    if image.dtype != np.uint8:
        image = image.astype(float)
        image = (255 * (image - image.min()) / max(1e-9, image.max() - image.min())).astype(np.uint8)
    return np.ascontiguousarray(image)


def _frames(path):
    import cv2

    cap = cv2.VideoCapture(str(path))
    while True:
        ok, bgr = cap.read()
        if not ok:
            return
        yield np.ascontiguousarray(bgr[..., ::-1])


def _images():
    """(source, file, frame, uint8 RGB image, settings) for every image the set was made from."""
    import tempfile

    from skimage import data

    from facerec import samples
    from facerec.demo import render_clip
    from facerec.images import load_image

    photos = samples.find()
    for f in sorted(photos.glob("*.jpg")):
        yield "samples", str(f), None, load_image(f), "default"
    for name in SKIMAGE:
        yield "skimage", f"{name}.png", None, _rgb(getattr(data, name)()), "default"
    left, right, _ = data.stereo_motorcycle()
    yield "skimage", "motorcycle_left.png", None, _rgb(left), "default"
    yield "skimage", "motorcycle_right.png", None, _rgb(right), "default"
    for f in sorted(glob.glob(f"{SHARED}/personal/**/*.*", recursive=True)):
        yield "personal", f, None, load_image(f), "default"
    with tempfile.TemporaryDirectory() as tmp:
        clip = render_clip([load_image(photos / "obama3.jpg"), data.astronaut()], Path(tmp) / "demo_clip.mp4")
        for n, frame in enumerate(_frames(clip)):
            yield "samples", "demo_clip.mp4", n, frame, "default"
            yield "samples", "demo_clip.mp4", n, frame, "tracker"
    for n, frame in enumerate(_frames(SHARED / "video" / "short_hamilton_clip.mp4")):
        yield "hamilton", "short_hamilton_clip.mp4", n, frame, "default"
        yield "hamilton", "short_hamilton_clip.mp4", n, frame, "tracker"
    for part in ("lfw-unknown", "lfw-singles", "lfw-dev"):
        for f in sorted(glob.glob(f"{SHARED}/{part}/*/*.jpg")):
            yield "lfw", f, None, load_image(f), "default"


def detections():
    """One record per detection: where, its MTCNN score, whether the face check keeps it, its label;
    and the detections only the second look found and kept."""
    import cv2

    from facerec.detection import MTCNN

    labels = json.loads((HERE / "ghost_labels.json").read_text())
    mtcnn = MTCNN(check_faces=False)
    checked = MTCNN()
    out, second = [], []
    for source, file, frame, image, settings in _images():
        scale = 1.0
        if settings == "tracker":  # the real-time tool's: the frame at half size (--min-face-size 40)
            image, scale = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2),
                                      interpolation=cv2.INTER_AREA), 2.0
        det = mtcnn.detect(image)  # every detection, labelled by eye
        found = checked.detect(image)  # what the face check keeps: the first look's boxes are the same boxes
        kept = [bool(len(found) and np.abs(found.boxes[~found.second_look] - b).max(axis=1).min() < 1e-3)
                if (~found.second_look).any() else False for b in det.boxes]
        second += [dict(source=source, file=file, frame=frame, settings=settings, box=b.tolist())
                   for b in found.boxes[found.second_look] * scale]
        det = det.scaled(scale)
        for box, score, k in zip(det.boxes, det.scores, kept):
            label = labels.get(_id(source, file, frame, box, settings), ["face"])[0]
            out.append(dict(source=source, file=file, frame=frame, box=[float(v) for v in box], settings=settings,
                            score=float(score), kept=k, label=label, lfw_dev="/lfw-dev/" in file))
    return out, second


def main():
    if not (SHARED / "lfw-dev").is_dir():
        print(f"skipped: {SHARED} not available")
        return None
    rows, second = detections()
    kept = lambda r: r["kept"]
    sets = {
        "non-faces, MTCNN's settings": lambda r: r["label"] == "nonface" and r["settings"] == "default",
        "non-faces, the real-time tool's frames": lambda r: r["label"] == "nonface" and r["settings"] == "tracker",
        "faces, every set": lambda r: r["label"] == "face",
        "faces in lfw-dev's photos": lambda r: r["label"] == "face" and r["lfw_dev"],
        "faces in the Hamilton clip (both ways)": lambda r: r["label"] == "face" and r["source"] == "hamilton",
        "faces in the demo clip (both ways)": lambda r: r["label"] == "face" and r["file"] == "demo_clip.mp4",
        "doubtful (not counted elsewhere)": lambda r: r["label"] == "unsure",
    }
    from facerec.detection.face_check import SURE

    print(f"{len(rows)} detections; checked (MTCNN score under the face check's SURE): "
          f"{sum(r['score'] < SURE for r in rows)}")
    result = {}
    for name, chosen in sets.items():
        group = [r for r in rows if chosen(r)]
        k = sum(kept(r) for r in group)
        result[name] = {"detections": len(group), "kept": k}
        share = f"kept {k / len(group):.4f}, dropped {1 - k / len(group):.4f}" if group else "none"
        print(f"  {name:42s} {len(group):5d}  {share}")
    hands = [r for r in rows if r["file"] == "demo_clip.mp4" and r["label"] == "nonface"]
    print(f"  the demo clip's hand: {len(hands)} detections, {sum(kept(r) for r in hands)} kept")
    print(f"  found only by the second look (kept as masked faces): {len(second)}")
    for r in second:
        print(f"    {r['source']} {Path(r['file']).name} frame {r['frame']} {r['settings']} "
              f"box {[round(v) for v in r['box']]}")
    result["second look"] = second
    return result


if __name__ == "__main__":
    main()
