"""Changing a gallery file when other programs may change it too: under its lock, on what the file
holds at that moment, then written, so two enrolments, an enrolment and a forget, or the service
and the command line never lose each other's change."""
from __future__ import annotations

from pathlib import Path


def change_gallery(path, change, new=None):
    """Lock the gallery file at path, read it afresh (new(): the gallery to start from when there
    is no file yet; without it a missing file is an error), apply change(gallery) and write it.
    Returns (what change returned, the gallery as written)."""
    from ..files import exclusive
    from .gallery import Gallery

    with exclusive(path):
        gallery = Gallery.load(path) if Path(path).exists() or new is None else new()
        result = change(gallery)
        gallery.save(path)
    return result, gallery


def merge_people(gallery, draft, names, embedder=None, added_from: int | None = None) -> None:
    """Carry what was done to draft (a copy changed without the lock) into gallery (the file as it
    now stands).  added_from None: each of names gets the faces it has in draft (replaced: a
    folder of people enrolled again); a row number: draft's rows from there on are added, each
    (person, photo) once, so faces another program added or forgot meanwhile stay as it left them."""
    if embedder is not None:
        gallery.check_model(embedder, "the gallery")
    gallery.false_accept = draft.false_accept
    if added_from is not None:
        have = set(zip(gallery.labels, gallery.sources))
        rows = [i for i in range(added_from, len(draft.labels))
                if (gallery.known_as(draft.labels[i]), draft.sources[i]) not in have]
        if rows:
            gallery.add_many([draft.labels[i] for i in rows], draft.embeddings[rows], [draft.sources[i] for i in rows],
                             draft.masked_embeddings[rows])
        return
    for name in names:
        embeddings, sources = draft.person(name)
        if len(embeddings):
            gallery.enrol(name, embeddings, sources, draft.masked_of(name))
