"""Is ``probability`` the chance the answer is right?  Reliability of galleries' and classifiers' answers.

Galleries of 1, 3, 12 and 86 lfw-dev people with 1-5 photos each (chosen at random per trial);
probes: as many of the enrolled people's other photos as strangers (lfw-unknown, lfw-singles and
the lfw-dev people not enrolled), each photo's subject face, weighed as soft where it is (as the
front ends do: 1.5% of lfw-dev's faces are).  Every answer (a name or Unknown) is
binned by its probability and compared with how often such answers were right: the expected
calibration error (ECE, 10 bins), strangers named and known faces named right, for a Gallery and
for a FaceClassifier trained on the same photos (2 people at least).  Half the probes are strangers,
the prior facerec assumes; ECE is also given with strangers reweighted to 10% and 90% of the probes.
With --soft every probe (known and stranger) is first made soft: blurred (Gaussian, or motion
along a random line) or shrunk to 14-32 px wide and back, redrawn until its sharpness is under
detection.quality.SHARP, a mix unlike bench/soft_calibration.py's fixed renderings; answers are
given with and without the soft flag (the model's soft-face statistics against the bare ones).
Usage: python bench/probability.py [--out reliability.png] [--trials-scale 1.0] [--soft]
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
    """Each photo's subject face: (names, embeddings, whether each is soft, as the front ends judge it)."""
    from facerec.detection.quality import soft_flags
    from facerec.people_folders import read_people

    names, paths = [], []
    for name, ps in read_people(folder):
        names += [name] * len(ps)
        paths += [str(p) for p in ps]
    files = rec.faces_of_files(paths, progress=False)
    keep = [(n, f.embeddings[f.subject()], f.sharpness[f.subject()]) for n, f in zip(names, files)
            if len(f) and f.subject() is not None]
    return np.array([k[0] for k in keep]), np.stack([k[1] for k in keep]), soft_flags([k[2] for k in keep])


def _soft_rendering(image, width, rng):
    """The image made soft one random way: Gaussian blur, motion blur, or shrunk and grown back."""
    import cv2

    way = rng.integers(3)
    if way == 0:
        return cv2.GaussianBlur(image, (0, 0), float(rng.uniform(1.5, 3.5)))
    if way == 1:
        n = int(rng.integers(7, 15))
        kernel = np.zeros((n, n), np.float32)
        kernel[n // 2] = 1.0 / n
        turn = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
        kernel = cv2.warpAffine(kernel, turn, (n, n))
        return cv2.filter2D(image, -1, kernel / max(kernel.sum(), 1e-6))
    f = min(1.0, float(rng.uniform(14, 32)) / max(width, 1.0))
    small = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)


def _soft_subjects(rec, folder, rng, tries=4):
    """Like _subjects, each photo's subject face made soft (_soft_rendering until its sharpness is
    under SHARP; a photo that never comes out soft has a NaN row)."""
    from facerec.detection.quality import SHARP, sharpness
    from facerec.images import load_image
    from facerec.people_folders import read_people

    names, vectors = [], []
    pipe = rec.pipeline
    for name, paths in read_people(folder):
        for path, ff in zip(paths, rec.faces_of_files([str(p) for p in paths], progress=False)):
            j = ff.subject() if len(ff) else None
            if j is None:
                continue
            image, box, marks = load_image(path), ff.boxes[j:j + 1], ff.landmarks[j:j + 1]
            vector = np.full(pipe.embedder.dim, np.nan, np.float32)  # in _subjects' order: NaN when never soft
            for _ in range(tries):
                chip = pipe.chips(_soft_rendering(image, float(box[0, 2] - box[0, 0]), rng), box, marks)
                if sharpness(chip[0]) < SHARP:
                    vector = pipe.embedder.embed(chip)[0]
                    break
            names.append(name)
            vectors.append(vector)
    return np.array(names), np.stack(vectors), np.ones(len(names), bool)


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


def _trial(rng, size, dev_names, dev_emb, strangers, dev_probes):
    """One gallery (1-5 photos of each of size lfw-dev people, dev_emb) and its probes: the people's
    other photos as dev_probes has them (vectors, soft flags: bare, or made soft with NaN rows left
    out) and as many strangers (vectors, soft flags).  Returns (gallery vectors, their names,
    probes, the probes' soft flags, the probes' true names)."""
    people = rng.choice(np.unique(dev_names), size, replace=False)
    enrolled, labels, known = [], [], []
    for p in people:
        idx = rng.permutation(np.flatnonzero(dev_names == p))
        k = int(rng.integers(1, 6))
        enrolled.append(dev_emb[idx[:k]]); labels += [p] * k
        known.append(idx[k:])
    known = np.concatenate(known)
    known = known[np.isfinite(dev_probes[0][known]).all(axis=1)]
    others = np.flatnonzero(~np.isin(dev_names, people))
    pool = (np.concatenate([strangers[0], dev_probes[0][others]]), np.concatenate([strangers[1], dev_probes[1][others]]))
    whole = np.isfinite(pool[0]).all(axis=1)
    pool = (pool[0][whole], pool[1][whole])
    n = min(len(known), 200)
    ki, si = rng.choice(known, n, replace=False), rng.choice(len(pool[0]), n, replace=False)
    probes = np.concatenate([dev_probes[0][ki], pool[0][si]])
    soft = np.concatenate([dev_probes[1][ki], pool[1][si]])
    return np.concatenate(enrolled), np.array(labels), probes, soft, np.concatenate([dev_names[ki], ["Unknown"] * n])


def _answer(kind, rec, E, L, probes, soft=None):
    from facerec.identity.gallery import Gallery

    if kind == "gallery":
        g = Gallery.for_embedder(rec.embedder)
        g.add_many(list(L), E, [f"{n}#{i}" for i, n in enumerate(L)])
        return g.identify(probes, soft=soft)
    from facerec.identity.classifier import FaceClassifier, embedder_info
    from facerec.identity.openset import shipped

    clf = FaceClassifier(distance_stats=shipped(rec.embedder.name), embedder_info=embedder_info(rec.embedder))
    return clf.fit(E, L).identify(probes, soft=soft)


def measure(rec, data, kind, size, trials, rng, soft=None):
    """Answers over trials of one gallery size; soft: how the probes are weighed (None: soft where
    their sharpness says so, as the front ends do; False: all as sharp; True: all as soft)."""
    names, probs, truth = [], [], []
    for _ in range(trials):
        E, L, probes, flags, t = _trial(rng, size, *data)
        ids = _answer(kind, rec, E, L, probes, flags if soft is None else np.full(len(probes), soft))
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
    ap.add_argument("--soft", action="store_true", help="probes made soft, weighed as sharp and as soft faces")
    args = ap.parse_args(argv)
    if not (SHARED / "lfw-singles").is_dir():
        print(f"skipped: {SHARED} not available")
        return None
    from facerec.recognizer import Recognizer

    rec = Recognizer.for_model("default")
    dev_names, dev_emb, dev_soft = _subjects(rec, SHARED / "lfw-dev")
    parts = ("lfw-unknown", "lfw-singles")
    if args.soft:
        soft_rng = np.random.default_rng(7)
        strangers = [_soft_subjects(rec, SHARED / d, soft_rng)[1:] for d in parts]
        dev_probes, ways = _soft_subjects(rec, SHARED / "lfw-dev", soft_rng)[1:], (False, True)
    else:
        strangers = [_subjects(rec, SHARED / d)[1:] for d in parts]
        dev_probes, ways = (dev_emb, dev_soft), (None,)
    data = (dev_names, dev_emb, tuple(np.concatenate(a) for a in zip(*strangers)), dev_probes)
    print(f"{'identifier':>10}{'people':>7}{'weighed':>8}{'answers':>8}{'ECE':>7}{'ECE 10%':>8}{'ECE 90%':>8}"
          f"{'strangers named':>16}{'known right':>12}")
    rows, curves = {}, {}
    for kind in ("gallery", "classifier"):
        for size, trials in SIZES.items():
            if kind == "classifier" and size < 2:
                continue
            for soft in ways:
                rng = np.random.default_rng(size)
                row, probs, right = measure(rec, data, kind, size, max(1, round(trials * args.trials_scale)), rng, soft)
                rows[f"{kind}-{size}" + ("-soft" if soft else "")] = row
                if soft is not False:
                    curves[(kind, size)] = (probs, right, row["ece"])
                weighed = {None: "", False: "sharp", True: "soft"}[soft]
                print(f"{kind:>10}{size:>7}{weighed:>8}{row['answers']:>8}{row['ece']:>7.3f}"
                      f"{row['ece_10pct_strangers']:>8.3f}{row['ece_90pct_strangers']:>8.3f}"
                      f"{row['strangers_named']:>16.4f}{row['known_named_right']:>12.4f}")
    _plot(curves, args.out)
    print(f"reliability diagram: {args.out}")
    return rows


if __name__ == "__main__":
    main()
