"""Import TensorFlow once, without the start-up chatter its C++ core writes to stderr."""
from __future__ import annotations

import os
import sys


def import_tensorflow():
    """Return the tensorflow module, silencing the C++ log lines printed while it loads."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Those lines come from absl before its logging is set up, straight to fd 2, so only
    # pointing fd 2 elsewhere for the duration of the import hides them.
    saved = None
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        saved = None
    try:
        import tensorflow as tf
    finally:
        if saved is not None:
            os.dup2(saved, 2)
            os.close(saved)
    tf.get_logger().setLevel("ERROR")
    return tf
