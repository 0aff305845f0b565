"""Is ``probability`` the chance the answer is right?  Reliability of galleries' and classifiers' answers.

Galleries of 1, 3, 12 and 86 lfw-dev people with 1-5 photos each (chosen at random per trial);
probes: as many of the enrolled people's other photos as strangers (lfw-unknown, lfw-singles and
the lfw-dev people not enrolled), each photo's subject face.  Every answer (a name or Unknown) is
binned by its probability and compared with how often such answers were right: the expected
calibration error (ECE, 10 bins), strangers named and known faces named right, for a Gallery and
for a FaceClassifier trained on the same photos (2 people at least).  Half the probes are strangers,
the prior facerec assumes; ECE is also given with strangers reweighted to 10% and 90% of the probes.
Usage: python bench/probability.py [--out reliability.png] [--trials-scale 1.0]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SIZES = {1: 150, 3: 100, 12: 60, 86: 10}  # gallery size: trials
BINS = 10
MIN_IN_BIN = 20  # bins with fewer answers are left off the diagram (they still count in ECE)
COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red")


def _subjects(rec, folder):
    from facerec.people_folders import read_people

    names, paths = [], []
    for name, ps in read_people(folder):
        names += [name] * len(ps)
        paths += [str(p) for p in ps]
    files = rec.faces_of_files(paths, progress=False)
    keep = [(n, f.embeddings[f.subject()]) for n, f in zip(names, files) if len(f) and f.subject() is not None]
    return np.array([k[0] for k in keep]), np.stack([k[1] for k in keep])


def ece(prob, right, weight=None):
    """Expected calibration error over BINS equal-width probability bins."""
    weight = np.ones(len(prob)) if weight is None else weight
    bins = np.minimum((prob * BINS).astype(int), BINS - 1)
    total = 0.0
    for b in range(BINS):
        m = bins == b
        if m.any():
            w = weight[m]
            total += w.sum() / weight.sum() * abs(np.average(prob[m], weights=w) - np.average(right[m], weights=w))
    return float(total)


def _trial(rng, size, dev_names, dev_emb, strangers):
    people = rng.choice(np.unique(dev_names), size, replace=False)
    enrolled, labels, known, truth = [], [], [], []
    for p in people:
        idx = rng.permutation(np.flatnonzero(dev_names == p))
        k = int(rng.integers(1, 6))
        enrolled.append(dev_emb[idx[:k]]); labels += [p] * k
        known.append(dev_emb[idx[k:]]); truth += [p] * (len(idx) - k)
    known, truth = np.concatenate(known), np.array(truth)
    pool = np.concatenate([strangers, dev_emb[~np.isin(dev_names, people)]])
    n = min(len(known), 200)
    ki, si = rng.choice(len(known), n, replace=False), rng.choice(len(pool), n, replace=False)
    probes = np.concatenate([known[ki], pool[si]])
    return np.concatenate(enrolled), np.array(labels), probes, np.concatenate([truth[ki], ["Unknown"] * n])


def _answer(kind, rec, E, L, probes):
    from facerec.identity.gallery import Gallery

    if kind == "gallery":
        g = Gallery.for_embedder(rec.embedder)
        g.add_many(list(L), E, [f"{n}#{i}" for i, n in enumerate(L)])
        return g.identify(probes)
    from facerec.identity.classifier import FaceClassifier, embedder_info
    from facerec.identity.openset import shipped

    clf = FaceClassifier(distance_stats=shipped(rec.embedder.name), embedder_info=embedder_info(rec.embedder))
    return clf.fit(E, L).identify(probes)


def measure(rec, data, kind, size, trials, rng):
    names, probs, truth = [], [], []
    for _ in range(trials):
        E, L, probes, t = _trial(rng, size, *data)
        ids = _answer(kind, rec, E, L, probes)
        names += list(ids.names); probs.append(np.asarray(ids.probabilities, float)); truth.append(t)
    names, probs, truth = np.array(names), np.concatenate(probs), np.concatenate(truth)
    right, stranger = names == truth, truth == "Unknown"
    row = {"answers": len(names), "ece": ece(probs, right),
           "ece_10pct_strangers": ece(probs, right, np.where(stranger, 1 / 9, 1.0)),
           "ece_90pct_strangers": ece(probs, right, np.where(stranger, 9.0, 1.0)),
           "strangers_named": float(np.mean(names[stranger] != "Unknown")),
           "known_named_right": float(np.mean(right[~stranger]))}
    return row, probs, right


def _plot(curves, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
    for ax, kind in zip(axes, ("gallery", "classifier")):
        ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect")
        for (k, size), (probs, right, e) in curves.items():
            if k != kind:
                continue
            bins = np.minimum((probs * BINS).astype(int), BINS - 1)
            full = [b for b in range(BINS) if (bins == b).sum() >= MIN_IN_BIN]
            xs = [probs[bins == b].mean() for b in full]
            ys = [right[bins == b].mean() for b in full]
            colour = COLOURS[list(SIZES).index(size)]
            ax.plot(xs, ys, color=colour, lw=1, label=f"{size} people (ECE {e:.3f})")
            ax.scatter(xs, ys, color=colour, s=[4 + 2 * np.sqrt((bins == b).sum()) for b in full])
        ax.set(title=f"{kind}: answers binned by probability\n(dot area ~ answers; bins of {MIN_IN_BIN}+)", xlabel="probability (mean in bin)",
               ylabel="share of answers right", xlim=(0, 1), ylim=(0, 1.02))
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="reliability.png", help="the reliability diagram (PNG)")
    ap.add_argument("--trials-scale", type=float, default=1.0, help="multiply every size's trials")
    args = ap.parse_args(argv)
    if not (SHARED / "lfw-singles").is_dir():
        print(f"skipped: {SHARED} not available")
        return None
    from facerec.recognizer import Recognizer

    rec = Recognizer.for_model("default")
    dev_names, dev_emb = _subjects(rec, SHARED / "lfw-dev")
    strangers = np.concatenate([_subjects(rec, SHARED / d)[1] for d in ("lfw-unknown", "lfw-singles")])
    print(f"{'identifier':>10}{'people':>7}{'answers':>8}{'ECE':>7}{'ECE 10%':>8}{'ECE 90%':>8}"
          f"{'strangers named':>16}{'known right':>12}")
    rows, curves = {}, {}
    for kind in ("gallery", "classifier"):
        for size, trials in SIZES.items():
            if kind == "classifier" and size < 2:
                continue
            rng = np.random.default_rng(size)
            row, probs, right = measure(rec, (dev_names, dev_emb, strangers), kind, size,
                                        max(1, round(trials * args.trials_scale)), rng)
            rows[f"{kind}-{size}"], curves[(kind, size)] = row, (probs, right, row["ece"])
            print(f"{kind:>10}{size:>7}{row['answers']:>8}{row['ece']:>7.3f}{row['ece_10pct_strangers']:>8.3f}"
                  f"{row['ece_90pct_strangers']:>8.3f}{row['strangers_named']:>16.4f}{row['known_named_right']:>12.4f}")
    _plot(curves, args.out)
    print(f"reliability diagram: {args.out}")
    return rows


if __name__ == "__main__":
    main()
