"""Plain-data codec between the trusted grader and the untrusted worker.

Only plain data crosses the process boundary: ``None``, exact ``bool``/``int``/``float``/``str``, lists, tuples,
dicts with string keys, and NumPy arrays of a numeric dtype. Anything else is kept in the worker and named by a
handle. Decoding never executes code (no pickle), so a forged message can at worst carry wrong numbers.
"""
from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

#: dtype kinds accepted for arrays: bool, signed/unsigned int, float, complex.
NUMERIC_KINDS = frozenset("biufc")
MAX_DEPTH = 32

# Limits on one frame from the worker, checked before it is decoded: whatever the worker writes, the grader's
# memory stays bounded (a frame of this size decodes to well under 100 MB) and decoding cannot recurse deeply.
#: Bytes in one frame. The largest honest reply (a history, a few thousand parameters, a 10^5-point array as
#: base64) is under 2 MB; arrays of 10^6 points stay in the worker as handles.
MAX_FRAME_BYTES = 16 * 2**20
#: JSON nesting: each level of plain data (MAX_DEPTH) may take two JSON levels ({"__dict__": {...}}).
MAX_JSON_DEPTH = 2 * MAX_DEPTH + 8
#: Lists and objects in one frame, and separators (commas and colons): bounds the number of Python objects.
MAX_CONTAINERS = 200_000
MAX_ITEMS = 1_000_000
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKETS = bytes.maketrans(b"", b"")
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_OPEN_LIST, _OPEN_OBJECT = ord("["), ord("{")


class WireError(ValueError):
    """The data cannot cross the process boundary (not plain data, or a malformed message)."""


@dataclass(frozen=True)
class Handle:
    """Names an object that stays in the worker (a model, a bound method, ...)."""

    id: int
    type_name: str


def encode(value: Any, *, handle_of=None) -> Any:
    """Turn plain data into a JSON-able structure; ``handle_of(obj) -> Handle`` keeps other objects remote."""
    return _enc(value, handle_of, 0)


def _enc(v: Any, handle_of, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise WireError("data nested too deeply")
    t = type(v)
    if v is None or t is bool or t is str:
        return v
    if t is int:
        return v if abs(v) < 2**53 else {"__int__": str(v)}
    if t is float:
        return _enc_float(v)
    if isinstance(v, Handle):
        return {"__handle__": v.id, "type": v.type_name}
    if t is list:
        return [_enc(x, handle_of, depth + 1) for x in v]
    if t is tuple:
        return {"__tuple__": [_enc(x, handle_of, depth + 1) for x in v]}
    if t is dict and all(type(k) is str for k in v):
        return {"__dict__": {k: _enc(x, handle_of, depth + 1) for k, x in v.items()}}
    # NumPy scalars: np.float64 subclasses float, np.bool_ and np.int64 do not.
    if isinstance(v, np.generic) and v.dtype.kind in NUMERIC_KINDS and v.dtype.kind != "c":
        return _enc(v.item(), handle_of, depth + 1)
    if isinstance(v, np.ndarray):
        arr = np.asarray(v)
        if arr.dtype.kind in NUMERIC_KINDS:
            # ascontiguousarray makes a 0-d array 1-d: keep the shape the student's array had.
            shape = list(arr.shape)
            arr = np.ascontiguousarray(arr)
            return {"__ndarray__": base64.b64encode(arr.tobytes()).decode("ascii"),
                    "dtype": arr.dtype.str, "shape": shape}
    tensor = _torch_to_numpy(v)
    if tensor is not None:
        return _enc(tensor, handle_of, depth + 1)
    if handle_of is not None:
        return _enc(handle_of(v), handle_of, depth + 1)
    raise WireError(f"cannot send a {t.__module__}.{t.__qualname__} across the process boundary")


def _enc_float(x: float) -> Any:
    if math.isfinite(x):
        return x
    return {"__float__": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def _torch_to_numpy(v: Any):
    """A torch tensor as a NumPy array (detached, on the CPU), or None when v is not a tensor."""
    mod = type(v).__module__ or ""
    if not mod.startswith("torch"):
        return None
    import sys
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(v, torch.Tensor):
        return None
    return v.detach().cpu().numpy()


def decode(data: Any, *, resolve=None) -> Any:
    """Rebuild plain data from :func:`encode`'s output; ``resolve(Handle)`` maps handles back to objects."""
    return _dec(data, resolve, 0)


def _dec(d: Any, resolve, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise WireError("data nested too deeply")
    t = type(d)
    if d is None or t in (bool, int, float, str):
        return d
    if t is list:
        return [_dec(x, resolve, depth + 1) for x in d]
    if t is not dict or len(d) == 0:
        raise WireError(f"malformed message: {t.__name__}")
    if "__tuple__" in d:
        return tuple(_dec(x, resolve, depth + 1) for x in _expect(d["__tuple__"], list))
    if "__dict__" in d:
        items = _expect(d["__dict__"], dict)
        return {str(k): _dec(x, resolve, depth + 1) for k, x in items.items()}
    if "__float__" in d:
        return float(_expect(d["__float__"], str))
    if "__int__" in d:
        return int(_expect(d["__int__"], str))
    if "__ndarray__" in d:
        dtype = np.dtype(_expect(d["dtype"], str))
        if dtype.kind not in NUMERIC_KINDS or dtype.hasobject:
            raise WireError(f"array dtype {dtype} is not numeric")
        shape = tuple(int(n) for n in _expect(d["shape"], list))
        raw = base64.b64decode(_expect(d["__ndarray__"], str))
        if len(raw) != dtype.itemsize * math.prod(shape):
            raise WireError("array size does not match its shape")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if "__handle__" in d:
        h = Handle(int(d["__handle__"]), str(d.get("type", "object")))
        return resolve(h) if resolve is not None else h
    raise WireError("malformed message: unknown tag")


def _expect(v: Any, t: type) -> Any:
    if type(v) is not t:
        raise WireError(f"malformed message: expected {t.__name__}")
    return v


def dumps(message: Any) -> bytes:
    """One message as a single line of JSON bytes."""
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode() + b"\n"


def loads(line: bytes) -> Any:
    """Parse one line written by :func:`dumps` (already-encoded values stay encoded)."""
    return json.loads(line)


def loads_untrusted(frame: bytes) -> Any:
    """Parse one frame from the worker after checking its size, nesting and object count; raises
    :class:`WireError` for anything an honest worker never sends."""
    if len(frame) > MAX_FRAME_BYTES:
        raise WireError(f"a frame of {len(frame)} bytes (the limit is {MAX_FRAME_BYTES})")
    skeleton = _STRING.sub(b'""', frame)  # strings may hold any bracket; what is left is structure and numbers
    if skeleton.count(b"[") + skeleton.count(b"{") > MAX_CONTAINERS:
        raise WireError("a frame with too many lists or objects")
    if skeleton.count(b",") + skeleton.count(b":") > MAX_ITEMS:
        raise WireError("a frame with too many items")
    depth = deepest = 0
    for c in skeleton.translate(_BRACKETS, _NOT_BRACKETS):
        if c == _OPEN_LIST or c == _OPEN_OBJECT:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    raise WireError("a frame nested too deeply")
        else:
            depth -= 1
    try:
        return json.loads(frame)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise WireError(f"a frame that is not valid JSON ({str(exc)[:80]})") from None
