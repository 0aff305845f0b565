"""A program killed while writing leaves its temporary file; the next write of that file removes
it (issue 23, finding 11), and never one whose program still runs."""
import os
import signal
import subprocess
import sys
import textwrap

import pytest


def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


@pytest.mark.skipif(os.name == "nt", reason="leftovers are only cleaned where a pid can be asked about")
def test_the_next_write_removes_a_killed_writers_temporary_and_keeps_a_running_ones(tmp_path):
    from facerec.files import atomic_write_bytes

    target = tmp_path / "big.npz.index"
    dead = tmp_path / f".big.npz.index.{_dead_pid()}.x1y2.tmp"
    live = tmp_path / f".big.npz.index.{os.getpid()}.z3w4.tmp"
    other = tmp_path / f".other.npz.{_dead_pid()}.q.tmp"
    for f in (dead, live, other):
        f.write_bytes(b"half written")
    atomic_write_bytes(target, b"whole")
    assert target.read_bytes() == b"whole"
    assert not dead.exists() and live.exists() and other.exists()


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_a_writer_killed_mid_write_leaves_nothing_after_the_next_write(tmp_path):
    from facerec.files import atomic_write_bytes

    target = tmp_path / "g.npz"
    code = textwrap.dedent(f"""
        from facerec.files import atomic_write
        import time
        def write(f):
            f.write(b"x" * 1000)
            f.flush()
            print("writing", flush=True)
            time.sleep(60)
        atomic_write({str(target)!r}, write)
        """)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "writing"
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert [f.name for f in tmp_path.iterdir() if f.name.endswith(".tmp")]  # what a kill leaves
    atomic_write_bytes(target, b"whole")
    assert sorted(f.name for f in tmp_path.iterdir()) == ["g.npz"]


def test_another_files_temporary_is_never_taken_for_this_ones(tmp_path):
    from facerec.files import atomic_write_bytes

    theirs = tmp_path / f".x.5.{_dead_pid()}.abc.tmp"  # x.5's temporary: its pid is not 5
    theirs.write_bytes(b"x.5 being written")
    atomic_write_bytes(tmp_path / "x", b"whole")
    assert theirs.exists()


@pytest.mark.skipif(os.name == "nt", reason="leftovers are only cleaned where a pid can be asked about")
def test_a_folder_sweep_removes_stopped_workers_temporaries_at_any_depth_and_keeps_the_rest(tmp_path):
    """align ends its pool on Ctrl-C, which can stop a worker between its crop's temporary and the
    rename; the sweep after the pool is gone removes what it left (a CI run once found one)."""
    from facerec.files import remove_leftovers_under

    (tmp_path / "Eileen").mkdir()
    dead = tmp_path / "Eileen" / f".p13.png.{_dead_pid()}.m5c5nqob.tmp"
    live = tmp_path / "Eileen" / f".p14.png.{os.getpid()}.abcd1234.tmp"
    users = tmp_path / "Eileen" / "notes.tmp"  # not a temporary of ours: never touched
    for f in (dead, live, users):
        f.write_bytes(b"x")
    remove_leftovers_under(tmp_path)
    assert not dead.exists() and live.exists() and users.exists()
