"""Every face of a photo collection as one Parquet table (pyarrow): the output of `facerec embed`.

One row per face: path, face (its index in the photo), box, landmarks (five x,y pairs), score,
masked (the chance the face wears a mask), sharpness (of its aligned chip: under
detection.quality.SHARP it is soft, and weighed so when named), embedding and the model (its name and key, as
"dlib-resnet-v1 f886db739aa9dfe82267": files of facerec before 0.1 hold the key alone); a photo that gives no
face, or cannot be read, gets one row with face null and the reason in error.  Parquet because Ray, pandas, DuckDB and Spark read it as it is.

Work in progress goes to ``<output>.parts/`` one atomic part file at a time, so a killed run keeps
what it finished; ``finish`` folds the parts and any earlier output into the one file, atomically.
"""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np

from ..errors import FacerecError
from ..wording import brief

COLUMNS = ("path", "face", "box", "landmarks", "score", "masked", "sharpness", "embedding", "model", "error")


def _pa():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise FacerecError("Parquet files need pyarrow: pip install 'facerec[scale]'") from exc
    return pa, pq


def schema(dim: int):
    pa, _ = _pa()
    return pa.schema([("path", pa.string()), ("face", pa.int32()), ("box", pa.list_(pa.float32(), 4)),
                      ("landmarks", pa.list_(pa.float32(), 10)), ("score", pa.float32()),
                      ("masked", pa.float32()), ("sharpness", pa.float32()), ("embedding", pa.list_(pa.float32(), dim)),
                      ("model", pa.string()),
                      ("error", pa.string())])


def model_label(embedder) -> str:
    """The model column's value: the model's name for people, its key (weights and settings) for the checks."""
    return f"{embedder.name} {embedder.key}"


def _of_model(models: set, label: str) -> bool:
    """Whether a file's model values are all this model's (the label, or its key alone in older files)."""
    return not models - {label, label.rpartition(" ")[2]}


def table_of(files, label: str, dim: int):
    """A table from FileFaces (pipeline.FacePipeline.files' result): the per-batch result."""
    pa, _ = _pa()
    cols = {c: [] for c in COLUMNS}

    def row(path, face=None, box=None, landmarks=None, score=None, masked=None, sharpness=None, embedding=None,
            error=None):
        for c, v in zip(COLUMNS, (path, face, box, landmarks, score, masked, sharpness, embedding, label, error)):
            cols[c].append(v)

    def measured(values, k):  # NaN (not measured where the faces came from) is written as null
        return None if values is None or np.isnan(values[k]) else float(values[k])

    for ff in files:
        if ff.error or not len(ff):
            row(ff.path, error=ff.error or "no face found")
            continue
        for k in range(len(ff)):
            row(ff.path, k, ff.boxes[k].astype(np.float32).tolist(),
                ff.landmarks[k].astype(np.float32).reshape(-1).tolist(), measured(ff.scores, k), float(ff.masked[k]),
                measured(ff.sharpness, k), np.asarray(ff.embeddings[k], np.float32).tolist())
    return pa.Table.from_pydict(cols, schema=schema(dim))


def parts_dir(output) -> Path:
    output = Path(output)
    return output.with_name(output.name + ".parts")


def check_output(output) -> None:
    """Refuse an --output this module cannot write, before any work."""
    p = Path(output)
    if p.suffix.lower() != ".parquet":
        raise FacerecError(f"{p}: faces are written as Parquet (.parquet)")
    if p.is_dir():
        raise FacerecError(f"{p}: is a folder; give a file name ending in .parquet")


def _tables(output, columns=None) -> list:
    _, pq = _pa()
    paths = ([Path(output)] if Path(output).is_file() else []) + sorted(parts_dir(output).glob("part-*.parquet"))
    tables = []
    for p in paths:
        try:
            tables.append(pq.read_table(p, columns=columns))
        except Exception as exc:  # pyarrow raises its own types for damaged files
            if p.parent == parts_dir(output):
                continue  # a part is written atomically; a bad one is redone, not trusted
            raise FacerecError(f"{p}: not a readable Parquet file ({brief(exc)})") from None
    return tables


def done(output, label: str) -> set[str]:
    """Paths already in the output or its parts (for a rerun to skip), checked to be this model's."""
    seen: set[str] = set()
    try:  # only the two columns it needs: a million faces' embeddings stay on disk
        tables = _tables(output, ["path", "model"])
    except FacerecError:
        tables = _tables(output)  # a file without them: said below, in the words for that case
    for t in tables:
        if t.num_rows == 0:
            continue
        if "path" not in t.column_names or "model" not in t.column_names:
            raise FacerecError(f"{output}: not a faces file from facerec embed")
        models = set(t.column("model").to_pylist()) - {None}
        if not _of_model(models, label):
            raise FacerecError(f"{output}: holds faces of another model; give another --output "
                               f"(or the same --model)")
        seen.update(t.column("path").to_pylist())
    return seen


def write_part(output, table) -> Path:
    """One finished batch, atomically, as the next part file."""
    from ..files import atomic_write_bytes

    _, pq = _pa()
    folder = parts_dir(output)
    folder.mkdir(parents=True, exist_ok=True)
    n = len(list(folder.glob("part-*.parquet")))
    while (folder / f"part-{n:06d}.parquet").exists():
        n += 1
    buf = io.BytesIO()
    pq.write_table(table, buf)
    path = folder / f"part-{n:06d}.parquet"
    atomic_write_bytes(path, buf.getvalue(), fsync=False)
    return path


def _once_each(table):
    """One row per (path, face): a run killed after writing the output but before removing its
    parts leaves both, and the next run folds them together again."""
    keys = zip(table.column("path").to_pylist(), table.column("face").to_pylist())
    seen, keep = set(), []
    for i, key in enumerate(keys):
        if key not in seen:
            seen.add(key)
            keep.append(i)
    return table if len(keep) == table.num_rows else table.take(keep)


def finish(output, dim: int) -> int:
    """Fold the parts and any earlier output into output (sorted by path, face); returns its rows."""
    from ..files import atomic_write_bytes

    pa, pq = _pa()
    tables = [_as_schema(t, schema(dim)) for t in _tables(output) if t.num_rows]
    table = _once_each(pa.concat_tables(tables)) if tables else schema(dim).empty_table()
    if table.num_rows:
        table = table.sort_by([("path", "ascending"), ("face", "ascending")])
    buf = io.BytesIO()
    pq.write_table(table, buf)
    atomic_write_bytes(output, buf.getvalue())
    shutil.rmtree(parts_dir(output), ignore_errors=True)
    return table.num_rows


def _as_schema(table, wanted):
    """A table in this version's columns: one written before faces were checked for masks, or
    measured for sharpness, gets that column empty (unknown, not bare or sharp)."""
    pa, _ = _pa()
    for column in ("masked", "sharpness"):
        if column not in table.column_names:
            table = table.append_column(column, pa.nulls(table.num_rows, pa.float32()))
    return table.select(wanted.names).cast(wanted)


def _check_models(path, embedder, models: set, dim: int, unlabelled: list) -> None:
    """Refuse a faces file whose faces are not all of one known model, the embedder's if given."""
    if any(unlabelled):
        raise FacerecError(f"{path}: {sum(unlabelled)} faces have no model; not a faces file from facerec embed")
    if embedder is not None and not _of_model(models, model_label(embedder)):
        raise FacerecError(f"{path}: holds faces of another model than the one given (use that --model)")
    if embedder is not None and dim != embedder.dim:
        raise FacerecError(f"{path}: its embeddings are {dim}-d, the model's are {embedder.dim}-d")


def read_files(path, embedder=None):
    """The faces file as FileFaces, one per photo in file order (what FacePipeline.files gives), so
    clustering and enrolment work from it as from photos.  embedder, if given, must be the file's
    model (key and width); a photo whose embedding is not a finite unit vector is kept as an error."""
    from ..embedding.vectors import bad_rows
    from ..pipeline import FileFaces

    check_output(path)
    if not Path(path).is_file():
        raise FacerecError(f"{path}: faces file not found")
    t = _tables(path)[0]
    try:
        emb = t.column("embedding").combine_chunks()
        dim = emb.type.list_size
        models = set(t.column("model").to_pylist()) - {None}
        cols = {c: t.column(c).to_pylist() for c in ("path", "face", "error", "box", "landmarks", "score")}
        cols.update({c: [None] * t.num_rows if c not in t.column_names else t.column(c).to_pylist()
                     for c in ("masked", "sharpness")})  # files from before these columns
        vectors = np.asarray(emb.flatten(), np.float32).reshape(-1, dim)  # the non-null rows only
        valid = np.asarray(emb.is_valid())
        at = np.cumsum(valid) - 1  # a row's place among them
    except (KeyError, AttributeError, ValueError) as exc:
        raise FacerecError(f"{path}: not a faces file from facerec embed ({exc})") from None
    _check_models(path, embedder, models, dim, [m is None and f is not None
                                                for m, f in zip(t.column("model").to_pylist(), cols["face"])])
    broken = np.zeros(len(valid), bool)
    broken[valid] = bad_rows(vectors)
    by_path: dict = {}
    for i, p in enumerate(cols["path"]):
        by_path.setdefault(p, []).append(i)
    files = []
    for p, rows in by_path.items():
        if any(broken[i] for i in rows):
            files.append(FileFaces.failed(p, dim, "its embedding in the faces file is not a finite unit vector"))
            continue
        faces = sorted((i for i in rows if cols["face"][i] is not None and valid[i]), key=lambda i: cols["face"][i])
        files.append(_file_faces(p, faces, cols, vectors[at[faces]]) if faces else
                     FileFaces.failed(p, dim, cols["error"][rows[0]] or "no face found"))
    return files, models


def _file_faces(path, rows: list, cols: dict, vectors: np.ndarray):
    """One photo's FileFaces from its rows of the table's columns; a value not measured is NaN."""
    from ..pipeline import FileFaces

    def measured(column):
        return np.asarray([np.nan if cols[column][i] is None else cols[column][i] for i in rows], np.float32)

    return FileFaces(path, np.asarray([cols["box"][i] for i in rows], np.float32),
                     np.asarray([cols["landmarks"][i] for i in rows], np.float32).reshape(-1, 5, 2), vectors,
                     scores=measured("score"), masked=np.asarray([cols["masked"][i] or 0.0 for i in rows], np.float32),
                     sharpness=measured("sharpness"))
