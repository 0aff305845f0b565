"""Import TensorFlow once, and keep its chatter off the user's terminal."""
from __future__ import annotations

import contextlib
import os
import sys
import threading

# The descriptors and sys.stdout/stderr are process-wide: one quiet section at a time (MTCNN's
# helper thread creates interpreters while the caller's thread may be creating its own).
_QUIET = threading.RLock()


@contextlib.contextmanager
def quiet_output(fds=(1, 2)):
    """Send what is written to file descriptors 1 and 2, and to sys.stdout/sys.stderr, to
    /dev/null for the duration.

    TensorFlow's C++ core writes straight to the descriptors (absl before its logging is set up)
    and the TFLite converter prints, so both the descriptors and Python's streams are covered
    (Python's may be something else than the descriptors, as under pytest or redirect_stdout).
    """
    with _QUIET:
        with _quiet(fds):
            yield


@contextlib.contextmanager
def _quiet(fds):
    streams = [name for fd, name in ((1, "stdout"), (2, "stderr")) if fd in fds]
    saved, saved_streams = [], {name: getattr(sys, name) for name in streams}
    sink = open(os.devnull, "w")
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        devnull = os.open(os.devnull, os.O_WRONLY)
        for fd in fds:
            saved.append((fd, os.dup(fd)))
            os.dup2(devnull, fd)
        os.close(devnull)
    except OSError:
        pass
    for name in streams:
        setattr(sys, name, sink)
    try:
        yield
    finally:
        for name, stream in saved_streams.items():
            setattr(sys, name, stream)
        sink.close()
        for fd, copy in saved:
            os.dup2(copy, fd)
            os.close(copy)


def import_tensorflow():
    """Return the tensorflow module, silencing the C++ log lines printed while it loads."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with quiet_output(fds=(2,)):
        import tensorflow as tf
    tf.get_logger().setLevel("ERROR")
    return tf
