"""Lookalike strangers: how often the stranger most like an enrolled person is named, beside how
often that person's own other photos are.

Galleries of 1, 3, 12 and 86 lfw-dev people (3 photos each, people with at least 5 photos): the
86 people are split into galleries of each size (86 of one person, 28 of three, 7 of twelve, one of
all), so every size is measured on every person and their lookalike.
For each enrolled person, their lookalike is the lfw-singles stranger nearest to any of their
enrolled faces (1,000 candidates).  Known: the person's other photos, each photo's subject face.
Usage: python bench/lookalikes.py
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _subject_embeddings(rec, paths):
    files = rec.faces_of_files(paths, progress=False)
    return [(ff.path, ff.embeddings[ff.subject()]) for ff in files if len(ff) and ff.subject() is not None]


def main(argv=None):
    if not (SHARED / "lfw-singles").is_dir():
        print(f"skipped: {SHARED} not available")
        return None
    from facerec.identity.gallery import Gallery
    from facerec.people_folders import read_people
    from facerec.recognizer import Recognizer

    rec = Recognizer.for_model("default")
    dev = [(n, p) for n, p in read_people(SHARED / "lfw-dev") if len(p) >= 5]
    singles = _subject_embeddings(rec, [p for _, ps in read_people(SHARED / "lfw-singles") for p in ps])
    S = np.stack([e for _, e in singles])
    people = []
    for name, paths in dev:
        enrolled = np.stack([e for _, e in _subject_embeddings(rec, paths[:3])])
        others = _subject_embeddings(rec, paths[3:])
        d = np.linalg.norm(S[:, None] - enrolled[None], axis=2).min(axis=1)
        people.append((name, enrolled, [e for _, e in others], S[int(np.argmin(d))], float(d.min())))
    print(f"{len(people)} lfw-dev people; their lookalikes at median distance "
          f"{np.median([p[4] for p in people]):.3f} (range {min(p[4] for p in people):.3f}-"
          f"{max(p[4] for p in people):.3f})")
    print(f"{'gallery':>8}{'lookalikes':>12}{'known named right':>19}{'lookalikes named':>18}{'as their person':>17}")
    rows = {}
    for size in (1, 3, 12, len(people)):
        k_right, l_named, l_as = [], [], []
        for start in range(0, len(people) - size + 1, size):
            group = people[start:start + size]
            g = Gallery.for_embedder(rec.embedder)
            for name, enrolled, _, _, _ in group:
                g.add(name, enrolled, [f"{name}#{i}" for i in range(len(enrolled))])
            known = [(name, e) for name, _, others, _, _ in group for e in others]
            k_names = g.identify(np.stack([e for _, e in known])).names
            l_names = g.identify(np.stack([p[3] for p in group])).names
            k_right += [n == t for n, (t, _) in zip(k_names, known)]
            l_named += [n != "Unknown" for n in l_names]
            l_as += [n == p[0] for n, p in zip(l_names, group)]
        right, named, as_person = np.mean(k_right), np.mean(l_named), np.mean(l_as)
        rows[size] = {"known_named": float(right), "lookalikes_named": float(named), "as_their_person": float(as_person)}
        print(f"{size:>8}{len(l_named):>12}{right:>19.3f}{named:>18.3f}{as_person:>17.3f}")
    return rows


if __name__ == "__main__":
    main()
