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


def merge_people(gallery, draft, names, embedder=None) -> None:
    """Give each of names in gallery the faces it has in draft (a copy changed without the lock);
    a name draft holds no face of keeps what it had."""
    if embedder is not None:
        gallery.check_model(embedder, "the gallery")
    gallery.false_accept = draft.false_accept
    for name in names:
        embeddings, sources = draft.person(name)
        if len(embeddings):
            gallery.enrol(name, embeddings, sources)
