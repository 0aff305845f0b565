"""Masked faces on lfw-dev's pairs: found, and told apart, beside the same pairs bare.

6,000 pairs (`facerec pairs`: 10 folds x 300 same + 300 different).  The second photo of each
pair is taken from a masked copy of lfw-dev (`facerec mask`, seed 0: every face found wears a
mask, surgical / cloth / N95 in several colours).  For bare and masked second photos:
- pairs with no face found in one of the photos;
- accuracy at the model's same-person distance (what `facerec verify` says), and the share of
  same-person pairs said to be the same;
- 10-fold accuracy (FaceNet's validate_on_lfw protocol).
Usage: python bench/masked_pairs.py [--out bench/out/masked-lfw-dev]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"


def masked_copy(out: Path) -> Path:
    """lfw-dev with masks drawn on (made once; a rerun keeps it)."""
    from facerec.batch.mask_folder import mask_folder

    done = mask_folder(SHARED / "lfw-dev", out, seed=0)
    print(f"masked copy {out}: {done.written} written, {done.kept} kept, {len(done.no_face)} without a face")
    return out


def pair_embeddings(pipe, root: Path, paths, side: int):
    files = [str(root / Path(pair[side]).relative_to(SHARED / "lfw-dev")) for pair in paths]
    faces = {f.path: f for f in pipe.files(sorted(set(files)), progress=False)}
    out = []
    for f in files:
        ff = faces.get(f)
        j = ff.subject() if ff is not None and len(ff) else None
        out.append(None if j is None else ff.embeddings[j])
    return out


def score(e1, e2, same, threshold):
    from facerec.evaluation import evaluate

    keep = [k for k, (a, b) in enumerate(zip(e1, e2)) if a is not None and b is not None]
    a, b, s = np.stack([e1[k] for k in keep]), np.stack([e2[k] for k in keep]), same[keep]
    d = np.linalg.norm(a - b, axis=1)
    r = evaluate(a, b, s, n_folds=10)
    return {"no_face": len(same) - len(keep), "at_distance": float(np.mean((d <= threshold) == s)),
            "same_said_same": float(np.mean(d[s] <= threshold)), "ten_fold": float(r["accuracy"])}


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=str(HERE / "out" / "masked-lfw-dev"))
    args = p.parse_args(argv)
    if not (SHARED / "lfw-dev").is_dir():
        print(f"skipped: {SHARED} not available")
        return None
    import tempfile

    from facerec.embedding import load_embedder
    from facerec.evaluation import make_pairs, pair_paths, read_pairs
    from facerec.pipeline import FacePipeline

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(make_pairs(SHARED / "lfw-dev", n_folds=10, per_fold=300, seed=0))
    paths, same, _ = pair_paths(SHARED / "lfw-dev", read_pairs(f.name))
    masked = masked_copy(Path(args.out))
    emb = load_embedder("default")
    pipe = FacePipeline(emb, cache=False)
    t = time.perf_counter()
    first = pair_embeddings(pipe, SHARED / "lfw-dev", paths, 0)
    bare = pair_embeddings(pipe, SHARED / "lfw-dev", paths, 1)
    masked_second = pair_embeddings(pipe, masked, paths, 1)
    print(f"{len(paths)} pairs, embedded in {time.perf_counter() - t:.0f} s")
    result = {}
    print(f"{'second photo':<14}{'no face (pairs)':>16}{'acc at ' + format(emb.same_person_distance, '.3f'):>14}"
          f"{'same said same':>16}{'10-fold':>9}")
    for name, second in (("bare", bare), ("masked", masked_second)):
        r = result[name] = score(first, second, same, emb.same_person_distance)
        print(f"{name:<14}{r['no_face']:>16d}{r['at_distance']:>14.4f}{r['same_said_same']:>16.4f}{r['ten_fold']:>9.4f}")
    return result


if __name__ == "__main__":
    main()
