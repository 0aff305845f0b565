"""Enrolling from a video (facerec enrol --from-video): the faces it keeps against N evenly spaced
frames, and what each gallery then names.

For each of 12 lfw-dev people with 10 or more photos, a clip of half their photos shown in turn
(1 s each, 10 fps).  --degrade photos: every third photo degraded throughout, blurred (Gaussian,
3 px) or shrunk so the face is about 30 px wide (a slow zoom over each); --degrade moments: every
photo has its sharp moments and its degraded ones (3 frames of its 10 blurred, 2 shrunk), as a
person moving in front of a camera does.  From each clip, 10 faces are kept two ways: facerec's choice
(video.capture: good faces, as different as there are) and the faces of 10 evenly spaced frames
(the clip's face nearest the centre).  Printed: mean sharpness, the share of bad faces (too small or
blurred: detection.quality), diversity (mean distance between the kept embeddings).  Each way
makes a 12-person gallery; probes are the people's other photos (known named right) and the
1,200 lfw-unknown and lfw-singles strangers (strangers named).
Usage: python bench/enrol_from_video.py [--degrade photos|moments]
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"
PEOPLE, KEPT = 12, 10


def degraded(image: np.ndarray, k: int) -> np.ndarray:
    import cv2

    if k % 3 == 1:
        return cv2.GaussianBlur(image, (0, 0), 3)
    if k % 3 == 2:
        small = cv2.resize(image, (image.shape[1] // 4, image.shape[0] // 4), interpolation=cv2.INTER_AREA)
        return np.pad(small, ((image.shape[0] // 3, image.shape[0] // 3), (image.shape[1] // 3,) * 2, (0, 0)))
    return image


def clip_frames(images: list, how: str) -> tuple[list, float]:
    """(frames or photos for demo.render_clip, seconds each) for one person's photos."""
    if how == "photos":
        return [degraded(im, k) for k, im in enumerate(images)], 1.0
    frames = []
    for im in images:
        frames += [degraded(im, 1) if i in (2, 3, 4) else degraded(im, 2) if i in (6, 7) else im for i in range(10)]
    return frames, 0.1


def evenly_spaced(capture, n: int) -> list:
    """The face nearest the frame's centre in each of n evenly spaced frames looked at."""
    frames = sorted({c.frame for c in capture.candidates})
    picks = [frames[int(i)] for i in np.linspace(0, len(frames) - 1, n)]
    out = []
    for f in picks:
        faces = [c for c in capture.candidates if c.frame == f]
        out.append(min(faces, key=lambda c: abs((c.box[0] + c.box[2]) / 2 - 320) + abs((c.box[1] + c.box[3]) / 2 - 180)))
    return out


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--degrade", choices=["photos", "moments"], default="photos")
    args = ap.parse_args(argv)
    if not (SHARED / "lfw-dev").is_dir():
        print(f"skipped: {SHARED} not available")
        return
    from facerec import load_image
    from facerec.demo import render_clip
    from facerec.embedding import load_embedder
    from facerec.identity.gallery import Gallery
    from facerec.people_folders import read_people
    from facerec.pipeline import FacePipeline
    from facerec.video.capture import FaceCapture, choose_diverse, mean_distance
    from facerec.video.sources import FrameSource

    emb = load_embedder("default")
    pipe = FacePipeline(emb)
    people = [(n, ps) for n, ps in read_people(SHARED / "lfw-dev") if len(ps) >= 10][:PEOPLE]
    ways = {"facerec's choice": Gallery.for_embedder(emb), "10 evenly spaced frames": Gallery.for_embedder(emb)}
    stats = {w: [] for w in ways}
    probes = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, paths in people:
            shown, rest = paths[::2], paths[1::2]
            probes += [(name, p) for p in rest]
            frames, each = clip_frames([load_image(p) for p in shown], args.degrade)
            clip = render_clip(frames, Path(tmp) / "c.mp4", fps=10, seconds_each=each)
            capture = FaceCapture(pipe)
            src = FrameSource(str(clip))
            for index, frame in src:
                capture.add(np.ascontiguousarray(frame[:, :, ::-1]), index)
            src.close()
            person = capture.person()
            kept = {"facerec's choice": choose_diverse([c for c in person if not c.quality.problem], KEPT),
                    "10 evenly spaced frames": evenly_spaced(capture, KEPT)}
            for way, faces in kept.items():
                ways[way].add(name, np.stack([c.embedding for c in faces]), [f"{name} {c.frame}" for c in faces])
                stats[way].append((np.mean([c.quality.sharpness for c in faces]),
                                   np.mean([bool(c.quality.problem) for c in faces]),
                                   mean_distance([c.embedding for c in faces]), len(faces)))
    files = pipe.files([str(p) for _, p in probes], progress=False)
    known_x = np.stack([f.embeddings[f.subject()] for f in files if len(f)])
    truth = [n for (n, _), f in zip(probes, files) if len(f)]
    strangers = [p for d in ("lfw-unknown", "lfw-singles") for _, ps in read_people(SHARED / d) for p in ps]
    sf = [f for f in pipe.files(strangers, progress=False) if len(f)]
    strange_x = np.stack([f.embeddings[f.subject()] for f in sf])
    print(f"--degrade {args.degrade}: {len(people)} people, {KEPT} faces kept each; {len(truth)} known probes, "
          f"{len(strange_x)} strangers")
    print(f"{'':26}{'sharpness':>10}{'bad faces':>10}{'diversity':>10}{'known named right':>19}{'strangers named':>17}")
    for way, g in ways.items():
        s = np.array(stats[way])
        right = np.mean([a == b for a, b in zip(g.identify(known_x).names, truth)])
        named = np.mean([n != "Unknown" for n in g.identify(strange_x).names])
        print(f"{way:26}{s[:, 0].mean():10.1f}{s[:, 1].mean():10.1%}{s[:, 2].mean():10.3f}{right:19.2%}{named:17.2%}")


if __name__ == "__main__":
    main()
