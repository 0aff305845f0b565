"""Hard video for the tracker: cuts at the same place between an enrolled person and the stranger
who looks most like them, and the two walking past each other.

For each of 12 lfw-dev people (3 photos enrolled in a gallery of the 12), the most similar of the
1,000 lfw-singles strangers (nearest to the person's enrolled faces).  Two clips each, 30 frames/s,
the faces pasted on one fixed background (so the frame around them never changes):
- cut: the person (another photo) 1.5 s, the stranger in the same place 1.5 s, the person again;
- walk: the two crossing the frame in opposite directions, the person in front.
The tracks found in each frame are matched to the face they overlap most (IoU >= 0.3) of those at
least half in view.  Reported: tracks
that covered both people (an appearance spanning two), tracks named while on the stranger (a
stranger named), and tracks on the person that got their name (known named).
Usage: python bench/cut_clips.py   (runs on whatever facerec is importable: PYTHONPATH picks one)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FPS, SIZE, FACE = 30, (640, 360), 150


def _people(rec, n: int = 12):
    """[(name, enrolled paths, clip photos (2), stranger path, distance)] for n lfw-dev people."""
    from facerec.people_folders import read_people

    dev = [(name, paths) for name, paths in read_people(SHARED / "lfw-dev") if len(paths) >= 5][:n]
    singles = [p for _, ps in read_people(SHARED / "lfw-singles") for p in ps]
    S = rec.faces_of_files(singles, progress=False)
    keep = [i for i, ff in enumerate(S) if len(ff) and ff.subject() is not None]
    X = np.stack([S[i].embeddings[S[i].subject()] for i in keep])
    out = []
    for name, paths in dev:
        E = [ff.embeddings[ff.subject()] for ff in rec.faces_of_files(paths[:3], progress=False) if len(ff)]
        d = np.min(np.linalg.norm(X[:, None] - np.stack(E)[None], axis=2), axis=1)
        j = int(np.argmin(d))
        out.append((name, paths[:3], paths[3:5], singles[keep[j]], float(d[j])))
    return out


def _face(path) -> np.ndarray:
    """The middle of an LFW photo (where its face is), FACE pixels square, RGB."""
    import cv2

    from facerec import load_image

    im = load_image(path)
    return cv2.resize(im[50:200, 50:200], (FACE, FACE), interpolation=cv2.INTER_AREA)


def _background() -> np.ndarray:
    import cv2

    from facerec import load_image

    scene = load_image(sorted((SHARED / "lfw-unknown").glob("*/*.jpg"))[0])
    return cv2.GaussianBlur(cv2.resize(scene, SIZE), (0, 0), 12)


def _paste(frame, face, x, y):
    frame[y:y + FACE, x:x + FACE] = face
    return (x, y, x + FACE, y + FACE)


def cut_clip(person, photos, stranger):
    """Frames and, per frame, {who: box}: the person, the stranger in the same place, the person."""
    bg, rng = _background(), np.random.default_rng(0)
    faces = [(_face(photos[0]), person), (_face(stranger), "stranger"), (_face(photos[1]), person)]
    for face, who in faces:
        for _ in range(45):
            f = bg.copy()
            box = _paste(f, face, 245 + int(rng.integers(-3, 4)), 100 + int(rng.integers(-3, 4)))
            yield f, {who: box}


def walk_clip(person, photos, stranger):
    """The stranger walks left, the person right, crossing in the middle (the person in front)."""
    bg, a, s = _background(), _face(photos[0]), _face(stranger)
    for k in range(90):
        x_a, x_s = 20 + k * 5, 470 - k * 5
        f = bg.copy()
        truth = {"stranger": _paste(f, s, x_s, 110)}
        truth[person] = _paste(f, a, x_a, 110)
        yield f, truth


def _iou(a, b):
    x1, y1, x2, y2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    area = lambda z: (z[2] - z[0]) * (z[3] - z[1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def _whose(box, truth: dict):
    """The face a track's box is on: of the faces at least half in view (the last pasted is in
    front), the one it overlaps most, if by IoU >= 0.3."""
    boxes = list(truth.items())
    in_view = []
    for k, (who, b) in enumerate(boxes):
        covered = max((_iou(b, front) * 2 * FACE ** 2 / (1 + _iou(b, front)) / FACE ** 2
                       for _, front in boxes[k + 1:]), default=0.0)  # share of b under later faces
        if covered <= 0.5:
            in_view.append((_iou(box, b), who))
    best = max(in_view, default=(0.0, None))
    return best[1] if best[0] >= 0.3 else None


def score(rec, frames) -> dict:
    """Tracks that spanned both people, tracks named while on the stranger, known named."""
    rec.video(detect_every=2, embed_every=5, min_face_size=40)
    on, names = {}, {}  # track id -> people it covered; track id -> names it had on each
    for i, (frame, truth) in enumerate(frames):
        for t in rec.track(frame, i):
            if t.last_seen != i:  # a box carried over from an earlier detection: it has not looked
                continue
            who = _whose(t.box, truth)
            if who is None:
                continue
            on.setdefault(t.id, set()).add(who)
            names.setdefault((t.id, who), set()).add(t.name)
    named = lambda n: n not in ("Unknown", "...")  # noqa: E731
    spans = sum(len(p) > 1 for p in on.values())
    stranger_named = sum(any(named(n) for n in ns) for (tid, who), ns in names.items() if who == "stranger")
    person = [(tid, ns) for (tid, who), ns in names.items() if who != "stranger"]
    known = sum(any(named(n) for n in ns) for _, ns in person)
    return {"tracks": len(on), "spans": spans, "stranger_named": stranger_named, "known_tracks": len(person),
            "known_named": known}


def main(argv=None):
    if not (SHARED / "lfw-singles").is_dir():
        print(f"skipped: {SHARED} not available")
        return None
    from facerec.identity.enrolment import enrol_people
    from facerec.identity.gallery import Gallery
    from facerec.recognizer import Recognizer

    base = Recognizer.for_model("default")
    people = _people(base)
    gallery = Gallery.for_embedder(base.embedder)
    enrol_people(gallery, base.pipeline, [(n, e) for n, e, _, _, _ in people], progress=False)
    rec = Recognizer(gallery, base.embedder, source="bench gallery")
    print(f"gallery: {len(people)} people x 3 photos; each one's most similar lfw-singles stranger at "
          f"{np.median([d for *_, d in people]):.3f} median distance (from {min(d for *_, d in people):.3f})")
    totals = {}
    for kind, clip in (("cut", cut_clip), ("walk", walk_clip)):
        rows = [score(rec, clip(n, photos, s)) for n, _, photos, s, _ in people]
        totals[kind] = {k: sum(r[k] for r in rows) for k in rows[0]}
        t = totals[kind]
        print(f"{kind:>5}: {len(rows)} clips, {t['tracks']} tracks; spanning two people {t['spans']}; "
              f"strangers named {t['stranger_named']}; tracks on the known person named {t['known_named']} "
              f"of {t['known_tracks']}")
    return totals


if __name__ == "__main__":
    main()
