"""Masked faces against galleries enrolled bare: known people named right, strangers named.

Galleries of 12 and 86 lfw-dev people (their first 3 photos, bare; the 86 split into 7 galleries
of 12, and one of all); probes: each person's other photos and 1,200 strangers (lfw-unknown's 200
and lfw-singles' 1,000: one in a hundred is a dozen faces), bare and masked (`facerec mask`
copies, seed 0).  Each probe is its photo's subject face as the detector finds it in that photo.
For every probe set:
- "compared bare": masked faces matched against the enrolled faces as they are (before);
- "masked path": faces the mask check calls masked matched against the enrolled faces rendered
  masked, with the model's masked statistics, and those it is unsure of weighed both ways
  (Gallery.identify given the mask check's chances; what identify, realtime and serve do now).
Usage: python bench/masked_galleries.py
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"


def probes(pipe, paths):
    """(embeddings, masked chances, index into paths) of each photo's subject face."""
    out = []
    for k, ff in enumerate(pipe.files([str(p) for p in paths], progress=False)):
        j = ff.subject() if len(ff) else None
        if j is not None:
            out.append((ff.embeddings[j], ff.masked[j], k))
    return (np.array([o[0] for o in out]), np.array([o[1] for o in out]), [o[2] for o in out])


def masked_twin(path: Path) -> Path:
    part = path.relative_to(SHARED).parts[0]
    return HERE / "out" / f"masked-{part}" / path.relative_to(SHARED / part)


def main(argv=None):
    if not (SHARED / "lfw-unknown").is_dir():
        print(f"skipped: {SHARED} not available")
        return None
    from facerec.batch.mask_folder import mask_folder
    from facerec.detection.mask_check import MASKED
    from facerec.embedding import load_embedder
    from facerec.identity.enrolment import enrol_people
    from facerec.identity.gallery import Gallery
    from facerec.people_folders import read_people
    from facerec.pipeline import FacePipeline

    for part in ("lfw-dev", "lfw-unknown", "lfw-singles"):
        mask_folder(SHARED / part, HERE / "out" / f"masked-{part}", seed=0)
    emb = load_embedder("default")
    pipe = FacePipeline(emb)
    people = [(n, [Path(p) for p in ps]) for n, ps in read_people(SHARED / "lfw-dev") if len(ps) >= 4]
    strangers = [Path(p) for part in ("lfw-unknown", "lfw-singles") for _, ps in read_people(SHARED / part) for p in ps]
    known = [(n, p) for n, ps in people for p in ps[3:]]
    sets = {}
    for look, twin in (("bare", lambda p: p), ("masked", masked_twin)):
        sets[look] = (probes(pipe, [twin(p) for _, p in known]), probes(pipe, [twin(p) for p in strangers]))
    full = Gallery.for_embedder(emb)
    enrol_people(full, pipe, [(n, ps[:3]) for n, ps in people], progress=False)
    rng = np.random.default_rng(0)
    order = [n for n, _ in people]
    rng.shuffle(order)
    sizes = {12: [order[k:k + 12] for k in range(0, len(order) - 11, 12)], len(order): [order]}
    print(f"{len(people)} people with 4+ photos; known probes {len(known)}, strangers {len(strangers)}")
    print(f"{'gallery':>8} {'probes':<8} {'compared':<14}{'known named right':>18}{'strangers named':>17}"
          f"{'seen masked':>13}")
    result = {}
    for size, groups in sizes.items():
        for look in ("bare", "masked"):
            for route in ("compared bare", "masked path"):
                r = _measure(full, groups, known, sets[look], route == "masked path", MASKED)
                result[(size, look, route)] = r
                print(f"{size:>8} {look:<8} {route:<14}{r['known']:>18.4f}{r['strangers']:>17.4f}{r['seen']:>13.4f}")
    return result


def _measure(full, groups, known, probe_sets, masked_path: bool, masked_at: float) -> dict:
    (ke, km, kk), (se, sm, _) = probe_sets
    right = named = seen = total_k = total_s = 0
    for group in groups:
        g = full.copy()
        g.forget([n for n in set(g.labels) if n not in group])
        mine = np.array([known[k][0] in group for k in kk], bool)
        # the mask check's chances, as the front ends pass them (a face it is unsure of is weighed both ways)
        flags_k = km[mine].astype(float) if masked_path else None
        flags_s = sm.astype(float) if masked_path else None
        names_k = g.identify(ke[mine], masked=flags_k).names
        names_s = g.identify(se, masked=flags_s).names
        truth = [known[k][0] for k, m in zip(kk, mine) if m]
        right += sum(a == b for a, b in zip(names_k, truth))
        named += sum(n != "Unknown" for n in names_s)
        seen += int(np.sum(km[mine] >= masked_at) + np.sum(sm >= masked_at))
        total_k += len(truth)
        total_s += len(names_s)
    return {"known": right / total_k, "strangers": named / total_s, "seen": seen / (total_k + total_s)}


if __name__ == "__main__":
    main()
