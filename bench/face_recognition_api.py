"""facerec's face_recognition API against face_recognition 1.3.0 (dlib) on the same LFW photos.

1. Scale (--write ships it): for each tolerance t, the distance on facerec's scale that lets
   different people through no more often than face_recognition's t, in each of two groups of the
   shared LFW photos (lfw-dev's 86 people; the 1,200 people of lfw-unknown and lfw-singles): every
   pair of photos both libraries found a face in, each photo's central face.  The stricter of the
   two is kept, in identity/calibration/face_recognition-tolerance.json (facerec.tolerance).
2. On lfw-dev pairs (10 folds x 300 same + 300 different, `facerec pairs`): the share of
   different-person pairs called the same, and of same-person pairs called the same, at
   tolerance 0.6 and at each library's default.
3. dlib's 68-point landmarks (face_landmarks) against dlib's own on ../shared/data/dlib-reference:
   on dlib's boxes, and from facerec's face_locations.
4. face_locations + face_encodings per photo, each library in a fresh process on the same photos
   (after one warm-up photo): photos/s and peak memory.
Needs face_recognition and dlib (`make bench` installs them).
Usage: python bench/face_recognition_api.py [--write] [--photos 200]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"
PARTS = ("lfw-dev", "lfw-unknown", "lfw-singles")
CACHE = HERE / "out" / "face_recognition_lfw.npz"
CALIBRATION = HERE.parent / "src" / "facerec" / "identity" / "calibration" / "face_recognition-tolerance.json"
GROUPS = {"lfw-dev": ("lfw-dev",), "strangers": ("lfw-unknown", "lfw-singles")}
TOLERANCES = np.round(np.arange(0.30, 0.9001, 0.005), 3)


def lfw_photos() -> list[str]:
    return sorted(str(p) for d in PARTS for p in (SHARED / d).rglob("*.jpg"))


def face_recognition_embeddings(files) -> np.ndarray:
    """dlib's descriptor of each photo's central face, as face_recognition computes it (NaN: none)."""
    if CACHE.exists():
        with np.load(CACHE) as z:
            if list(z["files"]) == list(files):
                return z["embeddings"]
    import face_recognition as fr

    from facerec.pipeline import subject_face

    out = np.full((len(files), 128), np.nan, np.float32)
    for i, f in enumerate(files):
        image = fr.load_image_file(f)
        locs = fr.face_locations(image)
        if locs:
            j = subject_face(np.array([[l, t, r, b] for t, r, b, l in locs], np.float32), image.shape)
            out[i] = fr.face_encodings(image, [locs[j]])[0]
    CACHE.parent.mkdir(exist_ok=True)
    np.savez(CACHE, files=np.array(files), embeddings=out)
    return out


def facerec_embeddings(files) -> np.ndarray:
    """facerec's embedding of each photo's central face (NaN: none)."""
    from facerec.api import pipeline_for

    out = np.full((len(files), 128), np.nan, np.float32)
    for i, ff in enumerate(pipeline_for("default").files(files, progress=False)):
        j = ff.subject() if not ff.error and len(ff) else None
        if j is not None:
            out[i] = ff.embeddings[j]
    return out


def scale(files, fr_emb, ours, write: bool) -> None:
    from facerec.identity.openset import equally_strict, measure

    labels = np.array([Path(f).parent.name for f in files])
    part = np.array([Path(f).relative_to(SHARED).parts[0] for f in files])
    both = ~np.isnan(fr_emb[:, 0]) & ~np.isnan(ours[:, 0])
    per_group = []
    for name, parts in GROUPS.items():
        k = both & np.isin(part, parts)
        theirs, mine = measure(fr_emb[k], labels[k], "face_recognition"), measure(ours[k], labels[k], "facerec")
        per_group.append([equally_strict(t, theirs, mine) for t in TOLERANCES])
        print(f"{name}: {theirs.faces} faces of {theirs.identities} people, {theirs.impostor_pairs} different-person "
              f"pairs; tolerance 0.6 -> {per_group[-1][list(TOLERANCES).index(0.6)]:.4f}")
    table = np.min(per_group, axis=0)
    print(f"kept (the stricter): tolerance 0.6 -> {table[list(TOLERANCES).index(0.6)]:.4f}")
    if write:
        CALIBRATION.write_text(json.dumps({"format": "facerec-tolerance", "version": 1, "model": "dlib-resnet-v1",
                                           "photos": int(both.sum()), "tolerance": TOLERANCES.tolist(),
                                           "distance": [round(float(d), 4) for d in table]}) + "\n")
        print(f"written {CALIBRATION.relative_to(HERE.parent)}")


def pairs_table(files, fr_emb, ours) -> None:
    import facerec
    from facerec.evaluation import make_pairs, pair_paths
    from facerec.tolerance import distance_for_tolerance

    text = make_pairs(SHARED / "lfw-dev", per_fold=300)
    paths, same, _ = pair_paths(SHARED / "lfw-dev", [line.split() for line in text.splitlines()[1:]])
    index = {f: i for i, f in enumerate(files)}
    a = np.array([index[str(p)] for p, _ in paths])
    b = np.array([index[str(q)] for _, q in paths])
    same = np.asarray(same)
    both = ~np.isnan(fr_emb[a, 0]) & ~np.isnan(fr_emb[b, 0]) & ~np.isnan(ours[a, 0]) & ~np.isnan(ours[b, 0])
    d_fr = np.linalg.norm(fr_emb[a] - fr_emb[b], axis=1)
    d_us = np.linalg.norm(ours[a] - ours[b], axis=1)
    emb = facerec.load_embedder("default")
    rows = [("face_recognition, tolerance=0.6 (its default)", d_fr, 0.6),
            ("facerec compare_faces(tolerance=0.6)", d_us, distance_for_tolerance(0.6, emb)),
            ("facerec, 0.6 as a distance on its scale", d_us, 0.6),
            ("facerec compare_faces() (its default)", d_us, emb.same_person_distance)]
    for t in (0.5, 0.55, 0.65):
        rows.append((f"face_recognition, tolerance={t}", d_fr, t))
        rows.append((f"facerec compare_faces(tolerance={t})", d_us, distance_for_tolerance(t, emb)))
    print(f"\nlfw-dev pairs with a face in both photos for both libraries: {int(both.sum())} of {len(same)}")
    print(f"{'':48}{'distance':>9}{'different called same':>23}{'same called same':>18}")
    for name, d, limit in rows:
        diff = both & ~same
        print(f"{name:48}{limit:9.4f}{(d[diff] <= limit).mean():23.2%}{(d[both & same] <= limit).mean():18.2%}")


def landmarks68() -> None:
    from facerec import face_landmarks, face_locations, load_image_file
    root = SHARED / "dlib-reference"
    refs = json.loads((root / "reference.json").read_text())
    for how in ("dlib's boxes", "facerec's face_locations"):
        err = []
        for r in refs:
            image = load_image_file(root / r["image"])
            left, top, right, bottom = r["box_ltrb"]
            boxes = [(top, right, bottom, left)] if how == "dlib's boxes" else face_locations(image)
            ref = np.asarray(r["dlib_landmarks68"], float)
            best = None
            for found in face_landmarks(image, boxes):  # the face dlib's reference is of: the nearest
                e = np.linalg.norm(_ungroup(found) - ref, axis=1)
                best = e if best is None or e.mean() < best.mean() else best
            err.append(best)
        e = np.array(err)
        print(f"68-point landmarks on {len(refs)} faces from {how}: mean {e.mean():.3f} px, median face "
              f"{np.median(e.mean(1)):.3f} px, worst point {e.max():.2f} px, faces to the pixel {(e.max(1) == 0).sum()}")


def _ungroup(found: dict) -> np.ndarray:
    """The 68 points in dlib's order from face_landmarks' named groups."""
    from facerec.locations import LANDMARK_GROUPS

    pts = np.zeros((68, 2))
    for name, idx in LANDMARK_GROUPS.items():
        pts[list(idx)] = found[name]
    return pts


CHILD = """
import resource, sys, time
import {module} as fr
files = sys.argv[1:]
def one(f):
    image = fr.load_image_file(f)
    return len(fr.face_encodings(image, fr.face_locations(image)))
one(files[0])
t = time.perf_counter()
faces = sum(one(f) for f in files[1:])
took = time.perf_counter() - t
print(len(files) - 1, faces, took, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def speed(files) -> None:
    print(f"\nface_locations + face_encodings, {len(files) - 1} LFW photos (250x250) after one warm-up, fresh process each:")
    for label, module in (("face_recognition 1.3.0 (dlib, HOG)", "face_recognition"), ("facerec", "facerec")):
        out = subprocess.run([sys.executable, "-c", CHILD.format(module=module), *files], capture_output=True,
                             text=True, check=True).stdout.split()
        n, faces, took, rss = int(out[0]), int(out[1]), float(out[2]), float(out[3])
        print(f"  {label:38}{n / took:8.1f} photos/s {faces:6d} faces   peak {rss:6.0f} MB")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write the calibration file facerec ships")
    ap.add_argument("--photos", type=int, default=200, help="photos for the speed run")
    args = ap.parse_args(argv)
    if not (SHARED / "lfw-dev").is_dir():
        print(f"skipped: {SHARED} not available")
        return
    files = lfw_photos()
    t = time.perf_counter()
    fr_emb = face_recognition_embeddings(files)
    print(f"face_recognition's embeddings of {len(files)} photos ({time.perf_counter() - t:.0f} s)")
    ours = facerec_embeddings(files)
    scale(files, fr_emb, ours, args.write)
    pairs_table(files, fr_emb, ours)
    landmarks68()
    speed(files[:: max(1, len(files) // args.photos)][: args.photos + 1])


if __name__ == "__main__":
    main()
