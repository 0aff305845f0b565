"""Pure NumPy reader of dlib's binary serialisation (dlib/serialize.h, dlib/dnn/*.h).

dlib writes a network as nested C++ templates: each layer writes a version number, then its
whole sub-network (everything closer to the input), then its own details.  The layer *type* is
not in the file (dlib's own reader gets it from the C++ type), so the caller passes the layer
stack it expects and this reader checks every layer's details against it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class DlibFormatError(ValueError):
    """The bytes are not the dlib object we expected."""


class Reader:
    """Reads dlib's primitive encodings from a bytes buffer."""

    def __init__(self, data: bytes):
        self.data = memoryview(data)
        self.pos = 0

    def _take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise DlibFormatError(f"file ends early (wanted {n} bytes at offset {self.pos})")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def int(self) -> int:
        # A control byte (bit 7 = sign, low 4 bits = byte count), then the magnitude in
        # little-endian bytes. Unsigned values use the same layout with the sign bit clear.
        ctrl = self._take(1)[0]
        size = ctrl & 0x0F
        if size == 0 or size > 8 or (ctrl & 0x70):
            raise DlibFormatError(f"bad integer control byte 0x{ctrl:02x} at offset {self.pos - 1}")
        value = int.from_bytes(self._take(size), "little")
        if ctrl & 0x80:
            value = -value
        return value

    def uint(self) -> int:
        value = self.int()
        if value < 0:
            raise DlibFormatError(f"negative value {value} where dlib writes an unsigned one")
        return value

    def float(self) -> float:
        # float_details: a signed 64-bit mantissa then a 16-bit exponent, value = m * 2**e.
        if self.data[self.pos] & 0x70:
            raise DlibFormatError(f"old ASCII float encoding at offset {self.pos} is not supported")
        mantissa = self.int()
        exponent = self.int()
        if exponent == 32000:
            return float("inf")
        if exponent == 32001:
            return float("-inf")
        if exponent == 32002:
            return float("nan")
        return float(np.ldexp(float(mantissa), exponent))

    def bool(self) -> bool:
        ch = bytes(self._take(1))
        if ch not in (b"0", b"1"):
            raise DlibFormatError(f"bad bool byte {ch!r} at offset {self.pos - 1}")
        return ch == b"1"

    def string(self) -> str:
        n = self.uint()
        if n > 1024:
            raise DlibFormatError(f"implausible string length {n} at offset {self.pos}")
        return bytes(self._take(n)).decode("latin-1")

    def tensor(self) -> np.ndarray:
        version = self.int()
        if version != 2:
            raise DlibFormatError(f"unexpected tensor version {version} at offset {self.pos}")
        shape = tuple(self.int() for _ in range(4))
        if min(shape) < 0:
            raise DlibFormatError(f"negative tensor shape {shape} at offset {self.pos}")
        count = int(np.prod(shape))
        raw = self._take(4 * count)
        return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)

    def alias_tensor(self) -> tuple:
        version = self.int()
        if version != 1:
            raise DlibFormatError(f"unexpected alias_tensor version {version} at offset {self.pos}")
        return tuple(self.int() for _ in range(4))


@dataclass
class Layer:
    """One layer of a dlib network: its kind, its parameters and (for tags/skips) its id."""

    kind: str
    params: dict = field(default_factory=dict)
    tag: int | None = None


def _split(params: np.ndarray, *shapes: tuple) -> list:
    flat = params.reshape(-1)
    out, start = [], 0
    for shape in shapes:
        n = int(np.prod(shape))
        out.append(flat[start:start + n].reshape(shape))
        start += n
    if start != flat.size:
        raise DlibFormatError(f"parameter tensor has {flat.size} values, layout needs {start}")
    return out


def _skip_training_state(r: Reader, n_doubles: int) -> None:
    for _ in range(n_doubles):
        r.float()


_KINDS = {"con": "con", "affine": "affine", "bn_con": "affine", "relu": "relu", "max_pool": "max_pool",
          "avg_pool": "avg_pool", "add_prev": "add_prev", "fc": "fc"}


def read_details(r: Reader, expected: str) -> Layer:
    """Read one computational layer's details, checking it is of the expected kind."""
    name = r.string()
    base = name.rstrip("0123456789").rstrip("_")
    kind = _KINDS.get(base)
    if kind is None:
        raise DlibFormatError(f"unsupported dlib layer '{name}'")
    if kind != expected:
        raise DlibFormatError(f"found layer '{name}' where the network needs '{expected}'")
    if kind == "relu":
        return Layer("relu", dict(disabled=r.bool() if name == "relu_2" else False))
    if kind in ("max_pool", "avg_pool"):
        nr, nc = r.int(), r.int()
        stride_y, stride_x = r.int(), r.int()
        pad_y, pad_x = r.int(), r.int()
        return Layer(kind, dict(window=(nr, nc), stride=(stride_y, stride_x), padding=(pad_y, pad_x)))
    if kind == "add_prev":
        return Layer("add_prev")
    readers = {"con": _read_con, "affine": _read_bn_con if base == "bn_con" else _read_affine, "fc": _read_fc}
    return readers[kind](r, name)


def _read_con(r: Reader, name: str) -> Layer:
    params = r.tensor()
    num_filters = r.int()
    nr, nc = r.int(), r.int()
    stride_y, stride_x = r.int(), r.int()
    pad_y, pad_x = r.int(), r.int()
    filt_shape = r.alias_tensor()
    bias_shape = r.alias_tensor()
    _skip_training_state(r, 4)
    use_bias = r.bool() if name in ("con_5", "con_6") else True
    if name == "con_6":
        r.bool()  # use_relu: a fused relu flag only set by dlib's own graph optimiser
    if use_bias:
        filters, biases = _split(params, filt_shape, bias_shape)
    else:
        (filters,) = _split(params, filt_shape)
        biases = np.zeros((num_filters,), np.float32)
    return Layer("con", dict(filters=filters, biases=biases.reshape(-1),
                             kernel=(nr, nc), stride=(stride_y, stride_x), padding=(pad_y, pad_x)))


def _read_bn_con(r: Reader, name: str) -> Layer:
    """A batch-norm layer saved from training: its running statistics folded into the affine
    transform dlib itself uses at inference."""
    params = r.tensor()
    g_shape, b_shape = r.alias_tensor(), r.alias_tensor()
    gamma, beta = _split(params, g_shape, b_shape)
    r.tensor(); r.tensor()  # batch means and inverse std of the last training step
    running_means = r.tensor().reshape(-1)
    running_vars = r.tensor().reshape(-1)
    r.uint(); r.uint()
    _skip_training_state(r, 4)
    eps = r.float()
    g = gamma.reshape(-1) / np.sqrt(running_vars + eps)
    b = beta.reshape(-1) - g * running_means
    return Layer("affine", dict(gamma=g.astype(np.float32), beta=b.astype(np.float32)))


def _read_affine(r: Reader, name: str) -> Layer:
    params = r.tensor()
    g_shape, b_shape = r.alias_tensor(), r.alias_tensor()
    mode = r.int()
    disabled = r.bool() if name == "affine_2" else False
    gamma, beta = _split(params, g_shape, b_shape)
    if disabled:
        gamma, beta = np.ones_like(gamma), np.zeros_like(beta)
    return Layer("affine", dict(gamma=gamma.reshape(-1), beta=beta.reshape(-1), mode=mode))


def _read_fc(r: Reader, name: str) -> Layer:
    num_outputs, num_inputs = r.uint(), r.uint()
    params = r.tensor()
    w_shape, b_shape = r.alias_tensor(), r.alias_tensor()
    bias_mode = r.int()
    _skip_training_state(r, 4)
    use_bias = r.bool() if name == "fc_3" else True
    if bias_mode == 0 and use_bias:  # FC_HAS_BIAS
        weights, biases = _split(params, w_shape, b_shape)
    else:
        (weights,) = _split(params, w_shape)
        biases = None
    return Layer("fc", dict(weights=weights.reshape(num_inputs, num_outputs),
                            biases=None if biases is None else biases.reshape(-1)))


def _read_tensor_state(r: Reader, version: int) -> None:
    """Skip the training-time buffers every dlib layer node saves after its details."""
    r.bool(); r.bool(); r.bool()  # setup called, gradient stale, output disabled
    r.tensor(); r.tensor()        # x_grad, cached_output
    if version >= 2:
        r.tensor()                # params_grad / grad_final


def read_network(data: bytes, stack: list[tuple]) -> tuple[dict, dict, list[Layer]]:
    """Read a dlib network file.

    stack: the layers from the loss (first) to the input (last) as (kind,) or (kind, tag_id)
    tuples: ("loss_metric",), ("fc",), ("tag", 1), ("skip", 1), ("add_prev", 1), ...,
    ("input_rgb_image_sized",).  Returns (loss, input, layers from input to output).
    """
    r = Reader(data)
    loss = _read_loss(r, stack[0][0])
    body = stack[1:]
    if body[-1][0] not in INPUTS:
        raise DlibFormatError("the layer stack must end with its input layer")
    layers_out_to_in = body[:-1]
    versions = _read_versions(r, layers_out_to_in)
    inp = _read_input(r, body[-1][0])
    # Pass 2: details come back out from the innermost node to the outermost.
    layers = []
    for spec, v in zip(reversed(layers_out_to_in), reversed(versions)):
        kind = spec[0]
        if kind in ("tag", "skip"):
            layers.append(Layer(kind, tag=spec[1]))
            continue
        layer = read_details(r, kind)
        if kind == "add_prev":
            layer.tag = spec[1]
        _read_tensor_state(r, v)
        if v == 3 and len(layers) == 0:
            r.uint()  # _sample_expansion_factor of newer input nodes
        layers.append(layer)
    if r.pos != len(r.data):
        raise DlibFormatError(f"{len(r.data) - r.pos} unexpected bytes after the network")
    return loss, inp, layers


def _read_loss(r: Reader, expected: str) -> dict:
    if r.int() != 1:
        raise DlibFormatError("not a dlib network file (bad loss layer version)")
    loss_name = r.string()
    if not loss_name.startswith(expected):
        raise DlibFormatError(f"found loss '{loss_name}', expected '{expected}'")
    loss = {"name": loss_name}
    if loss_name == "loss_metric_2":
        loss["margin"], loss["distance_threshold"] = r.float(), r.float()
    elif loss_name == "loss_mmod_":
        loss.update(_read_mmod_options(r))
    elif loss_name != "loss_metric_":
        raise DlibFormatError(f"unsupported loss layer '{loss_name}'")
    return loss


def _read_mmod_options(r: Reader) -> dict:
    """A detector's options (dlib's mmod_options, version 1: one detection window)."""
    version = r.int()
    if version != 1:
        raise DlibFormatError(f"mmod options version {version}: only version 1 (one window) is supported")
    width, height = r.uint(), r.uint()
    r.float(); r.float()  # loss per false alarm and per missed target: training only
    iou = r.float()
    nms_iou, nms_covered = r.float(), r.float()
    r.float(); r.float()  # overlaps to ignore: training only
    return {"window": (height, width), "truth_match_iou": iou, "nms": (nms_iou, nms_covered)}


def _read_versions(r: Reader, layers_out_to_in: list) -> list[int]:
    """Pass 1: every node writes its version before recursing into its sub-network."""
    versions = []
    for i, spec in enumerate(layers_out_to_in):
        v = r.int()
        innermost = i == len(layers_out_to_in) - 1
        if spec[0] in ("tag", "skip"):
            if innermost:
                raise DlibFormatError("a tag or skip directly on the input is not supported")
            if v != 1:
                raise DlibFormatError(f"{spec[0]}{spec[1]} layer has version {v}, expected 1")
        elif innermost:
            if v not in (2, 3):
                raise DlibFormatError(f"input node has version {v}, expected 2 or 3")
        elif v not in (1, 2):
            raise DlibFormatError(f"layer {spec[0]} has version {v}, expected 1 or 2")
        versions.append(v)
    return versions


INPUTS = ("input_rgb_image_sized", "input_rgb_image_pyramid")


def _read_input(r: Reader, expected: str) -> dict:
    """The input layer, written by the innermost node: a fixed-size image (the descriptor), or an
    image pyramid (the detector; its mean colour only, in the file's oldest version)."""
    name = r.string()
    if name != expected:
        raise DlibFormatError(f"found input layer '{name}', expected {expected}")
    avg = (r.float(), r.float(), r.float())
    if name == "input_rgb_image_pyramid":
        return {"mean_rgb": avg}
    nr, nc = r.uint(), r.uint()
    return {"mean_rgb": avg, "size": (nr, nc)}
