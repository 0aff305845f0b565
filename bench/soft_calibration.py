"""The default model's distances for soft faces (identity/calibration/dlib-resnet-v1-soft.json).

A face too blurred to enrol (detection.quality: its chip's sharpness under SHARP) is
still named, but its embedding wanders: two photos of one person come farther apart and strangers
a little nearer, so the bare statistics would make its answer sound surer than it is.  What
Gallery.soft_side() weighs such a face with: every photo of the 2,499 shared LFW photos (lfw-dev,
lfw-unknown, lfw-singles; 1,286 people), its subject face blurred (Gaussian sigma 1.5, 2, 3 px),
smeared as by motion (9 and 13 px, across and along) and shrunk (to 32, 24, 16 px wide and back),
each rendering that comes out soft as a probe against every other photo's bare face: pairs of one
person are genuine, of two people impostors.
Usage: python bench/soft_calibration.py [--write]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"
PARTS = ("lfw-dev", "lfw-unknown", "lfw-singles")
BLURS = (1.5, 2.0, 3.0)   # Gaussian sigma, px
SMEARS = ((9, 0), (13, 90))  # motion blur: length px, direction degrees
WIDTHS = (32, 24, 16)     # face width shrunk to, px


def renderings(image: np.ndarray, width: float) -> list[np.ndarray]:
    """The image blurred and shrunk in each of the ways above (the face's width is width px)."""
    import cv2

    out = [cv2.GaussianBlur(image, (0, 0), s) for s in BLURS]
    for n, angle in SMEARS:
        line = np.zeros((n, n), np.float32)
        line[n // 2] = 1.0
        line = cv2.warpAffine(line, cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), angle, 1.0), (n, n))
        out.append(cv2.filter2D(image, -1, line / line.sum()))
    for w in WIDTHS:
        f = min(1.0, w / max(width, 1.0))
        small = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        out.append(cv2.resize(small, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR))
    return out


def soft_probes(pipe):
    """(soft probe embeddings, their photo's index, bare embeddings, person labels) over PARTS."""
    from facerec.detection.quality import SHARP, sharpness
    from facerec.images import load_image
    from facerec.people_folders import read_people

    probes, photo_of, bare, labels = [], [], [], []
    for part in PARTS:
        people = read_people(SHARED / part)
        paths = [p for _, ps in people for p in ps]
        owner = [f"{part}/{name}" for name, ps in people for _ in ps]
        for name, path, ff in zip(owner, paths, pipe.files(paths, progress=False)):
            j = ff.subject() if len(ff) else None
            if j is None:
                continue
            image, box, marks = load_image(path), ff.boxes[j:j + 1], ff.landmarks[j:j + 1]
            chips = np.concatenate([pipe.chips(r, box, marks) for r in renderings(image, box[0, 2] - box[0, 0])])
            soft = [c for c in chips if sharpness(c) < SHARP]
            if soft:
                probes.append(pipe.embedder.embed(np.stack(soft)))
                photo_of += [len(bare)] * len(soft)
            bare.append(ff.embeddings[j])
            labels.append(name)
        print(f"{part}: {len(labels)} photos, {len(photo_of)} soft probes so far")
    return np.concatenate(probes), np.array(photo_of), np.array(bare), np.array(labels)


def measure_soft(probes, photo_of, bare, labels, model: str):
    """DistanceStats of soft probes against every other photo's bare face."""
    from facerec.identity.openset import GRID, DistanceStats

    _, y = np.unique(labels, return_inverse=True)
    gen, imp = np.zeros(len(GRID) + 1, np.int64), np.zeros(len(GRID) + 1, np.int64)
    for s in range(0, len(probes), 512):
        p, owner = probes[s:s + 512], photo_of[s:s + 512]
        d = np.sqrt(np.maximum(2 - 2 * p @ bare.T, 0))
        other = owner[:, None] != np.arange(len(bare))[None]
        same = y[owner][:, None] == y[None]
        bins = np.searchsorted(GRID, d, side="left")
        gen += np.bincount(bins[other & same], minlength=len(GRID) + 1)
        imp += np.bincount(bins[other & ~same], minlength=len(GRID) + 1)
    return DistanceStats(model, np.cumsum(imp)[:-1] / imp.sum(), np.cumsum(gen)[:-1] / gen.sum(),
                         int(imp.sum()), int(gen.sum()), len(np.unique(y)), len(probes))


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--write", action="store_true", help="replace the shipped statistics")
    args = p.parse_args(argv)
    if not (SHARED / "lfw-singles").is_dir():
        print(f"skipped: {SHARED} not available")
        return None
    from facerec.embedding import load_embedder
    from facerec.identity.openset import shipped
    from facerec.pipeline import FacePipeline

    emb = load_embedder("default")
    stats = measure_soft(*soft_probes(FacePipeline(emb)), f"{emb.name}-soft")
    print(f"{stats.faces} soft faces of {stats.identities} people: {stats.genuine_pairs} genuine and "
          f"{stats.impostor_pairs} impostor pairs")
    for name, s in (("bare", shipped(emb.name)), ("soft", stats)):
        limit = s.acceptance_distance(1, 0.01)
        print(f"  {name:>4}: 1% of impostors under {limit:.3f}; genuine pairs within it {s.known_accepted(limit):.3f}")
    if args.write:
        out = HERE.parent / "src/facerec/identity/calibration" / f"{stats.model}.json"
        out.write_text(stats.to_json())
        print(f"wrote {out}")
    return stats


if __name__ == "__main__":
    main()
