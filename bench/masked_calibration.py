"""The default model's distances for masked faces (identity/calibration/dlib-resnet-v1-masked.json).

What Gallery.masked_side() weighs a masked face's distances with: for every photo of the 2,499
shared LFW photos (lfw-dev, lfw-unknown, lfw-singles; 1,286 people), the face as a masked probe
(found by the detector in the photo's masked copy, `facerec mask` seed 0) against every other
photo's face rendered in the enrolment masks (masks.RENDERINGS): pairs of one person are genuine,
of two people impostors.  The bare statistics beside it were measured on the same photos.

Masked faces are compared through a projection kept in the same file (openset.DistanceStats.project):
a whitening of the directions masks move a face in.  On the photos of lfw-unknown and lfw-singles
only (1,200 people lfw-dev's benches never see), the difference between each face seen masked and
its enrolment renderings is what a mask changes, not who the person is; its covariance S, shrunk
halfway to a sphere (S + mean eigenvalue x I), is undone by its inverse square root, so those
directions count for less (Hatch's within-class covariance normalisation).
Usage: python bench/masked_calibration.py [--write]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"
PARTS = ("lfw-dev", "lfw-unknown", "lfw-singles")


def probes_and_renderings(pipe):
    """(masked probe embeddings, renderings, person labels) of every photo found both ways."""
    from facerec.batch.mask_folder import mask_folder
    from facerec.people_folders import read_people

    probes, renderings, labels = [], [], []
    for part in PARTS:
        copy = HERE / "out" / f"masked-{part}"
        mask_folder(SHARED / part, copy, seed=0)
        people = read_people(SHARED / part)
        bare_paths = [p for _, paths in people for p in paths]
        owner = [name for name, paths in people for _ in paths]
        bare = pipe.files(bare_paths, progress=False, cache=False, masked_renderings=True)
        masked = pipe.files([str(copy / Path(p).relative_to(SHARED / part)) for p in bare_paths],
                            progress=False, cache=False)
        for name, b, m in zip(owner, bare, masked):
            jb, jm = (f.subject() if len(f) else None for f in (b, m))
            if jb is None or jm is None:
                continue
            probes.append(m.embeddings[jm])
            renderings.append(b.masked_embeddings[jb])
            labels.append(f"{part}/{name}")
        print(f"{part}: {len(labels)} photos so far")
    return np.array(probes), np.array(renderings), labels


def mask_whitening(probes: np.ndarray, renderings: np.ndarray, labels) -> np.ndarray:
    """The projection (D, D): (S + mean eigenvalue x I) ** -1/2, S the covariance of what a mask
    changes (probe - rendering of one photo) over the photos outside lfw-dev."""
    outside = np.array([not label.startswith("lfw-dev/") for label in labels])
    change = (probes - renderings)[outside].astype(np.float64)
    s = change.T @ change / len(change)
    s += np.eye(len(s)) * np.trace(s) / len(s)
    w, v = np.linalg.eigh(s)
    return (v @ np.diag(w ** -0.5) @ v.T).astype(np.float32)


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--write", action="store_true", help="replace the shipped statistics")
    args = p.parse_args(argv)
    if not (SHARED / "lfw-singles").is_dir():
        print(f"skipped: {SHARED} not available")
        return None
    from facerec.embedding import load_embedder
    from facerec.identity.openset import measure, shipped
    from facerec.pipeline import FacePipeline

    emb = load_embedder("default")
    probes, renderings, labels = probes_and_renderings(FacePipeline(emb, cache=False))
    whitening = mask_whitening(probes, renderings, labels)
    stats = measure(probes, labels, f"{emb.name}-masked", against=renderings, projection=whitening)
    bare = shipped(emb.name)
    print(f"{stats.faces} faces of {stats.identities} people: {stats.genuine_pairs} genuine and "
          f"{stats.impostor_pairs} impostor pairs")
    for name, s in (("bare", bare), ("masked", stats)):
        print(f"  {name:>6}: 1% of impostors under {s.acceptance_distance(1, 0.01):.3f}; "
              f"genuine pairs within it {s.known_accepted(s.acceptance_distance(1, 0.01)):.3f}")
    if args.write:
        out = Path(__file__).resolve().parents[1] / "src/facerec/identity/calibration" / f"{stats.model}.json"
        out.write_text(stats.to_json())
        print(f"wrote {out}")
    return stats


if __name__ == "__main__":
    main()
