"""Plain-data codec between the trusted grader and the untrusted worker.

Only plain data crosses the process boundary: ``None``, exact ``bool``/``int``/``float``/``str``, lists, tuples,
dicts with string keys, and NumPy arrays of a numeric dtype. Anything else is kept in the worker and named by a
handle. Decoding never executes code (no pickle), so a forged message can at worst carry wrong numbers.
"""
from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: dtype kinds accepted for arrays: bool, signed/unsigned int, float, complex.
NUMERIC_KINDS = frozenset("biufc")
MAX_DEPTH = 32


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
            arr = np.ascontiguousarray(arr)
            return {"__ndarray__": base64.b64encode(arr.tobytes()).decode("ascii"),
                    "dtype": arr.dtype.str, "shape": list(arr.shape)}
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
