"""Strangers named and known people named, per gallery size: nearest enrolled photo under the
calibrated acceptance distance (facerec.identity.openset) at a 1% false-accept target.

Known people: lfw-dev (galleries of 3, 10, 30 and 86 people with 1 or 3 enrolment photos each; the
rest of their photos are the probes).  Strangers: lfw-unknown + lfw-singles (1,200 faces).  20
random galleries per cell.  Caveat: the shipped statistics were measured on these same folders,
so this checks the arithmetic of the rule, not how it carries to new people.
With --path svm, the same cells for FaceNet's path: classifier.py TRAIN's SVM on the enrolled
photos, gated by the same rule (facerec.identity.training), names what it says.
Usage: python bench/open_set.py [--galleries 20] [--false_accept 0.01] [--path gallery|svm]
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("FACEREC_SHARED_DATA", HERE.parent.parent / "shared" / "data"))


def embeddings(embedder, folder):
    from facerec.people_folders import read_people
    from facerec.identity.training import embed_people

    ts = embed_people(embedder, read_people(folder), mirror=False, progress=False)
    return ts.embeddings, np.asarray(ts.names)[ts.labels], ts.groups


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--galleries", type=int, default=20)
    ap.add_argument("--false_accept", type=float, default=0.01)
    ap.add_argument("--count", choices=["rule", "photos", "people"], default="rule",
                    help="a stranger's chances: facerec's rule (geometric mean of people and photos), every "
                    "photo, or every person")
    ap.add_argument("--path", choices=["gallery", "svm"], default="gallery",
                    help="nearest enrolled photo (facerec enrol) or the SVM of classifier.py TRAIN")
    args = ap.parse_args(argv)
    if not (SHARED / "lfw-dev").is_dir():
        print(f"skipped: {SHARED} not available")
        return None
    from facerec import load_embedder, train_classifier
    from facerec.identity.openset import chances, shipped

    emb = load_embedder("default")
    stats = shipped(emb.name)
    X, names, _ = embeddings(emb, SHARED / "lfw-dev")
    S = np.concatenate([embeddings(emb, SHARED / d)[0] for d in ("lfw-unknown", "lfw-singles")])
    people = np.unique(names)
    rng = np.random.default_rng(0)
    what = "Nearest enrolled photo" if args.path == "gallery" else "classifier.py TRAIN's SVM"
    print(f"\n{what} under the calibrated distance ({args.false_accept:.0%} target), "
          f"{len(S)} stranger faces, {args.galleries} galleries per cell")
    print(f"{'people':>7}{'photos':>7}{'distance':>10}{'strangers named':>17}{'known named right':>19}")
    rows = []
    for n_people in (3, 10, 30, 86):
        for per in (1, 3):
            named_s, right_k = [], []
            for _ in range(args.galleries):
                chosen = rng.choice(people, size=n_people, replace=False)
                enrol, probe = [], []
                for p in chosen:
                    idx = rng.permutation(np.flatnonzero(names == p))
                    enrol += list(idx[:per])
                    probe += list(idx[per:])
                G, g_names = X[enrol], names[enrol]
                if args.path == "svm":
                    clf = train_classifier(G, labels=g_names, model=emb, false_accept=args.false_accept,
                                           progress=False)
                    d_acc = clf.max_distance_
                    named_s.append(np.mean(np.asarray(clf.identify(S)[0]) != "Unknown"))
                    right_k.append(np.mean(np.asarray(clf.identify(X[probe])[0]) == names[probe]))
                    continue
                m = {"rule": chances(n_people, len(enrol)), "photos": len(enrol), "people": n_people}[args.count]
                d_acc = stats.acceptance_distance(m, args.false_accept)
                ds = np.sqrt(np.maximum(2 - 2 * S @ G.T, 0)).min(axis=1)
                named_s.append(np.mean(ds <= d_acc))
                dk = np.sqrt(np.maximum(2 - 2 * X[probe] @ G.T, 0))
                nearest = dk.argmin(axis=1)
                ok = (dk[np.arange(len(probe)), nearest] <= d_acc) & (g_names[nearest] == names[probe])
                right_k.append(np.mean(ok))
            row = (n_people, per, d_acc, float(np.mean(named_s)), float(np.mean(right_k)))
            rows.append(row)
            print(f"{row[0]:7d}{row[1]:7d}{row[2]:10.4f}{row[3]:17.4f}{row[4]:19.4f}")
    return rows


if __name__ == "__main__":
    main()
