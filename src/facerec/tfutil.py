"""Import TensorFlow once, and keep its chatter off the user's terminal."""
from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def quiet_output(fds=(1, 2)):
    """Send what is written to file descriptors 1 and 2 to /dev/null for the duration.

    TensorFlow's C++ core and its converters write straight to the descriptors (absl before its
    logging is set up, the TFLite converter through print), so redirecting sys.stdout is not enough.
    """
    saved = []
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
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
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
