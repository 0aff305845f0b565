"""The main job end to end on the default model, from photos a registry package ships.

Gallery: Obama (two photos) and Biden from face_recognition 1.3.0's source distribution; the
stranger: scikit-image's astronaut when installed. Aligns the gallery, trains, classifies photos
not used in training, renders a short clip of them, runs the real-time tool on it headless and
says where the annotated video and the events log are.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from .errors import FacerecError
from .wording import counted


def _stranger():
    try:
        from skimage import data

        return data.astronaut()
    except ImportError:
        return None


def render_clip(photos: list, path: Path, fps: int = 15, seconds_each: float = 2.5, size=(640, 360)) -> Path:
    """A slow zoom over each photo in turn, letterboxed into size, as an mp4."""
    import cv2

    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        raise FacerecError(f"{path}: cannot write a video there")
    try:
        for rgb in photos:
            n = int(fps * seconds_each)
            for i in range(n):
                zoom = 1.0 + 0.15 * i / max(1, n - 1)
                ph, pw = rgb.shape[:2]
                f = min(w / pw, h / ph) * zoom
                scaled = cv2.resize(rgb, (max(1, int(pw * f)), max(1, int(ph * f))), interpolation=cv2.INTER_AREA)
                canvas = np.zeros((h, w, 3), np.uint8)
                sh, sw = scaled.shape[:2]
                y0, x0 = max(0, (sh - h) // 2), max(0, (sw - w) // 2)
                crop = scaled[y0:y0 + h, x0:x0 + w]
                oy, ox = (h - crop.shape[0]) // 2, (w - crop.shape[1]) // 2
                canvas[oy:oy + crop.shape[0], ox:ox + crop.shape[1]] = crop
                writer.write(np.ascontiguousarray(canvas[:, :, ::-1]))
    finally:
        writer.release()
    return path


# What a demo writes in its folder: a rerun replaces these and refuses a folder holding anything else.
DEMO_FILES = ("gallery", "test_photos", "aligned", "classifier.npz", "clip.mp4", "annotated.mp4", "events.jsonl")


def _clear_earlier_demo(out: Path) -> None:
    """Remove an earlier demo's files from out, and nothing else: a folder of the user's that happens
    to have that name is refused before anything in it is touched."""
    from .errors import FacerecError

    if out.exists() and not out.is_dir():
        raise FacerecError(f"{out} is a file; the demo writes a folder there: choose another --out")
    if not out.exists():
        return
    others = sorted(p.name for p in out.iterdir() if p.name not in DEMO_FILES and not p.name.startswith("."))
    if others:
        raise FacerecError(f"{out} holds files the demo did not write ({', '.join(others[:3])}"
                           f"{', ...' if len(others) > 3 else ''}): choose another --out")
    for name in DEMO_FILES:
        p = out / name
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        elif p.exists() or p.is_symlink():
            p.unlink()


def run_demo(out_dir="demo_output", log=print) -> dict:
    from PIL import Image

    from . import samples
    from .batch.align_dataset import align_dataset, format_summary
    from .images import load_image
    from .recognizer import Recognizer
    from .identity.training import describe_unknown_rule, train_classifier
    from .video.realtime import run_video

    src = samples.find()
    if src is None:
        log("Fetching sample photos (face_recognition 1.3.0 source distribution) from the package registry")
        src = samples.fetch()
    out = Path(out_dir)
    _clear_earlier_demo(out)
    gallery = out / "gallery"
    for person, photos in (("Barack_Obama", ["obama.jpg", "obama2.jpg"]), ("Joe_Biden", ["biden.jpg"])):
        (gallery / person).mkdir(parents=True)
        for p in photos:
            shutil.copy(src / p, gallery / person / p)
    test = out / "test_photos"
    test.mkdir(parents=True)
    shutil.copy(src / "obama3.jpg", test / "obama3.jpg")
    stranger = _stranger()
    if stranger is not None:
        Image.fromarray(stranger).save(test / "stranger_astronaut.png")

    log("\n== 1. Align the gallery (align_dataset.py)")
    s = align_dataset(gallery, out / "aligned", progress=False)
    log(format_summary(s, out / "aligned"))
    log("\n== 2. Train (classifier.py TRAIN)")
    clf = train_classifier(out / "aligned")
    log(f"People: {', '.join(clf.class_names)}")
    log(describe_unknown_rule(clf))
    clf_path = out / "classifier.npz"
    clf.save(clf_path)
    log(f'Saved classifier model to file "{clf_path}"')
    log("\n== 3. Classify photos not used in training (classifier.py CLASSIFY)")
    rec = Recognizer(clf)
    photos = sorted(test.iterdir())
    for res in rec.recognize_files(photos, progress=False):
        for face in res.faces:
            box = ", ".join(str(int(v)) for v in face.box)
            log(f"  {face.name}: {face.probability:.3f}  ({Path(res.path).name}, face at {box})")
    log("\n== 4. Render a clip of those photos and recognise it (real_time_face_recognition.py --no-display)")
    clip = render_clip([load_image(p) for p in photos], out / "clip.mp4")
    annotated, events = out / "annotated.mp4", out / "events.jsonl"
    stats = run_video(str(clip), rec, output=annotated, log=events, display=False)
    log(f"Processed {counted(stats.frames, 'frame')} in {stats.seconds:.1f} s ({stats.fps:.1f} fps)")
    for e in sorted(stats.events, key=lambda e: e["start_s"]):
        log(f"  {e['start_s']:5.1f}-{e['end_s']:5.1f} s  {e['name']} ({e['probability']:.2f})")
    log(f"\nAnnotated video: {annotated.resolve()}\nEvents log:      {events.resolve()}")
    return {"annotated": annotated, "events": stats.events}
