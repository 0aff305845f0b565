"""`facerec embed`: detect, align and embed every face of many photos into a Parquet file.

One per-batch function (BatchEmbedder: models loaded once, a batch of paths in, a table of faces
out) runs under two engines: ``local``, a pool of processes on this machine's cores, and ``ray``,
a Ray Data pipeline (paths -> map_batches on a pool of actors -> rows streamed back here), which
runs unchanged on a Ray cluster given its address.  Finished batches are written as parts at once,
so a killed run resumes where it stopped (faces_table).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from . import faces_table
from ..errors import FacerecError


class BatchEmbedder:
    """Loads the embedding model and MTCNN once; called with {"path": [...]} returns a table."""

    def __init__(self, model: str = "default", threads: int = 1):
        from ..detection import MTCNN
        from ..embedding import load_embedder
        from ..pipeline import FacePipeline

        self.embedder = load_embedder(model, threads=threads)
        # No embedding cache: the Parquet output is this command's record of what is done.
        self.pipeline = FacePipeline(self.embedder, MTCNN(threads=threads), cache=False)

    def _files(self, paths):
        return self.pipeline.files(paths, progress=False)

    def __call__(self, batch: dict):
        paths = [str(p) for p in batch["path"]]
        try:
            files = self._files(paths)
        except Exception:  # one file that breaks the batch must not lose the others: one at a time
            files = [self._one(p) for p in paths]
        return faces_table.table_of(files, faces_table.model_label(self.embedder), self.embedder.dim)

    def _one(self, path):
        from ..pipeline import FileFaces

        try:
            return self._files([path])[0]
        except Exception as exc:
            return FileFaces.failed(path, self.embedder.dim, f"failed: {type(exc).__name__}: {exc}"[:300])


@dataclass
class EmbedSummary:
    photos: int = 0
    skipped: int = 0        # already in the output
    faces: int = 0
    failed: int = 0         # photos with no face or unreadable
    rows: int = 0           # in the finished file
    seconds: float = 0.0

    @property
    def embedded(self) -> int:
        """Photos done in this run."""
        return self.photos - self.skipped

    @property
    def rate(self) -> float:
        """Photos embedded per second in this run."""
        return self.embedded / self.seconds if self.seconds else 0.0


def model_identity(model) -> tuple[str, int, str]:
    """(model column's value, dim, spec) of a model: an Embedder (a Recognizer's), or a spec loaded
    once here to check the output and shape the table.  The workers load their own from the spec."""
    from ..embedding import load_embedder

    e = load_embedder(model, threads=1) if isinstance(model, (str, os.PathLike)) else model
    return faces_table.model_label(e), e.dim, e.spec


def check_request(output, engine: str = "local", batch_size: int = 16, address: str | None = None) -> None:
    """Refuse what embed_photos would refuse, before any model loads or photo is read."""
    if engine not in ("local", "ray"):
        raise FacerecError(f"unknown engine '{engine}': use local or ray")
    if address and engine != "ray":
        raise FacerecError("--address is for --engine ray")
    if batch_size < 1:
        raise FacerecError(f"--batch-size {batch_size} must be at least 1")
    faces_table.check_output(output)
    if address:
        check_reachable(address)


REACH_SECONDS = 10.0  # how long a cluster's head may take to answer before embed gives up


def check_reachable(address: str, seconds: float = REACH_SECONDS) -> None:
    """Refuse a Ray address nothing answers at within seconds (Ray itself waits without end)."""
    import socket

    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if "://" in address or not port.isdigit():
        return  # ray://, auto and the like: Ray's own forms, checked by Ray
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as exc:
        raise FacerecError(f"--address {address}: no Ray head answers there ({exc.strerror or exc}); "
                           f"start one with: ray start --head --port {port}") from None


def embed_photos(photos, output, engine: str = "local", address: str | None = None, model="default",
                 workers: int | None = None, batch_size: int = 16, progress: bool = True) -> EmbedSummary:
    """Every face of photos into output (.parquet), skipping photos already there."""
    import time

    from ..progress import progress as progress_bar

    check_request(output, engine, batch_size, address)
    key, dim, spec = model_identity(model)
    seen = faces_table.done(output, key)
    # Absolute paths: a rerun from another folder finds its photos done, and Ray's workers (whose
    # working folder is not this one) can open them.
    photos = [os.path.abspath(p) for p in photos]
    todo = [p for p in photos if p not in seen]
    s = EmbedSummary(photos=len(photos), skipped=len(photos) - len(todo))
    t0 = time.perf_counter()
    bar = progress_bar(len(todo), "Photos", enabled=progress)
    run = _run_ray if engine == "ray" else _run_local
    for table in run(todo, spec, workers, batch_size, address):
        faces_table.write_part(output, table)
        n_photos = len(set(table.column("path").to_pylist()))
        bar.update(n_photos)
        no_face = table.column("face").null_count
        s.failed += no_face
        s.faces += table.num_rows - no_face
    bar.close()
    s.rows = faces_table.finish(output, dim)
    s.seconds = time.perf_counter() - t0
    return s


def _batches(paths, size):
    return [{"path": paths[i:i + size]} for i in range(0, len(paths), size)]


# --- local: a process per core, each with its own models ----------------------------------------

_WORKER = None


def _init_local(model: str) -> None:
    """A pool process's embedder; Ctrl-C is left to the parent, which ends the pool (a worker
    waiting for its next batch would otherwise print a KeyboardInterrupt traceback)."""
    global _WORKER
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER = BatchEmbedder(model, threads=1)


def _embed_local(batch):
    return _WORKER(batch)


def _run_local(paths, model, workers, batch_size, address):
    if address:
        raise FacerecError("--address is for --engine ray")
    if not paths:
        return
    workers = max(1, min(workers or os.cpu_count() or 1, -(-len(paths) // batch_size)))
    batches = _batches(paths, batch_size)
    if workers == 1:
        one = BatchEmbedder(model, threads=os.cpu_count() or 1)
        for b in batches:
            yield one(b)
        return
    import multiprocessing as mp

    # spawn: TensorFlow and LiteRT are not fork-safe once initialised.
    with mp.get_context("spawn").Pool(workers, initializer=_init_local, initargs=(model,)) as pool:
        yield from pool.imap_unordered(_embed_local, batches)


# --- ray: the same function on a pool of actors ----------------------------------------------------

def _actor_class(model: str):
    """BatchEmbedder for this model with no constructor arguments: Ray ships the class itself, so an
    actor restarted on another machine needs nothing from the object store."""
    class Embedder(BatchEmbedder):
        def __init__(self):
            super().__init__(model, threads=1)

    return Embedder


def _run_ray(paths, model, workers, batch_size, address):
    if not paths:
        return
    # Ray's own C++ and Python logs would interleave with facerec's bar and summary.
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise FacerecError("--engine ray needs Ray: pip install 'facerec[scale]'") from exc
    import logging

    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)
    started = not ray.is_initialized()
    if started:
        quiet = dict(log_to_driver=False, logging_level=logging.WARNING)
        try:
            if address:
                ray.init(address=address, **quiet)
            else:  # a private local Ray, sized to this machine (or to --workers)
                ray.init(num_cpus=workers or os.cpu_count() or 1, include_dashboard=False,
                         object_store_memory=256 << 20, **quiet)
        except Exception as exc:  # ConnectionError and Ray's own types
            hint = ("; a cluster started with token authentication (Ray's default since 2.59) needs "
                    "RAY_AUTH_MODE=token and its token (ray get-auth-token) in RAY_AUTH_TOKEN here"
                    if address and not os.environ.get("RAY_AUTH_MODE") else "")
            raise FacerecError(f"cannot start or reach Ray{f' at {address}' if address else ''}: "
                               f"{str(exc).splitlines()[0][:200]}{hint}") from None
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False
        blocks = -(-len(paths) // batch_size)
        size = min(blocks, workers or max(1, int(ray.cluster_resources().get("CPU", 1))))
        ds = ray.data.from_items([{"path": p} for p in paths], override_num_blocks=blocks)
        ds = ds.map_batches(_actor_class(model), batch_size=batch_size, batch_format="numpy",
                            compute=ray.data.ActorPoolStrategy(size=size), num_cpus=1)
        for table in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
            yield table
    finally:
        if started:
            ray.shutdown()
