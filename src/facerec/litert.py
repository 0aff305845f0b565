"""Running a TFLite graph with little overhead per call: one interpreter per input shape."""
from __future__ import annotations

import threading
import warnings

import numpy as np

_QUIET = threading.Lock()  # one thread at a time silences warnings and stderr (see LiteNet._make)


def interpreter_class():
    try:  # the maintained TFLite runtime
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # TensorFlow's own copy, deprecated but present up to 2.21
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    return Interpreter


def quietly(build):
    """build() (making and allocating an interpreter) without the line LiteRT's C++ logs on stderr,
    "Created TensorFlow Lite XNNPACK delegate", once per process at allocate_tensors whatever
    TF_CPP_MIN_LOG_LEVEL says.  catch_warnings swaps one process-wide list: two threads inside it
    at once would leave "ignore every warning" behind when they leave out of order, so they take
    turns."""
    from .tensorflow_loader import quiet_output

    with _QUIET, warnings.catch_warnings(), quiet_output(fds=(2,)):
        warnings.simplefilter("ignore")
        return build()


class LiteNet:
    """One network behind TFLite interpreters.

    per_shape=True keeps an interpreter per input shape (P-Net: one per pyramid level of each
    image size, reused for every later image of that size).  per_shape=False keeps one
    interpreter and resizes it to each exact batch (R-Net, O-Net): shrinking within the arena
    already allocated is free, so no padding work is wasted on a rounded-up batch.  Such batches
    go in pieces of at most max_batch: the arena grows with the batch, and a large photo can
    send thousands of candidate boxes to R-Net (over 200 MB in one piece).
    """

    def __init__(self, model: bytes, threads: int, per_shape: bool = True, max_batch: int = 256):
        self.model, self.threads, self.per_shape, self.max_batch = model, threads, per_shape, max_batch
        # An interpreter is resized, filled and run in steps: two threads at once corrupt each
        # other's results (the public API shares one embedder between threads).
        self._lock = threading.RLock()
        self._cls = interpreter_class()
        self._by_shape = {}
        self._single = None
        self._single_shape = None

    def _make(self, shape):
        def build():
            interp = self._cls(model_content=self.model, num_threads=self.threads)
            inp = interp.get_input_details()[0]["index"]
            interp.resize_tensor_input(inp, list(shape), strict=False)
            interp.allocate_tensors()
            return interp, inp

        interp, inp = quietly(build)
        return interp, inp, interp.get_output_details()[0]["index"]

    def forget_shapes(self) -> None:
        """Drop the interpreters kept per shape (each holds an arena the size of its activations)."""
        self._by_shape.clear()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        with self._lock:
            return self._run(x)

    def _run(self, x: np.ndarray) -> np.ndarray:
        if not self.per_shape and len(x) > self.max_batch:
            return np.concatenate([self._run(x[i:i + self.max_batch]) for i in range(0, len(x), self.max_batch)])
        if self.per_shape:
            it = self._by_shape.get(x.shape)
            if it is None:
                if len(self._by_shape) > 64:  # many odd sizes (a folder of mixed photos): stay bounded
                    self._by_shape.clear()
                it = self._by_shape[x.shape] = self._make(x.shape)
        else:
            if self._single is None:
                self._single = self._make(x.shape)
            elif self._single_shape != x.shape:
                interp, inp, _ = self._single
                interp.resize_tensor_input(inp, list(x.shape), strict=False)
                interp.allocate_tensors()
            self._single_shape = x.shape
            it = self._single
        interp, inp, out = it
        interp.set_tensor(inp, np.ascontiguousarray(x, np.float32))
        interp.invoke()
        return interp.get_tensor(out).copy()  # the tensor is the arena's: the next call reuses it

