"""A gallery of enrolled people that grows without retraining: nearest enrolled face, open-set rule.

Each person is a few embeddings (one per enrolment photo).  A face is named after its nearest
enrolled face when that face is within the acceptance distance the model's measured impostor
distances give for this gallery's size and the false-accept target (facerec.identity.openset);
otherwise it is Unknown.  Adding or forgetting a person touches only that person's rows.

From gallery_index.THRESHOLD faces on, the nearest face is found through an approximate-nearest-
neighbour index kept beside the file (``family.npz.index``, index_keeper.py): a few candidates
from the index, then their exact distances, then the same rule.  The file format is in
gallery_file.py; enrolling people from photos in enrolment.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import FacerecError
from . import gallery_index
from .index_keeper import IndexKeeper
from .protocol import UNKNOWN, Identities, check_threshold, name_key, person_name


def check_false_accept(value) -> None:
    """A false-accept target is a share of stranger faces: over 0 and under 1."""
    try:
        ok = 0 < float(value) < 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise FacerecError(f"false-accept rate {value} must be between 0 and 1 (a share of stranger faces)")


def masked_flags(masked, n: int, what: str = "masked") -> np.ndarray:
    """identify()'s soft argument (or masked, given as booleans) as n booleans (None: none)."""
    flags = np.zeros(n, bool) if masked is None else np.asarray(masked, bool).reshape(-1)
    if len(flags) != n:
        raise FacerecError(f"identify: {len(flags)} {what} flags for {n} faces")
    return flags


def _kept_form(name: str) -> str:
    """A name read from a file in the one form names take, where it can take it (an older
    facerec kept names as typed: "José" decomposed, spaces around); else as it was written."""
    try:
        return person_name(name)
    except FacerecError:
        return name


CANDIDATE_PEOPLE = 5  # people weighed for each face; farther ones change its chances by nothing visible


@dataclass
class _People:
    """A gallery's people: names (P,), each row's person (F,) and each person's photos (P,)."""

    names: list
    codes: np.ndarray
    photos: np.ndarray
    by_key: dict = field(default_factory=dict)  # protocol.name_key: the name enrolled
    spelled: frozenset = frozenset()  # every name exactly as enrolled
    floors: dict = field(default_factory=dict)  # false-accept target: the default floor, once worked out

    @classmethod
    def of(cls, labels) -> "_People":
        names, codes = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
        names = [str(n) for n in names]
        return cls(names, codes.reshape(-1), np.bincount(codes.reshape(-1), minlength=len(names)),
                   {name_key(n): n for n in names}, frozenset(names))


class Gallery:
    """Enrolled people's embeddings; identify() names faces or says Unknown.

    >>> g = Gallery.load("family.npz")                          # doctest: +SKIP
    >>> g.identify(face_encodings(load_image("door.jpg")))       # doctest: +SKIP
    Identities(names=['Alice'], probabilities=array([0.999]), distances=array([0.28]))
    """

    # identify() searches an index from this many enrolled faces on (None: never); the index's
    # library (None: gallery_index's choice).  Set on an instance to change one gallery.
    index_threshold: int | None = gallery_index.THRESHOLD
    index_library: str | None = None

    def __init__(self, embedder_info: dict, dim: int, false_accept: float = 0.01):
        self.embedder_info = dict(embedder_info)
        self.embeddings = np.zeros((0, dim), np.float32)
        # Each row's face rendered masked (masks.RENDERINGS), compared with masked faces; a row
        # enrolled without its photo (from a faces file) has none: zeros.
        self.masked_embeddings = np.zeros((0, dim), np.float32)
        self.labels: list[str] = []    # the person of each row
        self.sources: list[str] = []   # the photo of each row
        self.false_accept = false_accept
        self.threshold: float | None = None  # the probability floor; None: from false_accept
        self._stats = None
        self._odds = None
        self._people_cache = None
        self._also_named_by = None  # a soft side's gallery, whose rule must name a face too
        self.index_keeper = IndexKeeper()

    @property
    def false_accept(self) -> float:
        """The share of stranger faces the default floor lets the gallery name."""
        return self._false_accept

    @false_accept.setter
    def false_accept(self, value: float) -> None:
        check_false_accept(value)
        self._false_accept = float(value)
        self._views = {}  # the sides take the target when made

    @classmethod
    def for_embedder(cls, embedder, false_accept: float = 0.01) -> "Gallery":
        return cls({"name": embedder.name, "spec": embedder.spec, "key": embedder.key, "dim": embedder.dim},
                   embedder.dim, false_accept)

    def copy(self) -> "Gallery":
        """A new Gallery with the same faces, sharing nothing that a change could touch."""
        g = Gallery(self.embedder_info, self.embeddings.shape[1], self.false_accept)
        g.embeddings, g.masked_embeddings = self.embeddings.copy(), self.masked_embeddings.copy()
        g.labels, g.sources = list(self.labels), list(self.sources)
        g.threshold = self.threshold
        # Where its index can be read from (not the index: a change to it would reach this one's
        # readers): a copy changed and saved reads the file's index and adds its rows, where
        # building one anew takes 6.7 s at 45,000 faces.
        g.index_keeper.file, g.index_keeper.changed = self.index_keeper.file, self.index_keeper.changed
        return g

    # --- the people ---------------------------------------------------------------------------

    @property
    def class_names(self) -> list[str]:
        return sorted(set(self.labels))

    def people(self) -> list[tuple[str, int]]:
        """(name, enrolled photos) per person, by name."""
        counts: dict = {}
        for name in self.labels:
            counts[name] = counts.get(name, 0) + 1
        return sorted(counts.items())

    def known_as(self, name: str) -> str:
        """name as the gallery keeps it: its one form (protocol.person_name), or the spelling of the
        person already enrolled under it in another case or Unicode form."""
        if not self.labels:
            return person_name(name)
        people = self._people()
        if name in people.spelled:  # exactly as enrolled (an older file may hold alice and Alice)
            return name
        name = person_name(name)
        return people.by_key.get(name_key(name), name)

    def person(self, name: str) -> tuple[np.ndarray, list]:
        """A person's enrolled embeddings and the photo of each (none for a stranger)."""
        name = self.known_as(name)
        rows = [i for i, n in enumerate(self.labels) if n == name]
        return self.embeddings[rows], [self.sources[i] for i in rows]

    def faces_of(self, name: str) -> np.ndarray:
        """The embeddings enrolled for one person (0 rows for a stranger)."""
        return self.person(name)[0]

    def masked_of(self, name: str) -> np.ndarray:
        """A person's faces rendered masked, row for row with person(name) (zeros: none)."""
        name = self.known_as(name)
        return self.masked_embeddings[[i for i, n in enumerate(self.labels) if n == name]]

    def enrol(self, name: str, embeddings: np.ndarray, sources, masked: np.ndarray | None = None) -> None:
        """Set a person's enrolled faces (replacing any they had)."""
        name = self.known_as(name)
        self.forget([name], missing_ok=True)
        self.add(name, embeddings, sources, masked)

    def add(self, name: str, embeddings: np.ndarray, sources, masked: np.ndarray | None = None) -> None:
        """Add faces to a person (created if new), keeping the faces they had; masked: the same
        faces rendered masked (pipeline.masked_renderings), if their photos were at hand."""
        e = np.asarray(embeddings)
        e = e.reshape(1, -1) if e.ndim == 1 else e
        self.add_many([name] * len(e), e, sources, masked)

    def add_many(self, labels, embeddings: np.ndarray, sources, masked: np.ndarray | None = None) -> None:
        """Add many people's faces in one step (a row each): one copy of the gallery, not one per person."""
        from ..embedding.vectors import checked_embeddings, rendered_rows

        labels = self._kept_names(labels)
        dim = self.embeddings.shape[1]
        e = np.asarray(embeddings)
        e = checked_embeddings(e.reshape(-1, dim) if e.ndim == 1 else e, dim, "faces to enrol")
        m = np.zeros_like(e) if masked is None else np.asarray(masked, np.float32).reshape(-1, dim)
        checked_embeddings(m[rendered_rows(m)], dim, "masked renderings to enrol")
        if not len(labels) == len(e) == len(sources) == len(m):
            raise FacerecError("add_many: labels, embeddings, masked renderings and sources differ in length")
        self.embeddings = np.concatenate([self.embeddings, e])
        self.masked_embeddings = np.concatenate([self.masked_embeddings, m])
        self.labels += list(labels)
        self.sources += [str(s) for s in sources]
        self._people_cache, self._views = None, {}
        self.index_keeper.rows_added()

    def _kept_names(self, labels) -> list[str]:
        """Each label as the gallery keeps it (known_as), one spelling per person in this batch too."""
        by_key = dict(self._people().by_key) if self.labels else {}
        kept = {}
        for raw in dict.fromkeys(labels):  # in order: the first spelling of a new person is kept
            name = person_name(raw)
            kept[raw] = by_key.setdefault(name_key(name), name)
        return [kept[n] for n in labels]

    def forget(self, names, missing_ok: bool = False) -> list[str]:
        """Remove people (by any case or Unicode form of their names); returns the names removed."""
        names = {self.known_as(n) for n in names}
        unknown = names - set(self.labels)
        if unknown and not missing_ok:
            raise FacerecError(f"not in the gallery: {', '.join(sorted(unknown))}")
        keep = np.array([n not in names for n in self.labels], bool)
        if keep.all():
            return []
        if self.index_keeper.index is None and self._index_wanted():
            # The file's index still matches: follow it rather than rebuild it.
            self.index_keeper.ready(self.embeddings, self.index_library, build=False)
        self.embeddings = self.embeddings[keep] if len(keep) else self.embeddings
        self.masked_embeddings = self.masked_embeddings[keep] if len(keep) else self.masked_embeddings
        self.labels = [n for n, k in zip(self.labels, keep) if k]
        self.sources = [s for s, k in zip(self.sources, keep) if k]
        self._people_cache, self._views = None, {}
        self.index_keeper.rows_forgotten(keep)
        return sorted(names - unknown)

    # --- the open-set rule ----------------------------------------------------------------------

    @property
    def stats(self):
        if self._stats is None:
            from .openset import shipped

            self._stats = shipped(self.embedder_info.get("name", ""))
            if self._stats is None:
                raise FacerecError(f"no distance statistics for model '{self.embedder_info.get('name')}': "
                                   f"measure them with facerec calibrate")
        return self._stats

    @property
    def odds(self):
        """The model's AnswerOdds: the chance each answer is right."""
        if self._odds is None:
            from .odds import AnswerOdds

            self._odds = AnswerOdds(self.stats)
        return self._odds

    def _people(self) -> _People:
        if self._people_cache is None:  # counting 10,000 people's names would cost more than the search
            self._people_cache = _People.of(self.labels)
        return self._people_cache

    def chances(self) -> float:
        """How many independent chances a stranger has against this gallery (openset.chances)."""
        from .openset import chances

        return chances(len(self._people().names), len(self.labels))

    def acceptance_distance(self) -> float:
        """The distance under which the default floor names a lone candidate, for this gallery's
        size and false-accept target."""
        return self.stats.acceptance_distance(self.chances(), self.false_accept)

    def probability_floor(self) -> float:
        """The chance of being right under which an answer is Unknown: ``threshold`` when set, else
        the lowest that keeps strangers named to false_accept for these people and photos."""
        if self.threshold is not None:
            return self.threshold
        people = self._people()
        if self.false_accept not in people.floors:
            people.floors[self.false_accept] = self.odds.floor_for(people.photos, self.false_accept)
        return people.floors[self.false_accept]

    def masked_rule(self) -> str:
        """The line that says the floor of this gallery as a masked side (masked_side()): its own,
        higher than the bare one, since masked strangers come closer."""
        return (f"A masked face: at least {self.probability_floor():.3f} (the same target with the model's "
                f"masked-face distances): expected masked strangers named {self.strangers_named():.2%}")

    def strangers_named(self) -> float:
        """The expected share of stranger faces named at probability_floor() (identity.odds)."""
        return self.odds.strangers_named(self.probability_floor(), self._people().photos)

    def use_threshold(self, threshold: float | None) -> None:
        """Name a face only when the chance the name is right is at least threshold (None: the default)."""
        check_threshold(threshold)
        self.threshold = threshold

    def identify(self, X, masked=None, soft=None) -> Identities:
        """The likeliest enrolled person, or Unknown when the chance that person is right is under
        probability_floor(), for each face; probability: the chance the answer given is right
        (identity.odds); distance to the nearest enrolled face.  masked (N,) bool: faces seen
        masked, compared with the enrolled faces rendered masked (masked_side()); soft (N,) bool:
        faces too blurred to enrol, weighed with the model's soft-face statistics
        (soft_side()).  A face both masked and soft is weighed as masked.  masked may be the
        mask check's chances instead: a face it is unsure of is weighed both ways (mask_state)."""
        from ..detection.mask_check import MASKED
        from .mask_state import answered_either_way, mask_chances, unsure

        X = np.asarray(X, np.float32).reshape(-1, self.embeddings.shape[1])
        chance, soft = mask_chances(masked, len(X)), masked_flags(soft, len(X), "soft")
        doubt = unsure(chance) & ~soft  # a soft face keeps the soft statistics' rule, and the cut
        if doubt.any() and len(self.labels) and self.masked_side() is not self:
            return Identities.merged(doubt, answered_either_way(self, X[doubt], chance[doubt]),
                                     self.identify(X[~doubt], chance[~doubt] >= MASKED, soft[~doubt]))
        masked = chance >= MASKED
        side = self.masked_side() if masked.any() and len(X) else self
        if side is not self:
            return Identities.merged(masked, side.identify(X[masked]), self.identify(X[~masked], soft=soft[~masked]))
        # Masked faces with no masked side to go to are compared as bare ones, soft where they are.
        if soft.any():
            return Identities.merged(soft, self.soft_side().identify(X[soft]), self.identify(X[~soft]))
        if not len(X):
            return Identities.empty()
        if not len(self.labels):
            return Identities.nobody(len(X))
        return self._answer(X)

    def _answer(self, X: np.ndarray) -> Identities:
        """identify() for faces all weighed on this side: the likeliest person, named when their
        chance reaches the floor."""
        people = self._people()
        codes, dist = self._nearest_people(X)
        photos = people.photos[np.maximum(codes, 0)]
        p_people, p_stranger = self.odds.chances(dist, photos, len(people.names))
        best = p_people.argmax(axis=1)
        p_best = p_people[np.arange(len(X)), best]
        named = p_best >= self.probability_floor()
        if self._also_named_by is not None and self.threshold is None:
            # A soft side under the default floor: never names where a sharp face would not be.
            sharp = self._also_named_by
            named &= sharp.odds.chances(dist, photos, len(people.names))[0][np.arange(len(X)), best] \
                >= sharp.probability_floor()
        names = [people.names[codes[i, b]] if named[i] else UNKNOWN for i, b in enumerate(best)]
        return Identities(names, np.where(named, p_best, p_stranger), dist[:, 0])

    def log_weights(self, X) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
        """For faces X (N, D): their candidate people's codes (N, K; -1: none, codes index
        class_names), each one's log(prior x likelihood ratio) and the stranger's
        (AnswerOdds.log_weights), and their distances (N, K): the chances before they are normalised."""
        people = self._people()
        codes, dist = self._nearest_people(np.asarray(X, np.float32))
        weights, stranger = self.odds.log_weights(dist, people.photos[np.maximum(codes, 0)], len(people.names))
        return codes, weights, stranger, dist  # no candidate: distance inf, weight -inf

    def masked_side(self) -> "Gallery":
        """The gallery masked faces are named by: each enrolled face rendered masked (rows enrolled
        without their photos are left out), weighed with the model's masked-face statistics, so a
        probability and the default floor mean what they mean for bare faces, and compared through
        their projection (bench/masked_calibration.py: the directions a mask moves a face count less)."""
        from ..embedding.vectors import rendered_rows

        # A model facerec has not measured masked, or someone enrolled before renderings (or from a
        # faces file): masked faces are compared as bare ones, as before, rather than only with the
        # people who have renderings (a masked face of anyone else could then only be Unknown or one
        # of them).
        return self._side("masked", self.masked_embeddings, rendered_rows(self.masked_embeddings).all())

    def soft_side(self) -> "Gallery":
        """The gallery soft faces (too blurred to enrol) are named by: the same faces,
        weighed with the model's soft-face statistics (bench/soft_calibration.py), under which
        one person's faces come farther apart and strangers nearer: a soft face's probability and
        the default floor then mean what they mean for a sharp one.  Under the default floor a soft
        face is named only where a sharp one at the same distances would be too: the statistics
        make its answer honest, not its name likelier (bench/probability.py --soft: without this,
        a gallery of one person named 1.14% of soft strangers where weighing them as sharp named
        0.80%).  A floor the user gives is the chance alone, as for every face.  Itself for a
        model without them."""
        view = self._side("soft", self.embeddings, True)
        if view is not self:
            view._also_named_by = self
        return view

    def _side(self, kind: str, embeddings: np.ndarray, usable: bool) -> "Gallery":
        """A view of this gallery with these embeddings and the model's '-kind' statistics (itself
        where there are none, or not usable), made once per change of the gallery."""
        if kind not in self._views:
            from .openset import shipped

            view = Gallery(self.embedder_info, self.embeddings.shape[1], self.false_accept)
            view._stats = shipped(f"{self.embedder_info.get('name', '')}-{kind}")
            # Faces are compared as the statistics were measured: through their projection, if any.
            view.embeddings = embeddings if view._stats is None else view._stats.project(embeddings)
            view.labels, view.sources = list(self.labels), list(self.sources)
            view.masked_embeddings = self.masked_embeddings
            view.index_threshold = None
            self._views[kind] = view if view._stats is not None and usable else self
        view = self._views[kind]
        view.threshold = self.threshold
        return view

    def _index_wanted(self) -> bool:
        return self.index_threshold is not None and len(self.labels) >= self.index_threshold

    def _nearest_people(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The CANDIDATE_PEOPLE people nearest each face of X: their codes (-1: none) and the
        distances to their nearest photos (inf: none), nearest first."""
        from .odds import nearest_people

        X = self.stats.project(X)  # as the enrolled faces are kept (_side)
        people = self._people()
        index = self.index_keeper.ready(self.embeddings, self.index_library) if self._index_wanted() else None
        if index is None:
            return self._scan_people(X)
        # A few candidate faces from the index, ranked by their exact dot products.
        cand = index.search(X)
        sims = np.einsum("nd,nkd->nk", X, self.embeddings[np.maximum(cand, 0)])
        sims[cand < 0] = -np.inf
        codes, dist = nearest_people(sims, people.codes[np.maximum(cand, 0)], CANDIDATE_PEOPLE)
        lost = (cand < 0).all(axis=1)
        if lost.any():  # nothing found (only when nearly every face was forgotten): scan
            codes[lost], dist[lost] = self._scan_people(X[lost])
        return codes, dist

    def _scan_people(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """_nearest_people by comparing with every enrolled face (padded to CANDIDATE_PEOPLE)."""
        from .odds import people_similarity

        people = self._people()
        sims = people_similarity(X @ self.embeddings.T, people.codes, len(people.names))
        top = np.argsort(-sims, axis=1) if sims.shape[1] <= CANDIDATE_PEOPLE else \
            np.argpartition(-sims, CANDIDATE_PEOPLE - 1, axis=1)[:, :CANDIDATE_PEOPLE]
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(sims, top, 1), axis=1), 1)
        codes, dist = np.full((len(X), CANDIDATE_PEOPLE), -1), np.full((len(X), CANDIDATE_PEOPLE), np.inf)
        codes[:, :top.shape[1]] = top
        dist[:, :top.shape[1]] = np.sqrt(np.maximum(2 - 2 * np.take_along_axis(sims, top, 1), 0))
        return codes, dist

    # --- the model it belongs to -------------------------------------------------------------

    @property
    def model_spec(self) -> str:
        return self.embedder_info.get("spec") or "default"

    def check_model(self, embedder, source="the gallery") -> None:
        """Refuse an embedder other than the one the gallery's faces were embedded with."""
        if self.embedder_info.get("key") != embedder.key:
            raise FacerecError(f"{source} holds faces embedded with model '{self.model_spec}' "
                               f"({self.embedder_info.get('name')}); use that model, or enrol again")

    # --- files --------------------------------------------------------------------------------

    def save(self, path) -> None:
        """Write atomically as a NumPy archive (no pickle), and its index beside it when it has one."""
        from .gallery_file import write_gallery

        write_gallery(self, path)
        self.index_keeper.saved(Path(path), self.embeddings, self._index_wanted(), self.index_library)

    @classmethod
    def load(cls, path) -> "Gallery":
        """A gallery from a file; every field is checked before use, anything else is refused."""
        from .gallery_file import read_gallery

        meta, embeddings, masked = read_gallery(path)
        g = cls(meta["embedder"], meta["embedder"]["dim"], float(meta.get("false_accept", 0.01)))
        g.embeddings, g.labels, g.sources = embeddings, [_kept_form(n) for n in meta["labels"]], meta["sources"]
        g.masked_embeddings = masked
        g.index_keeper.file = Path(path)  # its index, if any, is read when first needed
        return g
