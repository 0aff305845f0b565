"""Where facerec keeps its files, and how it writes them without leaving half-written ones."""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from .errors import FacerecError


def file_digest(path, algorithm: str = "sha256") -> str:
    """Hex digest of a file's bytes, read in 1 MiB pieces."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_dir() -> Path:
    """$FACEREC_CACHE, else $XDG_CACHE_HOME/facerec, else ~/.cache/facerec (created)."""
    root = os.environ.get("FACEREC_CACHE")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "facerec")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path, data: bytes, fsync: bool = True) -> None:
    """Write data to path via a temporary file in the same folder and a rename.

    The rename means an interrupted process never leaves a half-written file; fsync also
    survives a power cut, at a cost too high for thousands of small face crops.
    """
    atomic_write(path, lambda f: f.write(data), fsync)


def unused_name(path) -> Path:
    """path, or when something is already there the first free NAME-2.EXT, NAME-3.EXT ...: for
    a file written under a default name the user did not choose, which must replace nothing."""
    first = candidate = Path(path)
    n = 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = first.with_name(f"{first.stem}-{n}{first.suffix}")
    return candidate


def temporary_beside(path, suffix: str = ".tmp") -> tuple[int, Path]:
    """A new hidden file beside path for writing it whole before a rename: (fd, its path).  It is
    named .NAME.PID.XXXX<suffix>, so the next write of path removes those a killed program left."""
    path = Path(path)
    remove_leftovers(path, suffix)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=suffix, dir=path.parent)
    return fd, Path(tmp)


def remove_leftovers(path, suffix: str = ".tmp") -> None:
    """Remove the temporary files of path (.NAME.PID.*<suffix>) whose program is no longer running."""
    import glob
    import re

    path = Path(path)
    if os.name == "nt":  # no cheap way to ask whether a pid runs: leave them
        return
    # Exactly .NAME.PID.XXXX<suffix>: .x.5.123.abc.tmp is x.5's, not x's.
    mine = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)(\.[A-Za-z0-9_]+)?{re.escape(suffix)}$")
    _remove_dead(path.parent.glob(f".{glob.escape(path.name)}.*{suffix}"), mine)


def remove_leftovers_under(folder, suffix: str = ".tmp") -> None:
    """remove_leftovers for every file under folder: after worker processes were stopped mid-write
    (a pool ended by Ctrl-C), when no one knows which files they were writing."""
    import re

    if os.name == "nt":  # no cheap way to ask whether a pid runs (os.kill would end it): leave them
        return
    # Exactly .NAME.PID.XXXXXXXX<suffix>, mkstemp's eight characters: not a user's own .x.tmp.
    theirs = re.compile(rf"^\..+\.(\d+)\.[a-z0-9_]{{8}}{re.escape(suffix)}$")
    _remove_dead(Path(folder).rglob(f".*{suffix}"), theirs)


def _remove_dead(candidates, pattern) -> None:
    """Remove each candidate whose name matches pattern and whose writer (the pid, its first
    group) no longer runs."""
    for leftover in candidates:
        match = pattern.match(leftover.name)
        if match and not _running(int(match.group(1))):
            try:
                leftover.unlink()
            except OSError:
                pass


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # running, as another user
        return True
    try:  # a killed program not yet reaped (a zombie) still answers kill(): it writes nothing more
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class CannotWrite(FacerecError, OSError):
    """A write the system refused (a full disk, a read-only folder ...): the file is as it was.
    Still an OSError, so a caller for whom a failed write only costs a later rebuild (an index, a
    model cache) goes on as before."""


def cannot_write(path, exc: OSError) -> CannotWrite:
    """The one message for a write the system refused."""
    return CannotWrite(f"cannot write {path}: {exc.strerror or exc}; nothing there was changed")


def atomic_write(path, write, fsync: bool = True) -> None:
    """atomic_write_bytes for a writer that streams: write(f) fills the open temporary file.
    A write the system refuses is a FacerecError (cannot_write), the file as it was."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = temporary_beside(path)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        os.chmod(tmp, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise cannot_write(path, exc) from None
        raise


@contextlib.contextmanager
def exclusive(path):
    """Hold an exclusive lock on path for the block, across processes: every program that changes
    the file takes it first, reads the file under it, and writes before letting go, so no one's
    change is lost to another's.  The lock is a hidden file beside it (``.NAME.lock``, left in
    place: it holds no data), and the system releases it if the program dies."""
    path = Path(path)
    lock = path.with_name(f".{path.name}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+b") as f:
        _lock(f.fileno())
        try:
            yield path
        finally:
            _unlock(f.fileno())


def _lock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError:  # LK_LOCK gives up after 10 s: keep waiting
                continue
    fcntl.flock(fd, fcntl.LOCK_EX)


def _unlock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(fd, fcntl.LOCK_UN)


def _same_file(a: Path, b: Path) -> bool:
    """One file under two names: the same resolved path (symlinks followed), or, when both
    exist, the same inode (hard links, case-insensitive file systems)."""

    def resolved(p: Path) -> str:
        try:
            return str(p.resolve())
        except (OSError, RuntimeError):  # a symlink loop: compare the names as written
            return os.path.abspath(p)

    if resolved(a) == resolved(b):
        return True
    try:
        sa, sb = a.stat(), b.stat()
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def refuse_output_over_input(output, inputs, option: str = "--output") -> None:
    """Raise FacerecError when the file an option would write is one of the inputs.

    inputs: paths, or (path, name) pairs whose name says what the path is ("the --source", "the
    classifier"); None entries are skipped.  Called before any work: a results file written over
    the video, photo or classifier it came from destroys the input, and the run cannot notice.
    An output merely inside an input folder is fine.
    """
    from .errors import FacerecError

    if output is None or str(output) == "":
        return
    out = Path(output).expanduser()
    for item in inputs:
        path, name = item if isinstance(item, tuple) else (item, "an input")
        if path is None or str(path) == "":
            continue
        if _same_file(out, Path(path).expanduser()):
            what = f"is also {name}" if str(path) == str(output) else f"is the same file as {name} {path}"
            raise FacerecError(f"{option} {output} {what}: refusing to write over it; choose another file")


def refuse_replacing_another_kind(path, is_ours, what: str, option: str) -> None:
    """Raise FacerecError when path exists and is not a file of the kind this command writes.

    A rerun may replace its own earlier output (a pairs file, a classifier); a photo, a document or
    another tool's file under that name is the user's, and writing over it would lose it with no
    way back.  is_ours(first_bytes) -> bool judges the file's first 4 kB.  Called before any work.
    """
    from .errors import FacerecError

    path = Path(path).expanduser()
    named = f"{option} {path}" if option else str(path)
    if path.is_dir():
        raise FacerecError(f"{named} is a folder; name the file to write")
    if path.exists() and not path.is_file():  # a pipe or a device: nothing to lose, and reading would wait
        return
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except (FileNotFoundError, NotADirectoryError):  # nothing there to lose (writing will say why it cannot)
        return
    except OSError as exc:
        raise FacerecError(f"{named}: cannot read what is there ({exc.strerror or exc})") from None
    if head and not is_ours(head):
        raise FacerecError(f"{named} exists and is not {what}: refusing to write over it; choose another file")


def refuse_outputs_over_inputs(outputs, paths, recognition=(), folder_files=()) -> None:
    """Several outputs at once.  outputs: (option, path, is_folder); paths: the photos and folders
    read; recognition: (path, name) of the gallery or classifier; folder_files: the names an
    output folder receives.  An output that is an input file is refused, as is a file output on an
    input folder; an output folder may be an input folder (it adds files)."""
    given = [(p, "the input folder" if Path(p).is_dir() else "an input photo") for p in paths]
    files = [(p, name) for p, name in given if name == "an input photo"] + list(recognition)
    written = []
    for option, out, folder in outputs:
        if not out:
            continue
        refuse_output_over_input(out, (files if folder else given + list(recognition)) + written, option)
        if folder:
            for name in folder_files:
                refuse_output_over_input(Path(out).joinpath(name), files, option)
        written.append((out, f"the {option}"))

