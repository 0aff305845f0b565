"""Enrolling people into a gallery: from folders of photos, from clusters, from a names file, from
uploaded photos.  Which face of a photo is the person's is the pipeline's FaceChoice.CLOSEST: a
photo's only face; in a photo of several, the one closest to the person's other faces (their
single-face photos and what is already enrolled), else the photo's subject."""
from __future__ import annotations

import os

import numpy as np

from ..errors import FacerecError
from ..pipeline import FaceChoice, FacePipeline
from ..wording import counted
from .enrolment_checks import left_out_strays, quality_problem
from .protocol import person_name

NO_USABLE_FACE = "no usable face; not enrolled"  # the note of a person none of whose photos helped


def person_reference(files, known: np.ndarray) -> np.ndarray | None:
    """What a person looks like, to pick their face in a group photo: the mean of their
    single-face photos (FileFaces) and their enrolled embeddings known (K, D); None with neither."""
    dim = known.shape[1]
    single = np.asarray([ff.embeddings[0] for ff in files if not ff.error and len(ff) == 1], np.float32)
    pool = np.concatenate([single.reshape(-1, dim), known])
    return pool.mean(axis=0) if len(pool) else None


def choose_person_faces(name: str, files, known: np.ndarray, problem=None) -> tuple[list, list, list, list]:
    """(embeddings, sources, notes, masked renderings): the person's face in each of their photos
    (FileFaces); a rendering is zeros where the files were embedded without them.  problem(ff, j):
    why face j of a photo is not worth enrolling ('' when it is; enrolment_checks), if given."""
    ref = person_reference(files, known)
    chosen, sources, notes, masked = [], [], [], []
    for ff in files:
        if ff.error or not len(ff):
            notes.append(f"{ff.path}: {ff.error or 'no face found'}; skipped")
            continue
        j = ff.choose(FaceChoice.CLOSEST, ref)[0]
        why = problem(ff, j) if problem is not None else ""
        if why:
            notes.append(f"{ff.path}: the face is {why}; not enrolled")
            continue
        if len(ff) > 1:
            at = ", ".join(str(int(v)) for v in ff.boxes[j])
            how = f"the one at {at} (closest to {name}'s other photos)" if ref is not None else f"the central one at {at}"
            notes.append(f"{ff.path}: {len(ff)} faces; enrolled {how}")
        chosen.append(ff.embeddings[j])
        sources.append(ff.path)
        masked.append(np.zeros_like(ff.embeddings[j]) if ff.masked_embeddings is None else ff.masked_embeddings[j])
    return chosen, sources, notes, masked


def enrol_people(gallery, pipeline, people, progress: bool = True, replace: bool = False) -> list[str]:
    """Add each (name, photo paths) to gallery with a FacePipeline (or an Embedder): a person's
    new faces join the ones they have, a photo already enrolled for them is not added twice, and
    a face far from all of them is left out; with replace, the photos' faces become all the
    person has (a folder that is the whole truth).  Returns notes."""
    pipeline = FacePipeline.of(pipeline)
    notes = []
    for name, _ in people:  # every name before any photo is embedded
        person_name(name)
    for name, paths in people:
        # Kept as absolute paths, so a rerun from another folder knows a photo already enrolled.
        paths = [os.path.abspath(p) for p in paths]
        known, enrolled = (np.zeros((0, 1)), set()) if replace else _enrolled(gallery, name)
        new = [p for p in paths if p not in enrolled]
        if len(new) < len(paths):
            notes.append(f"{name}: {counted(len(paths) - len(new), 'photo')} already enrolled; not added again")
        if not new:
            continue
        # Each face also rendered masked, for masked faces to be compared with (Gallery.masked_side).
        files = pipeline.files(list(new), progress=progress, masked_renderings=True)
        chosen, sources, found, masked = choose_person_faces(name, files, gallery.faces_of(name),
                                                             quality_problem)
        chosen, sources, masked, strays = left_out_strays(name, chosen, sources, masked, known, pipeline.embedder)
        notes += found + strays
        if not chosen:
            notes.append(f"{name}: {NO_USABLE_FACE}")
            continue
        (gallery.enrol if replace else gallery.add)(name, np.stack(chosen), sources, np.stack(masked))
    return notes


def _enrolled(gallery, name: str) -> tuple[np.ndarray, set]:
    """A person's enrolled faces (K x D) and the photos they came from, as absolute paths."""
    faces, sources = gallery.person(name)
    return faces, {os.path.abspath(s) for s in sources}


def filmed_faces(pipeline, name: str, capture, source: str, known: np.ndarray) -> tuple:
    """(embeddings N x D, sources, masked renderings N x D, notes) of the faces a camera or video
    capture chose (video.capture.Capture), each also rendered masked; a face far from the person's
    other faces (known, and the rest filmed) is left out."""
    person_name(name)
    chosen = capture.chosen
    masked = [pipeline.masked_renderings(c.crop, *(a[None] for a in c.in_crop()))[0] for c in chosen]
    sources = [f"{source} at {capture.at(c):.1f} s" for c in chosen]
    kept, sources, masked, notes = left_out_strays(name, [c.embedding for c in chosen], sources, masked, known,
                                                   pipeline.embedder)
    if not kept:
        raise FacerecError(f"{name}: every face filmed is far from the faces enrolled for {name}: not enrolled")
    return np.stack(kept), sources, np.stack(masked), notes


def enrol_capture(gallery, pipeline, name: str, capture, source: str) -> list[str]:
    """Add the faces a capture chose to a person of gallery (filmed_faces); returns notes."""
    vectors, sources, masked, notes = filmed_faces(pipeline, name, capture, source, gallery.faces_of(name))
    gallery.add(name, vectors, sources, masked)
    return notes


def enrol_clusters(gallery, pipeline, rows, names: dict, progress: bool = True,
                   faces: dict | None = None) -> list[str]:
    """Enrol clusters of a clusters file (facerec cluster) as people: names maps a cluster
    number to a name.  A cluster's faces are added to what the person already has.  faces
    (path -> FileFaces, from a faces file) saves embedding the photos again.  Returns notes."""
    for name in names.values():
        person_name(name)
    present = {int(r["cluster"]) for r in rows if r.get("cluster") not in (None, "")}
    missing = sorted(set(names) - present)
    if missing:
        raise FacerecError(f"no cluster {', '.join(map(str, missing))} in the clusters file "
                           f"(it has {len(present)}: 1 to {max(present, default=0)})")
    wanted = [(int(r["cluster"]), r["path"], r["face"]) for r in rows
              if r.get("cluster") not in (None, "") and int(r["cluster"]) in names and r["face"] is not None]
    paths = sorted({p for _, p, _ in wanted})
    if faces is None:
        faces = {ff.path: ff for ff in FacePipeline.of(pipeline).files(paths, progress=progress)}
    notes, added = [], {}
    for number, path, face in wanted:
        ff = faces.get(path)
        if ff is None:
            notes.append(f"{path}: not in the faces file; skipped")
            continue
        if ff.error or face >= len(ff):
            notes.append(f"{path}: {ff.error or f'face {face} not found (the photo changed since clustering?)'}; skipped")
            continue
        added.setdefault(names[number], []).append((ff.embeddings[face], f"{path}#{face}"))
    have = set(zip(gallery.labels, gallery.sources))
    labels, vectors, sources = [], [], []
    for name, items in added.items():
        kept = gallery.known_as(name)  # alice where Alice is enrolled: Alice's faces, compared as hers
        new = [(e, s) for e, s in items if (kept, s) not in have]  # naming a cluster twice adds nothing twice
        labels += [name] * len(new)
        vectors += [e for e, _ in new]
        sources += [s for _, s in new]
        notes.append(f"{name}: {len(new)} faces added from clusters "
                     f"{', '.join(str(n) for n, v in sorted(names.items()) if v == name)}")
    if labels:
        gallery.add_many(labels, np.stack(vectors), sources)
    return notes


def enrol_named_faces(gallery, files, named) -> list[str]:
    """Enrol faces already embedded (FileFaces from a faces file) by a list of (path, face, name):
    face None means the photo's face (its only one, or by far its largest).  Each face is added to what its person has; one
    person's faces and a hundred thousand people's go in one step.  Returns notes."""
    by_path = {ff.path: ff for ff in files}
    # A path as typed for facerec embed (relative to where it ran) finds its photo either way.
    by_path.update({os.path.abspath(p): ff for p, ff in list(by_path.items()) if os.path.abspath(p) not in by_path})
    have = set(zip(gallery.labels, gallery.sources))
    labels, vectors, sources, notes = [], [], [], []
    for path, face, name in named:
        person_name(name)
        ff = by_path.get(path) or by_path.get(os.path.abspath(path))
        if ff is None or ff.error or not len(ff):
            notes.append(f"{path}: {'not in the faces file' if ff is None else ff.error or 'no face found'}; skipped")
            continue
        k = face
        if k is None:  # the photo's face: its only one, or one at least twice the area of any other
            picked = ff.choose(FaceChoice.DOMINANT)
            if not picked:
                notes.append(f"{path}: holds {len(ff)} faces of similar size; say which in the names file's "
                             f"face column; skipped")
                continue
            k = picked[0]
        if not 0 <= k < len(ff):
            notes.append(f"{path}: has no face {k}; skipped")
            continue
        source = f"{path}#{k}"
        if (gallery.known_as(name), source) in have:
            continue
        have.add((gallery.known_as(name), source))
        labels.append(name)
        vectors.append(ff.embeddings[k])
        sources.append(source)
    if named and not any(by_path.get(p) or by_path.get(os.path.abspath(p)) for p, _, _ in named):
        raise FacerecError(f"none of the {len(named)} photos named is in the faces file (first: {named[0][0]}); "
                           f"write their paths as facerec embed was given them")
    if labels:
        gallery.add_many(labels, np.stack(vectors), sources)
    notes.append(f"{counted(len(labels), 'face')} of {counted(len(set(labels)), 'person')} added")
    return notes
