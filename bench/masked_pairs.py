"""Masked faces on lfw-dev's pairs: found, and told apart, beside the same pairs bare.

6,000 pairs (`facerec pairs`: 10 folds x 300 same + 300 different).  The second photo of each
pair is taken from a masked copy of lfw-dev (`facerec mask`, seed 0: every face found wears a
mask, surgical / cloth / N95 in several colours).  For bare and masked second photos, compared
bare (as before masks were handled) and on the masked path (facerec verify's: a face seen masked
is compared with the first face rendered masked, at the masked distance):
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


def pair_faces(pipe, root: Path, paths, side: int, renderings: bool = False):
    """Each pair's photo on one side: (embedding, masked chance, masked rendering), None without a face."""
    files = [str(root / Path(pair[side]).relative_to(SHARED / "lfw-dev")) for pair in paths]
    faces = {f.path: f for f in pipe.files(sorted(set(files)), progress=False, masked_renderings=renderings)}
    out = []
    for f in files:
        ff = faces.get(f)
        j = ff.subject() if ff is not None and len(ff) else None
        out.append(None if j is None else (ff.embeddings[j], float(ff.masked[j]),
                                           ff.masked_embeddings[j] if renderings else None))
    return out


def score(first, second, same, threshold, masked_threshold=None, masked_stats=None):
    """Accuracy figures of the pairs found both sides.  masked_threshold: compare a second face
    seen masked with the first rendered masked, at that distance (what facerec verify does);
    None: every pair compared bare, at threshold."""
    from facerec.detection.mask_check import MASKED
    from facerec.evaluation import evaluate

    keep = [k for k, (a, b) in enumerate(zip(first, second)) if a is not None and b is not None]
    routed = [masked_threshold is not None and second[k][1] >= MASKED for k in keep]
    a = np.stack([first[k][2] if m else first[k][0] for k, m in zip(keep, routed)])
    b = np.stack([second[k][0] for k in keep])
    s, t = same[keep], np.where(routed, masked_threshold or 0, threshold)
    d = np.linalg.norm(a - b, axis=1)
    if any(routed):  # as facerec verify compares a masked pair: through the masked statistics' projection
        r = np.array(routed)
        d[r] = np.linalg.norm(masked_stats.project(a[r]) - masked_stats.project(b[r]), axis=1)
    # 10-fold: FaceNet's protocol on the distances as compared; a masked pair's scale differs, so
    # each distance is taken past its own threshold (1 + d - t), and one fold threshold fits both
    r = evaluate(a, b, s, n_folds=10) if not any(routed) else _ten_fold(1 + d - t, s)
    return {"no_face": len(same) - len(keep), "at_distance": float(np.mean((d <= t) == s)),
            "same_said_same": float(np.mean(d[s] <= t[s])), "ten_fold": float(r["accuracy"]),
            "seen_masked": float(np.mean(routed)) if masked_threshold is not None else None}


def _ten_fold(d, same):
    """evaluate()'s 10-fold accuracy for distances given directly."""
    from facerec.evaluation import evaluate

    # evaluate() takes embeddings: points on a line at those distances apart give the same folds
    a = np.zeros((len(d), 2), np.float32)
    b = np.stack([d, np.zeros(len(d))], axis=1).astype(np.float32)
    return evaluate(a, b, same, n_folds=10)


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
    first = pair_faces(pipe, SHARED / "lfw-dev", paths, 0, renderings=True)
    bare = pair_faces(pipe, SHARED / "lfw-dev", paths, 1)
    masked_second = pair_faces(pipe, masked, paths, 1)
    print(f"{len(paths)} pairs, embedded in {time.perf_counter() - t:.0f} s")
    from facerec.identity.openset import shipped
    from facerec.verification import same_person_distance_for

    near, masked_near = emb.same_person_distance, same_person_distance_for(emb, emb.same_person_distance, "masked")
    result = {}
    print(f"{'second photo':<34}{'no face (pairs)':>16}{'acc at distance':>16}{'same said same':>16}"
          f"{'10-fold':>9}{'seen masked':>13}")
    for name, second, mt in (("bare", bare, None), ("bare, masked path on", bare, masked_near),
                             ("masked, compared bare", masked_second, None),
                             ("masked, masked path", masked_second, masked_near)):
        r = result[name] = score(first, second, same, near, mt, shipped(f"{emb.name}-masked"))
        seen = "" if r["seen_masked"] is None else f"{r['seen_masked']:.4f}"
        print(f"{name:<34}{r['no_face']:>16d}{r['at_distance']:>16.4f}{r['same_said_same']:>16.4f}"
              f"{r['ten_fold']:>9.4f}{seen:>13}")
    print(f"distances: bare {near:.4f}, masked {masked_near:.4f} (as many strangers through as bare)")
    return result


if __name__ == "__main__":
    main()
